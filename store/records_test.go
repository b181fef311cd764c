package store

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestRecordsRoundTrip(t *testing.T) {
	now := time.Date(2026, 12, 6, 20, 1, 2, 3, time.UTC)
	msgs := []Message{
		{Time: now, Kind: 1, FromKey: "bob", From: "Bob", Text: "hello"},
		{Time: now, Kind: 7, Text: "server notice"},
		{Kind: 2, From: "日本", Text: "こんにちは"},
	}
	for _, m := range msgs {
		got, err := DecodeMessage(EncodeMessage(m))
		if err != nil || got != m {
			t.Errorf("message %+v: got %+v, %v", m, got, err)
		}
	}
	a := Account{Nick: "Bob", Hash: []byte("$2a$10$abc"), Created: now, LastSeen: now.Add(time.Hour), Oper: true}
	gotA, err := DecodeAccount(EncodeAccount(a))
	if err != nil || gotA.Nick != a.Nick || !bytes.Equal(gotA.Hash, a.Hash) || !gotA.Created.Equal(a.Created) ||
		!gotA.LastSeen.Equal(a.LastSeen) || gotA.Oper != a.Oper {
		t.Errorf("account: got %+v, %v", gotA, err)
	}
	o := Offline{Time: now, From: "Ann", Text: "call me"}
	if got, err := DecodeOffline(EncodeOffline(o)); err != nil || got != o {
		t.Errorf("offline: got %+v, %v", got, err)
	}
}

func TestRecordsRefuseDamage(t *testing.T) {
	good := EncodeMessage(Message{Time: time.Unix(1, 0), Kind: 1, FromKey: "bob", From: "bob", Text: "hi"})
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"newer version", append([]byte{RecordVersion + 1}, good[1:]...)},
		{"truncated", good[:len(good)-1]},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
		{"huge length", []byte{RecordVersion, 0, 1, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"not UTF-8", EncodeMessage(Message{Text: "\xff\xfe"})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeMessage(tt.b); !errors.Is(err, ErrBadRecord) {
				t.Errorf("DecodeMessage = %v, want ErrBadRecord", err)
			}
		})
	}
	if _, err := DecodeAccount(EncodeAccount(Account{Nick: "bob"})); !errors.Is(err, ErrBadRecord) {
		t.Errorf("account without hash: %v, want ErrBadRecord", err)
	}
	if _, err := DecodeAccount(append(EncodeAccount(Account{Nick: "b", Hash: []byte("h")})[:0:0], RecordVersion, 1, 'b', 1, 'h', 0, 0, 2)); !errors.Is(err, ErrBadRecord) {
		t.Errorf("account with bool 2: %v, want ErrBadRecord", err)
	}
}

func TestDecodeSanitizes(t *testing.T) {
	m, err := DecodeMessage(EncodeMessage(Message{From: "\x1b[31mbob", Text: "\x1b[2Jgone"}))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.ContainsRune([]byte(m.Text+m.From), 0x1b) {
		t.Errorf("escape kept: %+v", m)
	}
}

// FuzzDecodeRecords: the decoders never panic, and whatever they accept
// encodes back to a record they accept again with the same content.
func FuzzDecodeRecords(f *testing.F) {
	f.Add(EncodeMessage(Message{Time: time.Unix(5, 0), Kind: 1, FromKey: "bob", From: "Bob", Text: "hi"}))
	f.Add(EncodeAccount(Account{Nick: "bob", Hash: []byte("x"), Created: time.Unix(9, 0)}))
	f.Add(EncodeOffline(Offline{Time: time.Unix(7, 0), From: "ann", Text: "hello"}))
	f.Add([]byte{RecordVersion})
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := DecodeMessage(b); err == nil {
			again, err := DecodeMessage(EncodeMessage(m))
			if err != nil || again != m {
				t.Fatalf("message %+v re-decoded as %+v, %v", m, again, err)
			}
		}
		if a, err := DecodeAccount(b); err == nil {
			again, err := DecodeAccount(EncodeAccount(a))
			if err != nil || again.Nick != a.Nick || !bytes.Equal(again.Hash, a.Hash) {
				t.Fatalf("account %+v re-decoded as %+v, %v", a, again, err)
			}
		}
		if o, err := DecodeOffline(b); err == nil {
			again, err := DecodeOffline(EncodeOffline(o))
			if err != nil || again != o {
				t.Fatalf("offline %+v re-decoded as %+v, %v", o, again, err)
			}
		}
	})
}
