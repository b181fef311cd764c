package cluster_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"telchat/internal/servertest"
)

// TestClusterOrderSame: with -cluster-order stream, three servers show a
// room's lines from senders on every server in one order, the same for
// every reader, and each sender's in the order sent; a sender sees the
// others' lines in that order too.
func TestClusterOrderSame(t *testing.T) {
	const lines = 60
	ns := startNATS(t, t.TempDir(), -1)
	ids := []string{"A", "B", "C"}
	var senders, readers []*servertest.Client
	for _, id := range ids {
		n := startNodeWith(t, ns.ClientURL(), id, nodeOptions{timeout: 10 * time.Second, ordered: true})
		senders = append(senders, n.Login(t, "s"+strings.ToLower(id)))
		readers = append(readers, n.Login(t, "r"+strings.ToLower(id)))
	}
	all := append(append([]*servertest.Client{}, senders...), readers...)
	var nicks []string
	for _, c := range all {
		nicks = append(nicks, c.Nick)
	}
	for _, c := range all {
		waitWho(t, c, nicks...)
		c.Sync()
	}

	// Everyone reads until each other sender's end line.
	got := make([][]string, len(all))
	var wg sync.WaitGroup
	for i, c := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := len(senders)
			if i < len(senders) {
				want-- // not its own
			}
			for ends := 0; ends < want; {
				l, err := c.TryLine()
				if err != nil {
					t.Errorf("%s: %v after %d lines", c.Nick, err, len(got[i]))
					return
				}
				if !strings.HasPrefix(l, "<s") {
					continue
				}
				if strings.HasSuffix(l, "> end") {
					ends++
					continue
				}
				got[i] = append(got[i], l)
			}
		}()
	}
	var sent sync.WaitGroup
	for _, s := range senders {
		sent.Add(1)
		go func() {
			defer sent.Done()
			for i := range lines {
				s.Send(fmt.Sprintf("l%d", i))
			}
			s.Send("end")
		}()
	}
	sent.Wait()
	wg.Wait()
	if t.Failed() {
		return
	}

	ref := got[len(senders)] // the first reader's
	if len(ref) != len(senders)*lines {
		t.Fatalf("%s got %d lines, want %d", all[len(senders)].Nick, len(ref), len(senders)*lines)
	}
	next := map[string]int{}
	for _, l := range ref {
		from, text, _ := strings.Cut(strings.TrimPrefix(l, "<"), "> ")
		if want := fmt.Sprintf("l%d", next[from]); text != want {
			t.Fatalf("%s: %q where %s's %s was due", all[len(senders)].Nick, l, from, want)
		}
		next[from]++
	}
	for i, c := range all {
		want := ref
		if i < len(senders) {
			want = nil
			for _, l := range ref {
				if !strings.HasPrefix(l, "<"+c.Nick+"> ") {
					want = append(want, l)
				}
			}
		}
		if strings.Join(got[i], "\n") != strings.Join(want, "\n") {
			t.Errorf("%s saw another order than %s (%d lines, want %d)", c.Nick, all[len(senders)].Nick, len(got[i]), len(want))
		}
	}
}
