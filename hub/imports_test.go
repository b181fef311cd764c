package hub

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestHubRendersNothing: the hub speaks messages; Telnet and rendering
// are the edge's business, so the hub's code imports neither.
func TestHubRendersNothing(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, is := range file.Imports {
			p, _ := strconv.Unquote(is.Path.Value)
			if p == "telchat/telnet" || p == "telchat/render" || p == "telchat/lineedit" {
				t.Errorf("%s imports %s", f, p)
			}
		}
	}
}
