package usertext

import (
	"unicode"
	"unicode/utf8"

	"go.mau.fi/util/emojirunes"
	"golang.org/x/text/unicode/rangetable"
)

// invisible holds the runes that render as nothing: the format characters
// (general category Cf: bidi controls, zero-width characters, BOM, tags,
// invisible operators), the other default-ignorable code points (combining
// grapheme joiner, blank Hangul fillers, Khmer inherent vowels, reserved
// ranges such as U+2065 and U+FFF0–U+FFF8) and the variation selectors.
// Together these are Unicode's Default_Ignorable_Code_Point set. Built once at
// package initialization and never modified.
var invisible = rangetable.Merge(unicode.Cf, unicode.Other_Default_Ignorable_Code_Point, unicode.Variation_Selector)

// Runes that [Sanitize] keeps in some contexts although they are invisible.
const (
	zwnj       = 0x200c  // ZERO WIDTH NON-JOINER
	zwj        = 0x200d  // ZERO WIDTH JOINER
	vs15       = 0xfe0e  // VARIATION SELECTOR-15, text presentation
	vs16       = 0xfe0f  // VARIATION SELECTOR-16, emoji presentation
	blackFlag  = 0x1f3f4 // WAVING BLACK FLAG, base of the subdivision flags
	tagCancel  = 0xe007f // CANCEL TAG, ends an emoji tag sequence
	maxTagSpec = 6       // longest tag spec of a flag, such as "gbsct"
)

// isBlank reports whether r is white space or renders as a blank cell:
// [Sanitize] turns it into one ASCII space. The C0 and C1 white-space
// controls (LF, CR, VT, FF, NEL) are controls and not handled here.
func isBlank(r rune) bool {
	switch {
	case r == ' ', r == '\t', r == 0xa0:
		return true
	case r == 0x2800, // BRAILLE PATTERN BLANK
		r == 0x1d159: // MUSICAL SYMBOL NULL NOTEHEAD
		return true
	case r < 0x1680 || r > 0x3000: // no other white space out there
		return false
	}
	return unicode.Is(unicode.White_Space, r)
}

// isPictographic reports whether r is an emoji, or a component of emoji
// such as a skin-tone modifier or a regional indicator, other than the
// joiner, the selectors, the keycap mark and the tags that only continue a
// sequence. The table is Unicode's emoji-test.txt, via go.mau.fi/util.
func isPictographic(r rune) bool {
	switch {
	case r == 0xa9, r == 0xae: // © ®, left out of the table with all of Latin-1
		return true
	case r < 0x2000, r == zwj, r == vs16, r == 0x20e3, r >= 0xe0020 && r <= tagCancel:
		return false
	}
	return emojirunes.Is(r)
}

// isEmojiBase reports whether an emoji presentation selector (VS15 or
// VS16) may follow r: an emoji or a keycap base (a digit, '#' or '*').
func isEmojiBase(r rune) bool {
	return '0' <= r && r <= '9' || r == '#' || r == '*' || isPictographic(r)
}

// keepInvisible says what [Sanitize] does with s, which starts with the
// invisible rune r, after last, the last rune written so far (0 if none):
// it keeps or drops the first n bytes of s (r, or a run of tags). Kept are the parts of emoji sequences (a zero-width
// joiner between emoji, VS15/VS16 after an emoji, a flag's tag sequence),
// the variation selectors of Han ideographs and Mongolian letters, and a
// joiner or non-joiner between two letters of a script that uses them
// (Arabic, Indic scripts). Elsewhere these are padding that renders as
// nothing.
func keepInvisible(r rune, s string, last rune) (n int, keep bool) {
	size := utf8.RuneLen(r)
	switch {
	case r == zwj || r == zwnj:
		next, _ := utf8.DecodeRuneInString(s[size:])
		if r == zwj && (isPictographic(last) || last == vs16 || last == tagCancel) && isPictographic(next) {
			return size, true
		}
		if joinsLetters(last, next) {
			return size, true
		}
	case r == vs15 || r == vs16:
		if isEmojiBase(last) || unicode.Is(unicode.Han, last) {
			return size, true
		}
	case r >= 0xfe00 && r <= 0xfe0d, r >= 0xe0100 && r <= 0xe01ef:
		if unicode.Is(unicode.Han, last) { // standardized and ideographic variants
			return size, true
		}
	case r >= 0x180b && r <= 0x180f && r != 0x180e: // Mongolian free variation selectors
		if unicode.Is(unicode.Mongolian, last) && unicode.IsLetter(last) {
			return size, true
		}
	case r >= 0xe0020 && r <= tagCancel:
		if n := tagSequenceLen(s); n > 0 && last == blackFlag {
			return n, true
		}
		return tagRunLen(s), false
	}
	return size, false
}

// tagRunLen returns the length in bytes of the run of tag characters at the
// start of s.
func tagRunLen(s string) int {
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r < 0xe0020 || r > tagCancel {
			break
		}
		i += size
	}
	return i
}

// joinsLetters reports whether a zero-width (non-)joiner between prev and
// next belongs to the text: prev is a letter or mark and next a visible
// letter, both of one script other than Latin.
func joinsLetters(prev, next rune) bool {
	if !unicode.IsLetter(next) || unicode.Is(invisible, next) {
		return false
	}
	if !unicode.IsLetter(prev) && !unicode.IsMark(prev) {
		return false
	}
	script := scriptOf(next)
	return script != "" && script != "Latin" && scriptOf(prev) == script
}

// tagSequenceLen returns the length in bytes of the emoji tag sequence at
// the start of s (the part of a subdivision flag such as England's after
// the black flag): 2 to maxTagSpec tag digits or lower-case tag letters and
// a CANCEL TAG. It returns 0 if s does not start with one.
func tagSequenceLen(s string) int {
	n := 0
	for i := 0; i < len(s) && n <= maxTagSpec; n++ {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == tagCancel:
			if n < 2 {
				return 0
			}
			return i
		case r >= 0xe0030 && r <= 0xe0039, r >= 0xe0061 && r <= 0xe007a:
		default:
			return 0
		}
	}
	return 0
}
