package message

import (
	"unicode"
	"unicode/utf8"
)

// NextWord finds the first word of text at or after byte from that could
// be a nickname: a run of letters, digits, '_' and '-'. It returns the
// word's byte range [start, end), or ok false when there is none. A
// message mentions a user when one of its words is the user's nickname.
func NextWord(text string, from int) (start, end int, ok bool) {
	start = -1
	for i := from; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			return start, i, true
		}
		i += size
	}
	if start >= 0 {
		return start, len(text), true
	}
	return 0, 0, false
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || r == '-' || '0' <= r && r <= '9' || 'a' <= r|0x20 && r|0x20 <= 'z'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}
