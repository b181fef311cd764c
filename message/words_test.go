package message

import (
	"reflect"
	"testing"
)

func TestNextWord(t *testing.T) {
	tests := []struct {
		text string
		want []string
	}{
		{"", nil},
		{"  ", nil},
		{"hi alice!", []string{"hi", "alice"}},
		{"bob_1-x: ça va?", []string{"bob_1-x", "ça", "va"}},
		{"@carol,dave", []string{"carol", "dave"}},
	}
	for _, tt := range tests {
		var got []string
		for i := 0; ; {
			s, e, ok := NextWord(tt.text, i)
			if !ok {
				break
			}
			got = append(got, tt.text[s:e])
			i = e
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: %q, want %q", tt.text, got, tt.want)
		}
	}
}
