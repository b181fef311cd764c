package store

// MarshalState returns the encoded form of s, as [Save] writes it to
// state.json, for stores that keep the state elsewhere (in one record). It
// validates s as Save does.
func MarshalState(s State) ([]byte, error) {
	return encodeState(s, MaxFileSize)
}

// UnmarshalState decodes and validates what [MarshalState] wrote, as
// [Load] does for state.json: every error wraps [ErrCorrupt], masks are
// normalized and text is sanitized. Expired bans are kept; the hub leaves
// them out.
func UnmarshalState(b []byte) (State, error) {
	return decodeState(b)
}
