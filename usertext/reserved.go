package usertext

import (
	"strings"

	"go.mau.fi/util/confusable"
	"golang.org/x/text/secure/precis"
)

// reservedMatchKind says how a nickname relates to the reserved names.
type reservedMatchKind uint8

const (
	matchNone      reservedMatchKind = iota
	matchExact                       // equal to a reserved name ignoring case
	matchLookalike                   // confusable with a reserved name
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
		}
		t.lookalike[confusable.Skeleton(name)] = true
	}
	return t
}

// reservedMatch compares a validated nickname (display form) and its
// uniqueness key with the reserved names.
func reservedMatch(display, key string) reservedMatchKind {
	folded := strings.ToLower(display)
	if f, err := precis.UsernameCaseMapped.String(display); err == nil {
		folded = f
	}
	if reservedForms.folded[folded] {
		return matchExact
	}
	if reservedForms.lookalike[key] ||
		reservedForms.lookalike[confusable.Skeleton(folded)] ||
		reservedForms.lookalike[looseKey(display)] {
		return matchLookalike
	}
	return matchNone
}

// looseKey maps s through the confusable skeleton and lower-casing until
// nothing changes (at most a few rounds). It is coarser than the TR39
// skeleton of the case-folded string: it also equates "r00t" with "root"
// (0 -> O -> o) and "ADMlN" with "ADMIN" (I -> l). It is only used to compare
// with the reserved names, where false positives are cheap.
func looseKey(s string) string {
	for range 4 {
		next := strings.ToLower(confusable.Skeleton(s))
		if next == s {
			break
		}
		s = next
	}
	return s
}
