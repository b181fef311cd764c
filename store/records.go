package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"telchat/usertext"
)

// RecordVersion is the encoding version [EncodeMessage], [EncodeAccount]
// and [EncodeOffline] write as each record's first byte. The decoders
// accept this version only; a newer program that changes a record keeps
// decoding the older versions.
const RecordVersion = 1

// MaxRecordText bounds each text field of a stored record, in bytes.
const MaxRecordText = 64 << 10

// ErrMailboxFull is a store's answer to an offline message for a user who
// has the most allowed waiting.
var ErrMailboxFull = errors.New("their offline mailbox is full")

// ErrAccountExists is a store's answer to creating an account whose
// nickname, or a look-alike of it, is registered already.
var ErrAccountExists = errors.New("that nickname is registered already")

// ErrNoAccount is a store's answer to changing an account that is not
// there (removed meanwhile, perhaps on another server).
var ErrNoAccount = errors.New("no such account")

// ErrUnavailable is wrapped by a store's errors when it cannot be reached
// for now (a cluster store whose link is down): the same request may work
// in a moment.
var ErrUnavailable = errors.New("the store cannot be reached right now")

// ErrBadRecord is wrapped by every error of the record decoders.
var ErrBadRecord = errors.New("bad stored record")

// Message is one line said in a room, as kept in the room's history.
type Message struct {
	// Time is when the hub handled it.
	Time time.Time
	// Kind is the hub's kind of message (message.Kind: chat, action, ...).
	Kind uint8
	// FromKey is the sender's nickname key ("" for a line no user said);
	// From the nickname as shown.
	FromKey, From string
	// Text is what was said.
	Text string
}

// Account is a registered nickname.
type Account struct {
	// Nick is the nickname as registered (its display form).
	Nick string
	// Hash is the bcrypt hash of the password.
	Hash []byte
	// Created is when the account was registered; LastSeen when its owner
	// last logged in.
	Created, LastSeen time.Time
	// Oper says that the account may use admin commands after logging in.
	Oper bool
}

// Offline is a private message kept for a registered user who was away.
type Offline struct {
	// Time is when it was sent.
	Time time.Time
	// From is the sender's nickname.
	From string
	// Text is the message.
	Text string
}

// EncodeMessage returns m's stored form.
func EncodeMessage(m Message) []byte {
	var e encoder
	e.time(m.Time)
	e.byte(m.Kind)
	e.str(m.FromKey)
	e.str(m.From)
	e.str(m.Text)
	return e.b
}

// DecodeMessage parses a record written by [EncodeMessage]. Text is passed
// through [usertext.Sanitize]: a damaged or edited file must not send
// escape codes to terminals.
func DecodeMessage(b []byte) (Message, error) {
	d := decoder{b: b}
	var m Message
	d.version()
	m.Time = d.time()
	m.Kind = d.byte()
	m.FromKey = d.str()
	m.From = usertext.Sanitize(d.str())
	m.Text = usertext.Sanitize(d.str())
	return m, d.finish("message")
}

// EncodeAccount returns a's stored form.
func EncodeAccount(a Account) []byte {
	var e encoder
	e.str(a.Nick)
	e.str(string(a.Hash))
	e.time(a.Created)
	e.time(a.LastSeen)
	e.boolean(a.Oper)
	return e.b
}

// DecodeAccount parses a record written by [EncodeAccount].
func DecodeAccount(b []byte) (Account, error) {
	d := decoder{b: b}
	var a Account
	d.version()
	a.Nick = d.str()
	a.Hash = []byte(d.str())
	a.Created = d.time()
	a.LastSeen = d.time()
	a.Oper = d.boolean()
	if d.err == nil && (a.Nick == "" || len(a.Hash) == 0) {
		d.err = errors.New("empty nickname or password hash")
	}
	return a, d.finish("account")
}

// EncodeOffline returns o's stored form.
func EncodeOffline(o Offline) []byte {
	var e encoder
	e.time(o.Time)
	e.str(o.From)
	e.str(o.Text)
	return e.b
}

// DecodeOffline parses a record written by [EncodeOffline]. Text is
// sanitized as for [DecodeMessage].
func DecodeOffline(b []byte) (Offline, error) {
	d := decoder{b: b}
	var o Offline
	d.version()
	o.Time = d.time()
	o.From = usertext.Sanitize(d.str())
	o.Text = usertext.Sanitize(d.str())
	return o, d.finish("offline message")
}

// encoder appends a record: the version byte, then each field (a time as a
// varint of Unix nanoseconds, 0 for the zero time; a string as its uvarint
// length and bytes; a bool as one byte).
type encoder struct{ b []byte }

func (e *encoder) init() {
	if e.b == nil {
		e.b = append(make([]byte, 0, 64), RecordVersion)
	}
}

func (e *encoder) time(t time.Time) {
	e.init()
	var n int64
	if !t.IsZero() {
		n = t.UnixNano()
	}
	e.b = binary.AppendVarint(e.b, n)
}

func (e *encoder) str(s string) {
	e.init()
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) byte(v uint8) {
	e.init()
	e.b = append(e.b, v)
}

func (e *encoder) boolean(v bool) {
	e.init()
	if v {
		e.b = append(e.b, 1)
	} else {
		e.b = append(e.b, 0)
	}
}

// decoder reads a record; the first error sticks and later reads return
// zero values.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) version() {
	if len(d.b) == 0 {
		d.err = errors.New("empty")
		return
	}
	if v := d.b[0]; v != RecordVersion {
		d.err = fmt.Errorf("version %d (this program reads %d)", v, RecordVersion)
		return
	}
	d.b = d.b[1:]
}

func (d *decoder) time() time.Time {
	if d.err != nil {
		return time.Time{}
	}
	n, k := binary.Varint(d.b)
	if k <= 0 {
		d.err = errors.New("truncated time")
		return time.Time{}
	}
	d.b = d.b[k:]
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func (d *decoder) str() string {
	if d.err != nil {
		return ""
	}
	n, k := binary.Uvarint(d.b)
	switch {
	case k <= 0:
		d.err = errors.New("truncated length")
		return ""
	case n > MaxRecordText || n > uint64(len(d.b)-k):
		d.err = fmt.Errorf("text of %d bytes: too long or truncated", n)
		return ""
	}
	s := string(d.b[k : k+int(n)])
	d.b = d.b[k+int(n):]
	if !utf8.ValidString(s) {
		d.err = errors.New("text is not UTF-8")
		return ""
	}
	return s
}

func (d *decoder) byte() uint8 {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = errors.New("truncated")
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) boolean() bool {
	if d.err != nil {
		return false
	}
	if len(d.b) == 0 || d.b[0] > 1 {
		d.err = errors.New("bad bool")
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

// finish returns the decoding error, if any, naming the kind of record.
func (d *decoder) finish(kind string) error {
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes after the last field", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadRecord, kind, d.err)
	}
	return nil
}
