package usertext

import "errors"

// Sentinel errors wrapped by the validation functions. Check with errors.Is.
var (
	// ErrEmpty means the name is empty after trimming white space.
	ErrEmpty = errors.New("usertext: empty")
	// ErrTooLong means the name has more characters than allowed.
	ErrTooLong = errors.New("usertext: too long")
	// ErrBadChar means the name contains a character that is not allowed.
	ErrBadChar = errors.New("usertext: character not allowed")
	// ErrReserved means the name is reserved for the server or its staff,
	// or looks like such a name.
	ErrReserved = errors.New("usertext: reserved name")
	// ErrConfusable means the name could be mistaken for another one: it
	// looks like a reserved name or it mixes writing systems such as Latin
	// and Cyrillic.
	ErrConfusable = errors.New("usertext: confusable name")
)

// validationError is an error whose message is a sentence meant for the user
// and which wraps one or more sentinels and, optionally, an underlying cause.
type validationError struct {
	msg     string
	wrapped []error
}

func newValidationError(msg string, wrapped ...error) error {
	return &validationError{msg: msg, wrapped: wrapped}
}

// Error returns the sentence meant for the user.
func (e *validationError) Error() string { return e.msg }

// Unwrap returns the wrapped sentinels and cause, for errors.Is and errors.As.
func (e *validationError) Unwrap() []error { return e.wrapped }
