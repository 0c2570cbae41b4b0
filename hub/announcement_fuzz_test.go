package hub_test

import (
	"strings"
	"testing"

	"github.com/syndication-hub/hub/hub"
)

// FuzzParseAnnouncementID: an announcement id comes from outside in a
// webhook-id, a NATS ce-id and a dead letter's path. Whatever the bytes,
// parsing refuses with EINVALID or gives parts that write the same id
// back, whose package is a valid id and whose version is at least 1.
func FuzzParseAnnouncementID(f *testing.F) {
	for _, s := range []string{
		"01JD3Z8Q4VJ5K6XW0M2N7P9RST.1.released", "01JD3Z8Q4VJ5K6XW0M2N7P9RST.12.corrected",
		"01JD3Z8Q4VJ5K6XW0M2N7P9RST.3.purged", "01JD3Z8Q4VJ5K6XW0M2N7P9RST.01.released",
		"01JD3Z8Q4VJ5K6XW0M2N7P9RST.99999999999999999999.withdrawn", "..", "", "01JD3Z8Q4VJ5K6XW0M2N7P9RST.+1.released",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := hub.ParseAnnouncementID(s)
		if err != nil {
			if hub.ErrorCode(err) != hub.EINVALID {
				t.Fatalf("ParseAnnouncementID(%q): code %q, want EINVALID", s, hub.ErrorCode(err))
			}
			return
		}
		if id.String() != s {
			t.Fatalf("ParseAnnouncementID(%q) writes back as %q", s, id)
		}
		if !hub.ValidID(id.Package) || id.Version < 1 || strings.Contains(id.Package, ".") {
			t.Fatalf("ParseAnnouncementID(%q) = %+v", s, id)
		}
		if _, ok := hub.ParseEvent(string(id.Event)); !ok {
			t.Fatalf("ParseAnnouncementID(%q): event %q is not an event", s, id.Event)
		}
		a := hub.Announcement{Event: id.Event, Version: id.Version}
		if again, err := hub.ParseAnnouncementID(a.ID(id.Package)); err != nil || again != id {
			t.Fatalf("Announcement.ID of %+v parses as %+v, %v", id, again, err)
		}
	})
}
