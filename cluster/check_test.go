package cluster

import (
	"strings"
	"testing"
)

// TestCheckURLs: what -nats takes, and a one-line reason, without the
// credentials, for what it does not.
func TestCheckURLs(t *testing.T) {
	tests := []struct {
		urls string
		want string // "" for accepted, else a part of the error
	}{
		{"nats://127.0.0.1:4222", ""},
		{"127.0.0.1:4222", ""},
		{"nats://a:4222, nats://b:4222,", ""},
		{"tls://chat.example:4222,nats://u:pw@b", ""},
		{"NATS://a:1", ""},
		{"ws://a:8080,wss://b:443", ""},
		{"", "want nats://"},
		{" , ", "want nats://"},
		{"bogus://x:1", `"bogus://x:1" has the scheme "bogus"`},
		{"http://u:secret@x:1", `"http://***@x:1" has the scheme "http"`},
		{"not a url", "is not a URL"},
		{"nats://", "has no host"},
		{"nats://a:1,ws://b:2", "cannot be mixed"},
	}
	for _, tt := range tests {
		err := CheckURLs(tt.urls)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%q: %v, want accepted", tt.urls, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%q: %v, want an error with %q", tt.urls, err, tt.want)
		case err != nil && (strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "\n")):
			t.Errorf("%q: %q: credentials shown, or more than one line", tt.urls, err)
		}
	}
}

// TestRedact: user information (user and password, or a token) never
// shows in logs and messages.
func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nats://a:4222", "nats://a:4222"},
		{"nats://u:pw@a:4222,tls://tok@b:1", "nats://***@a:4222,tls://***@b:1"},
		{"tok@a:4222", "***@a:4222"},
		{"nats://a:1/x@y", "nats://a:1/x@y"},
	}
	for _, tt := range tests {
		if got := Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestCheckServerID: a server id is shown to users: printable, no spaces.
func TestCheckServerID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"chat1", true},
		{"chat1:2323", true},
		{"zürich-1", true},
		{"", false},
		{"a b", false},
		{"a\x1b[31mb", false},
		{"a\x07", false},
		{"\xff", false},
		{strings.Repeat("x", 64), true},
		{strings.Repeat("x", 65), false},
	}
	for _, tt := range tests {
		if err := CheckServerID(tt.id); (err == nil) != tt.ok {
			t.Errorf("%q: %v, want ok %v", tt.id, err, tt.ok)
		}
	}
}
