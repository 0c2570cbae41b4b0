package hub_test

import (
	"testing"

	"github.com/syndication-hub/hub/hub"
)

func TestParseAnnouncementID(t *testing.T) {
	id := "01JD3Z8Q4VJ5K6XW0M2N7P9RST"
	for s, valid := range map[string]bool{
		id + ".1.released": true, id + ".12.corrected": true, id + ".3.withdrawn": true, id + ".3.purged": true,
		id + ".0.released": false, id + ".01.released": false, id + ".1.deleted": false, id + ".1": false,
		"x.1.released": false, id + ".1.released.x": false, "": false, id + ".-1.released": false,
		id + "..released": false, id + ".1.": false, id + ".99999999999999999999.released": false,
	} {
		got, err := hub.ParseAnnouncementID(s)
		if (err == nil) != valid {
			t.Errorf("ParseAnnouncementID(%q): err %v, want valid %v", s, err, valid)
			continue
		}
		if err != nil {
			if hub.ErrorCode(err) != hub.EINVALID {
				t.Errorf("ParseAnnouncementID(%q): code %q, want EINVALID", s, hub.ErrorCode(err))
			}
			continue
		}
		if got.String() != s {
			t.Errorf("ParseAnnouncementID(%q).String() = %q", s, got)
		}
	}
}

// TestAnnouncementIDRoundTrip: every event's id, as Announcement.ID
// writes it, parses back to the same parts.
func TestAnnouncementIDRoundTrip(t *testing.T) {
	id := "01JD3Z8Q4VJ5K6XW0M2N7P9RST"
	for _, e := range hub.Events() {
		a := hub.Announcement{Event: e, Version: 7}
		got, err := hub.ParseAnnouncementID(a.ID(id))
		if err != nil {
			t.Fatal(err)
		}
		if want := (hub.AnnouncementID{Package: id, Version: 7, Event: e}); got != want {
			t.Errorf("%s: parsed %+v, want %+v", e, got, want)
		}
		if e.KillNotice() == e.CarriesContent() {
			t.Errorf("%s: a kill notice must not carry content and vice versa", e)
		}
		if back, ok := hub.ParseEvent(string(e)); !ok || back != e {
			t.Errorf("ParseEvent(%q) = %q, %v", e, back, ok)
		}
	}
	if _, ok := hub.ParseEvent("deleted"); ok {
		t.Error(`ParseEvent("deleted") found an event`)
	}
}

func TestSuperseded(t *testing.T) {
	live := func(status hub.Status, version int) *hub.Package {
		return &hub.Package{Status: status, Live: &hub.Package{Version: version}}
	}
	for _, tc := range []struct {
		name string
		id   hub.AnnouncementID
		p    *hub.Package
		want bool
	}{
		{"release, still the live version", hub.AnnouncementID{Version: 2, Event: hub.EventCorrected}, live(hub.StatusReleased, 2), false},
		{"release, a later version is live", hub.AnnouncementID{Version: 1, Event: hub.EventReleased}, live(hub.StatusReleased, 2), true},
		{"release, package withdrawn since", hub.AnnouncementID{Version: 1, Event: hub.EventReleased}, live(hub.StatusWithdrawn, 1), true},
		{"release, package purged since", hub.AnnouncementID{Version: 1, Event: hub.EventReleased}, &hub.Package{Status: hub.StatusPurged}, true},
		{"release, package gone", hub.AnnouncementID{Version: 1, Event: hub.EventReleased}, nil, true},
		{"withdrawal is never superseded", hub.AnnouncementID{Version: 1, Event: hub.EventWithdrawn}, live(hub.StatusReleased, 3), false},
		{"purge is never superseded", hub.AnnouncementID{Version: 1, Event: hub.EventPurged}, nil, false},
	} {
		if got := hub.Superseded(tc.id, tc.p); got != tc.want {
			t.Errorf("%s: Superseded = %v, want %v", tc.name, got, tc.want)
		}
	}
}
