package hub

import (
	"testing"
	"time"

	"telchat/message"
	"telchat/store"
)

// TestHasRecent: a stored line that a room's ring holds already (the same
// sender and text, recorded within seconds) is not loaded twice.
func TestHasRecent(t *testing.T) {
	now := time.Now()
	r := &Room{name: "den", key: "den"}
	m := r.record("ada", 10)
	*m = message.Message{Kind: message.Chat, From: "ada", Text: "hi", Time: now}
	tests := []struct {
		name string
		in   store.Message
		want bool
	}{
		{"same line, arrived later", store.Message{From: "ada", Text: "hi", Time: now.Add(-300 * time.Millisecond)}, true},
		{"same words long before", store.Message{From: "ada", Text: "hi", Time: now.Add(-time.Minute)}, false},
		{"other text", store.Message{From: "ada", Text: "ho", Time: now}, false},
		{"other sender", store.Message{From: "bob", Text: "hi", Time: now}, false},
	}
	for _, tt := range tests {
		if got := r.hasRecent(tt.in); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}
