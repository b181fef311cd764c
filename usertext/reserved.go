package usertext

import (
	"strings"
	"unicode"

	"go.mau.fi/util/confusable"
	"golang.org/x/text/secure/precis"
)

// reservedMatchKind says how a nickname relates to the reserved names.
type reservedMatchKind uint8

const (
	matchNone      reservedMatchKind = iota
	matchExact                       // a word of it is a reserved name, ignoring case
	matchLookalike                   // a word of it is confusable with a reserved name
)

// reservedForms holds, for every reserved name, the forms a nickname is
// compared with. Built once at package initialization and never modified.
var reservedForms = buildReservedForms()

type reservedTables struct {
	folded    map[string]bool // lower-case names
	lookalike map[string]bool // skeleton keys and loose keys of all case variants
}

func buildReservedForms() reservedTables {
	t := reservedTables{folded: map[string]bool{}, lookalike: map[string]bool{}}
	for _, name := range reservedNames {
		t.folded[name] = true
		title := strings.ToUpper(name[:1]) + name[1:]
		for _, v := range []string{name, strings.ToUpper(name), title} {
			t.lookalike[looseKey(v)] = true
			t.lookalike[looseUnicodeKey(v)] = true
		}
		t.lookalike[confusable.Skeleton(name)] = true
	}
	return t
}

// reservedMatch compares a validated nickname (display form) and its
// uniqueness key with the reserved names. The whole name is compared, and
// so is each of its words: the parts between '_' and '-', without trailing
// digits, each also without a plural 's'. So "Server_", "admin2",
// "the-admin", "admins" and "r00t_" are reserved as well as "admin".
func (r NickRules) reservedMatch(display, key string) reservedMatchKind {
	found := matchNone
	if reservedForms.lookalike[key] {
		found = matchLookalike
	}
	for _, word := range reservedCandidates(display) {
		switch r.matchWord(word) {
		case matchExact:
			return matchExact
		case matchLookalike:
			found = matchLookalike
		}
	}
	return found
}

// matchWord compares one word of a nickname with the reserved names.
func (r NickRules) matchWord(word string) reservedMatchKind {
	folded := strings.ToLower(word)
	if f, err := precis.UsernameCaseMapped.String(word); err == nil {
		folded = f
	}
	if reservedForms.folded[folded] {
		return matchExact
	}
	if reservedForms.lookalike[confusable.Skeleton(folded)] ||
		reservedForms.lookalike[looseKey(word)] ||
		r.Unicode && reservedForms.lookalike[looseUnicodeKey(word)] {
		return matchLookalike
	}
	return matchNone
}

// reservedCandidates returns the words of a nickname that are compared with
// the reserved names: the whole name, and each part between '_' and '-'
// without its trailing digits; each of these also without one trailing
// 's' or 'S' (a plural) when something remains.
func reservedCandidates(display string) []string {
	words := []string{display}
	for part := range strings.FieldsFuncSeq(display, func(c rune) bool { return c == '_' || c == '-' }) {
		if part = strings.TrimRightFunc(part, unicode.IsDigit); part != "" {
			words = append(words, part)
		}
	}
	for _, w := range words {
		if len(w) > 2 && (w[len(w)-1] == 's' || w[len(w)-1] == 'S') {
			words = append(words, w[:len(w)-1])
		}
	}
	return words
}
