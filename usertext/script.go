package usertext

import (
	"slices"
	"unicode"
)

// scriptOf returns the name of the Unicode script of r ("Latin",
// "Cyrillic", ...), or "" for Common, Inherited and unassigned runes.
func scriptOf(r rune) string {
	if r < 0x80 {
		if unicode.IsLetter(r) {
			return "Latin"
		}
		return ""
	}
	for name, table := range unicode.Scripts {
		if unicode.Is(table, r) {
			if name == "Common" || name == "Inherited" {
				return ""
			}
			return name
		}
	}
	return ""
}

// compatibleScripts lists the sets of scripts other than Latin that are
// written together (UTS #39 "highly restrictive" level).
var compatibleScripts = [...][]string{
	{"Han", "Hiragana", "Katakana"},
	{"Han", "Hangul"},
	{"Han", "Bopomofo"},
}

// latinCompatibleScripts are the scripts that may appear together with
// Latin in one nickname.
var latinCompatibleScripts = []string{"Han", "Hiragana", "Katakana", "Hangul", "Bopomofo"}

// mixesScripts reports whether s uses letters of scripts that are not
// normally written together, such as Latin and Cyrillic.
func mixesScripts(s string) bool {
	hasLatin := false
	var scripts []string // scripts other than Latin, each once
	for _, r := range s {
		switch name := scriptOf(r); {
		case name == "Latin":
			hasLatin = true
		case name != "" && !slices.Contains(scripts, name):
			scripts = append(scripts, name)
		}
	}
	if hasLatin && !containsAll(latinCompatibleScripts, scripts) {
		return true
	}
	if len(scripts) <= 1 {
		return false
	}
	for _, set := range compatibleScripts {
		if containsAll(set, scripts) {
			return false
		}
	}
	return true
}

func containsAll(set, items []string) bool {
	for _, it := range items {
		if !slices.Contains(set, it) {
			return false
		}
	}
	return true
}
