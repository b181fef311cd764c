package commands_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"telchat/hub"
	"telchat/internal/servertest"
	"telchat/store"
)

// TestRoomsIsPaged: /rooms lists 50 rooms a page, most members first, and
// says how to get the next one.
func TestRoomsIsPaged(t *testing.T) {
	topics := map[string]string{}
	for i := range 120 {
		topics[fmt.Sprintf("r%03d", i)] = "topic " + fmt.Sprint(i)
	}
	s := start(t, servertest.Config{Hub: hub.Config{State: store.State{Topics: topics}}})
	alice := s.Login(t, "alice")
	pages := []struct {
		arg        string
		head       string
		rooms      int
		first, end string
	}{
		{"", "*** 121 rooms, page 1 of 3 (most members first):", 50, "  #lobby (1)", "*** /rooms 2 for the next page"},
		{" 2", "*** 121 rooms, page 2 of 3 (most members first):", 50, "  #r049 (0) topic 49", "*** /rooms 3 for the next page"},
		{" 3", "*** 121 rooms, page 3 of 3 (most members first):", 21, "  #r099 (0) topic 99", ""},
	}
	for _, p := range pages {
		alice.Send("/rooms" + p.arg)
		if l := alice.Line(); l != p.head {
			t.Fatalf("/rooms%s: %q, want %q", p.arg, l, p.head)
		}
		for i := range p.rooms {
			l := alice.Line()
			if i == 0 && l != p.first {
				t.Fatalf("/rooms%s: first room %q, want %q", p.arg, l, p.first)
			}
			if !strings.HasPrefix(l, "  #") {
				t.Fatalf("/rooms%s: line %d is %q", p.arg, i, l)
			}
		}
		if p.end != "" {
			if l := alice.Line(); l != p.end {
				t.Fatalf("/rooms%s: %q, want %q", p.arg, l, p.end)
			}
		}
	}
	alice.Send("/rooms 4")
	alice.Expect("! No page 4: there are 3 pages")
	alice.Send("/rooms x")
	alice.Expect("! Usage: /rooms [PAGE]")
}

// TestWhoListsTheFirstNames: /who in a room of 130 lists the first 100
// names and counts the rest.
func TestWhoListsTheFirstNames(t *testing.T) {
	s := start(t, servertest.Config{Hub: hub.Config{AnnounceMax: 1}})
	var last *servertest.Client
	for i := range 130 {
		last = s.Login(t, fmt.Sprintf("u%03d", i))
	}
	last.Send("/who")
	l := last.Line()
	want := "*** 130 in #lobby: u000, u001, "
	if !strings.HasPrefix(l, want) || !strings.HasSuffix(l, ", u099, and 30 more") {
		t.Fatalf("/who: %.120q...%q; want %q...\"u099, and 30 more\"", l, l[max(0, len(l)-40):], want)
	}
}

// TestListingBudget: a chat user gets ten listings at once, then two a
// second: a run of listings sent at once is answered whole and in order,
// no sooner than the budget allows, and nothing is refused.
func TestListingBudget(t *testing.T) {
	s := start(t, servertest.Config{})
	alice := s.Login(t, "alice")
	const n = 15 // ten at once, five more at two a second: at least 2 s
	sent := time.Now()
	alice.Write([]byte(strings.Repeat("/who\n", n-1) + "/rooms\n/whois alice\n"))
	for i := range n - 1 {
		if l := alice.Line(); !strings.HasPrefix(l, "*** 1 in #lobby") {
			t.Fatalf("listing %d: %q", i+1, l)
		}
	}
	alice.Expect("*** 1 room:")
	if took, least := time.Since(sent), time.Duration(n-hub.ListingBurst)*time.Second/hub.ListingRate-time.Second/hub.ListingRate; took < least {
		t.Fatalf("%d listings answered in %v, sooner than the budget allows (%v)", n, took, least)
	}
	if l := alice.Line(); l != "  #lobby (1)" {
		t.Fatalf("/rooms: %q", l)
	}
	if l := alice.Line(); !strings.HasPrefix(l, "*** alice is in #lobby") { // in order after the listings
		t.Fatalf("after the listings: %q", l)
	}
}

// TestListingBudgetPerAddress: the users of one address share a budget of
// ten listings at once (five a second): more connections do not buy more.
func TestListingBudgetPerAddress(t *testing.T) {
	s := start(t, servertest.Config{})
	users := make([]*servertest.Client, 3)
	for i := range users {
		users[i] = s.LoginFrom(t, fmt.Sprintf("u%d", i), "127.4.0.1")
	}
	for _, u := range users {
		u.Sync() // the join lines
	}
	for _, u := range users { // 15 listings at once, 5 from each
		u.Write([]byte(strings.Repeat("/who\n", 5)))
	}
	answered, refused := 0, 0
	for _, u := range users {
		for range 5 {
			switch l := u.Line(); {
			case strings.HasPrefix(l, "*** 3 in #lobby"):
				answered++
			case l == "! Slow down: too many listings (/rooms, /who) from your address, try again in a second":
				refused++
			default:
				t.Fatalf("%s: %q", u.Nick, l)
			}
		}
	}
	// Ten at once, and a few more if the budget refilled meanwhile.
	if answered < 10 || refused < 2 {
		t.Fatalf("%d listings answered, %d refused; want 10 or a little more answered, the rest refused", answered, refused)
	}
	other := s.LoginFrom(t, "other", "127.4.0.2")
	other.Send("/who")
	other.Expect("*** 4 in #lobby")
}

// TestRoomShareByAddress: users from one address (127.3.0.1) create their
// 10 rooms; the 11th is refused while those exist, another address can
// still create one, and a room that empties gives its place back.
func TestRoomShareByAddress(t *testing.T) {
	s := start(t, servertest.Config{})
	var users []*servertest.Client
	for i := range 11 {
		u := s.LoginFrom(t, fmt.Sprintf("m%d", i), "127.3.0.1")
		u.Send(fmt.Sprintf("/join room%d", i))
		if i < 10 {
			u.Expect(fmt.Sprintf("You are now in #room%d", i))
		} else {
			u.Expect("! Too many rooms opened from your address (10); join one that exists (/rooms)")
			u.Send("/join room0") // an existing room is fine
			u.Expect("You are now in #room0")
		}
		users = append(users, u)
	}
	other := s.LoginFrom(t, "other", "127.3.0.2")
	other.Send("/join mine")
	other.Expect("You are now in #mine")
	users[5].Send("/part") // #room5 empties and is gone
	users[5].Expect("You are now in #lobby")
	users[5].Send("/join again")
	users[5].Expect("You are now in #again")
}
