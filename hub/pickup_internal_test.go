package hub

import (
	"strconv"
	"testing"
)

func TestNewestPickups(t *testing.T) {
	for _, added := range []int{0, 1, 3, 4, 5, 11} {
		r := newestPickups{max: 4}
		for i := range added {
			r.add(Pickup{ID: strconv.Itoa(i)})
		}
		got := r.list()
		if want := min(added, 4); len(got) != want {
			t.Fatalf("%d added: %d kept, want %d", added, len(got), want)
		}
		for i, p := range got {
			if want := strconv.Itoa(added - 1 - i); p.ID != want {
				t.Errorf("%d added: list[%d] is %s, want %s", added, i, p.ID, want)
			}
		}
	}
}
