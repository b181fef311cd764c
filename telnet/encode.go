package telnet

// AppendText appends s encoded for the wire: "\n" -> CR LF, "\r\n" -> CR LF, a lone "\r" ->
// CR NUL, 0xFF -> IAC IAC. Every other byte is copied unchanged, so s should already be
// sanitized text.
func AppendText(dst []byte, s string) []byte {
	start := 0 // s[start:i] is copied unchanged
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\n' && c != '\r' && c != IAC {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch {
		case c == '\n':
			dst = append(dst, '\r', '\n')
		case c == '\r' && i+1 < len(s) && s[i+1] == '\n':
			dst = append(dst, '\r', '\n')
			i++
		case c == '\r':
			dst = append(dst, '\r', 0)
		default:
			dst = append(dst, IAC, IAC)
		}
		start = i + 1
	}
	return append(dst, s[start:]...)
}
