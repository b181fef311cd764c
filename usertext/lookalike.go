package usertext

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"go.mau.fi/util/confusable"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/unicode/rangetable"
)

// looseKey maps s through the confusable skeleton and lower-casing until
// nothing changes (at most a few rounds). It is coarser than the TR39
// skeleton of the case-folded string: it also equates "r00t" with "root"
// (0 -> O -> o), "ADMlN" with "ADMIN" (I -> l), "aIice" with "alice" and
// "rn" with "m".
func looseKey(s string) string {
	for range 4 {
		next := strings.ToLower(confusable.Skeleton(s))
		if next == s || next == "" { // "": the table maps a few runes to nothing
			break
		}
		s = next
	}
	return s
}

// looseUnicodeKey is looseKey for Unicode nicknames: it also removes
// nonspacing and enclosing marks, before and after each skeleton (which
// turns "ø" into "o" plus an overlay mark), so that "ādmin" and "rööt"
// look like "admin" and "root".
func looseUnicodeKey(s string) string {
	for range 4 {
		next := stripMarks(strings.ToLower(confusable.Skeleton(stripMarks(s))))
		if next == s || next == "" { // "": the table maps a few runes to nothing
			break
		}
		s = next
	}
	return s
}

// caseFreeKey is the key behind [NickRules.Lookalike]. Nicknames are
// unique regardless of case and each user picks the case shown, so it
// compares both the lower-case and the capital forms by their confusable
// skeletons: "aIice", "a1ice", "AL1CE" and "alice" share a key ("I" and "1"
// look like "l"), so do "b0b" and "bob", "rn" and "m", and with marks
// stripped (unicode) "alicé", "alice̲" and "alice", or "ƅob" and "bob" (the
// capital of "ƅ" is "Ƅ", a look-alike of "B").
func caseFreeKey(s string, unicode bool) string {
	strip := func(s string) string { return s }
	if unicode {
		strip = stripMarks
	}
	for range 4 {
		next := strip(strings.ToLower(confusable.Skeleton(strings.ToLower(strip(s)))))
		next = strip(strings.ToLower(confusable.Skeleton(strings.ToUpper(next))))
		if next == s || next == "" { // "": the table maps a few runes to nothing
			break
		}
		s = next
	}
	return s
}

// stripMarks returns s without nonspacing and enclosing marks, after
// canonical decomposition: "é" becomes "e".
func stripMarks(s string) string {
	if isASCII(s) {
		return s
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(marks)), norm.NFC)
	out, _, err := transform.String(t, s)
	if err != nil {
		return s
	}
	return out
}

// marks holds the nonspacing and enclosing marks that stripMarks removes.
// Built once at package initialization and never modified.
var marks = rangetable.Merge(unicode.Mn, unicode.Me)

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
