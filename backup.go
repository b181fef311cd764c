package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"time"

	"telchat/store"
	"telchat/store/boltstore"
)

// backupTimeout bounds a backup through the admin socket.
const backupTimeout = 10 * time.Minute

// backup runs "telchat backup [-data-dir DIR] [-admin-socket PATH] FILE":
// a consistent copy of the store in FILE. With -admin-socket the running
// server writes it (bbolt's snapshot from a read transaction, while chat
// goes on); without, the data directory must not be in use, and the copy
// is made here.
func backup(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("telchat backup", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dataDir := fs.String("data-dir", "./data", "the server's data directory")
	sock := fs.String("admin-socket", "", "the running server's admin socket")
	if err := fs.Parse(args); err != nil {
		return usageError{fmt.Errorf("%w (usage: telchat backup [-data-dir DIR] [-admin-socket PATH] FILE)", err)}
	}
	if fs.NArg() != 1 {
		return usageError{errors.New("want one FILE (usage: telchat backup [-data-dir DIR] [-admin-socket PATH] FILE)")}
	}
	file, err := filepath.Abs(fs.Arg(0))
	if err != nil {
		return err
	}
	if *sock != "" {
		return backupThroughSocket(*sock, file, out)
	}
	release, err := store.Lock(*dataDir)
	if errors.Is(err, store.ErrLocked) {
		return fmt.Errorf("%w: the server is running; give its -admin-socket (or type backup FILE on its console)", err)
	}
	if err != nil {
		return err
	}
	defer release()
	n, err := boltstore.BackupFile(boltstore.Path(*dataDir), file)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Backup written to %s (%d bytes)\n", file, n)
	return nil
}

// backupThroughSocket asks the server behind the admin socket for the
// backup and prints its answer.
func backupThroughSocket(path, file string, out io.Writer) error {
	c, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(backupTimeout))
	if _, err := fmt.Fprintf(c, "backup %s\n", file); err != nil {
		return fmt.Errorf("admin socket: %w", err)
	}
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("admin socket: no answer: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "*** Backup written"):
			fmt.Fprintln(out, strings.TrimPrefix(line, "*** "))
			return nil
		case strings.HasPrefix(line, "! "):
			return errors.New(strings.TrimPrefix(line, "! "))
		}
	}
}
