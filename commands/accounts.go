package commands

import (
	"fmt"
	"strings"

	"telchat/hub"
)

// accounts runs /accounts: every account with its last login.
func accounts(x *hub.Ctx, _ []string) error {
	list, err := x.Accounts()
	if err != nil {
		return err
	}
	lines := make([]string, 0, len(list)+1)
	lines = append(lines, "*** "+plural(len(list), "account", "accounts")+" (times in UTC):")
	for _, a := range list {
		line := fmt.Sprintf("  %s  registered %s, last seen %s", a.Nick, a.Created.UTC().Format("2006-01-02 15:04"), a.LastSeen.UTC().Format("2006-01-02 15:04"))
		if a.Oper {
			line += " [operator]"
		}
		lines = append(lines, line)
	}
	x.Reply(lines...)
	return nil
}

// opers runs /opers add|del NICK.
func opers(x *hub.Ctx, a []string) error {
	switch strings.ToLower(a[0]) {
	case "add":
		return x.SetOper(a[1], true)
	case "del", "remove":
		return x.SetOper(a[1], false)
	}
	return ErrUsage
}

// purge runs /purge NICK [DURATION].
func purge(x *hub.Ctx, a []string) error {
	d, err := lastDuration(a, 2)
	if err != nil {
		return err
	}
	return x.Purge(a[0], d)
}
