package hub_test

import (
	"strings"
	"testing"

	"github.com/syndication-hub/hub/hub"
)

func TestArchiveName(t *testing.T) {
	for _, c := range []struct {
		headline string
		version  int
		want     string
	}{
		{"Домогательства на работе — это преступление", 1, "Домогательства на работе — это преступление.zip"},
		{"Жұмыстағы қысым: не істеу керек?", 2, "Жұмыстағы қысым не істеу керек v2.zip"},
		{"  a/b\\c\t<d>  \"e\" |f*  ", 1, "a b c d e f.zip"},
		{"Ends with dots...", 1, "Ends with dots.zip"},
		{"con", 1, "01ARZ3NDEKTSV4RRFFQ69G5FAV.zip"},
		{"???", 3, "01ARZ3NDEKTSV4RRFFQ69G5FAV v3.zip"},
		{"", 1, "01ARZ3NDEKTSV4RRFFQ69G5FAV.zip"},
		{strings.Repeat("Сөз ", 40), 1, strings.TrimSpace(strings.Repeat("Сөз ", 20)) + ".zip"},
	} {
		p := &hub.Package{ID: "01ARZ3NDEKTSV4RRFFQ69G5FAV", Version: c.version}
		if c.headline != "" {
			p.Headlines = []hub.Text{{Value: c.headline}}
		}
		if got := hub.ArchiveName(p); got != c.want {
			t.Errorf("ArchiveName(%q) = %q, want %q", c.headline, got, c.want)
		}
	}
}
