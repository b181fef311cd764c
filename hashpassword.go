package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"
)

// hashPasswordHelp is the help of "telchat hash-password".
const hashPasswordHelp = `Usage: telchat hash-password > admin.hash

Reads the admin password and prints its bcrypt hash, for -admin-password-file
(chat users then become admins with /oper PASSWORD).

On a terminal it asks for the password twice, without echo, and refuses two
that differ. Otherwise it reads the first line of standard input:
  printf '%s\n' "$PASSWORD" | telchat hash-password > admin.hash
The password must be 1 to 72 bytes.
`

// hashPasswordCommand runs "telchat hash-password ARGS" and returns the
// exit status: 0, 1 when no hash was made, 2 for a usage error.
func hashPasswordCommand(args []string, in *os.File, out, errw io.Writer) int {
	fs := flag.NewFlagSet("telchat hash-password", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, _ = io.WriteString(out, hashPasswordHelp)
			return 0
		}
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
			msg = "unknown flag " + name
		}
		fmt.Fprintf(errw, "telchat hash-password: %s (telchat hash-password -h explains it)\n", msg)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(errw, "telchat hash-password: unexpected argument %q: the password is read from the terminal or standard input, never the command line (telchat hash-password -h explains it)\n", fs.Arg(0))
		return 2
	}
	if err := hashPassword(in, out, errw); err != nil {
		fmt.Fprintln(errw, "telchat hash-password:", err)
		return 1
	}
	return 0
}

// errPasswordsDiffer is the answer to two different passwords typed on a
// terminal.
var errPasswordsDiffer = errors.New("the two passwords differ; nothing was written, try again")

// hashPassword reads a password and prints its bcrypt hash to out. On a
// terminal it asks twice without echo (prompts on errw) and refuses a
// mismatch; otherwise it reads the first line of in.
func hashPassword(in *os.File, out, errw io.Writer) error {
	var pw []byte
	if fd := int(in.Fd()); term.IsTerminal(fd) {
		ask := func(prompt string) ([]byte, error) {
			restore, err := echoOff(fd) // before the prompt shows
			if err != nil {
				return nil, err
			}
			defer restore()
			fmt.Fprint(errw, prompt)
			b, err := term.ReadPassword(fd)
			fmt.Fprintln(errw)
			if err != nil {
				return nil, fmt.Errorf("reading the password: %w", err)
			}
			return b, nil
		}
		first, err := ask("Password: ")
		if err != nil {
			return err
		}
		if err := checkPasswordLength(first); err != nil {
			return err
		}
		second, err := ask("Again: ")
		if err != nil {
			return err
		}
		if !bytes.Equal(first, second) {
			return errPasswordsDiffer
		}
		pw = first
	} else {
		b, err := io.ReadAll(io.LimitReader(in, 1024))
		if err != nil {
			return fmt.Errorf("reading the password: %w", err)
		}
		pw, _, _ = bytes.Cut(b, []byte("\n"))
		pw = bytes.TrimRight(pw, "\r")
	}
	if err := checkPasswordLength(pw); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword(pw, bcrypt.DefaultCost)
	if err != nil {
		return fmt.Errorf("hashing: %w", err)
	}
	_, err = fmt.Fprintln(out, string(hash))
	return err
}

// checkPasswordLength refuses what bcrypt cannot hash faithfully.
func checkPasswordLength(pw []byte) error {
	if len(pw) == 0 || len(pw) > 72 {
		return fmt.Errorf("the password must be 1 to 72 bytes, not %d", len(pw))
	}
	return nil
}
