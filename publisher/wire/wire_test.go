package wire_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
	"github.com/syndication-hub/hub/publisher/wire"
)

const id = "01JD3Z8Q4VJ5K6XW0M2N7P9RST"

// TestEncodeDecodeEveryEvent: what Encode writes, Decode reads back, for
// every event the domain has.
func TestEncodeDecodeEveryEvent(t *testing.T) {
	at := time.Date(2026, 11, 25, 6, 0, 0, 123, time.UTC)
	view := &hub.Package{ID: id, Campaign: "korgau123", Language: "kk", Version: 3, Status: hub.StatusReleased,
		Headlines: []hub.Text{{Value: "Қысым — қылмыс"}}}
	for _, e := range hub.Events() {
		msg, err := wire.Encode("https://hub.example.org", hub.Announcement{Event: e, Version: 3, Time: at}, view)
		if err != nil {
			t.Fatal(err)
		}
		if want := "hub.releases.korgau123.kk." + id; msg.Subject != want {
			t.Errorf("%s: subject %q, want %q", e, msg.Subject, want)
		}
		h := msg.Header
		for name, want := range map[string]string{
			wire.HeaderSpecVersion: "1.0", wire.HeaderType: "org.syndicationhub.package." + string(e),
			wire.HeaderSource: "https://hub.example.org", wire.HeaderDataSchema: ninjs.ProfileSchemaURL,
			wire.HeaderDataContentType: "application/json",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", e, name, got, want)
			}
		}
		got, err := wire.Decode(h, msg.Data)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		want := hub.AnnouncementID{Package: id, Version: 3, Event: e}
		if got.ID != want || got.Campaign != "korgau123" || got.Language != "kk" || !got.Time.Equal(at) {
			t.Errorf("%s: decoded %+v", e, got)
		}
		var item ninjs.Item
		if err := json.Unmarshal(got.Body, &item); err != nil || item.ID != id {
			t.Errorf("%s: body %s: %v", e, got.Body, err)
		}
		if back, ok := wire.EventOfType(wire.Type(e)); !ok || back != e {
			t.Errorf("EventOfType(Type(%s)) = %q, %v", e, back, ok)
		}
	}
}

// TestDecodeRefusesWhatTheHubDidNotWrite: every header that disagrees with
// the id, or a missing or foreign one, is EINVALID.
func TestDecodeRefusesWhatTheHubDidNotWrite(t *testing.T) {
	good := func() nats.Header {
		msg, err := wire.Encode("https://hub.example.org", hub.Announcement{Event: hub.EventReleased, Version: 1, Time: time.Now()},
			&hub.Package{ID: id, Campaign: "korgau123", Language: "ru", Version: 1})
		if err != nil {
			t.Fatal(err)
		}
		return msg.Header
	}
	for name, spoil := range map[string]func(nats.Header){
		"no id":                  func(h nats.Header) { h.Del(wire.HeaderID) },
		"malformed id":           func(h nats.Header) { h.Set(wire.HeaderID, "x.1.released") },
		"type of another event":  func(h nats.Header) { h.Set(wire.HeaderType, wire.Type(hub.EventPurged)) },
		"foreign type":           func(h nats.Header) { h.Set(wire.HeaderType, "com.example.thing") },
		"subject of another id":  func(h nats.Header) { h.Set(wire.HeaderSubject, "01JD3Z8Q4VJ5K6XW0M2N7P9RSV") },
		"version of another id":  func(h nats.Header) { h.Set(wire.HeaderPackageVersion, "2") },
		"unreadable time":        func(h nats.Header) { h.Set(wire.HeaderTime, "yesterday") },
		"no headers at all":      func(h nats.Header) { clear(h) },
		"event outside the list": func(h nats.Header) { h.Set(wire.HeaderID, id+".1.deleted") },
	} {
		h := good()
		spoil(h)
		if _, err := wire.Decode(h, nil); hub.ErrorCode(err) != hub.EINVALID {
			t.Errorf("%s: Decode = %v, want EINVALID", name, err)
		}
	}
	if _, err := wire.Decode(good(), nil); err != nil {
		t.Errorf("the unspoilt header: %v", err)
	}
}

// TestStructuredCarriesEveryAttribute: the webhook body is a CloudEvents
// structured-mode document with every ce-* header as an attribute and
// the ninjs as data.
func TestStructuredCarriesEveryAttribute(t *testing.T) {
	msg, err := wire.Encode("https://hub.example.org", hub.Announcement{Event: hub.EventCorrected, Version: 2, Time: time.Now()},
		&hub.Package{ID: id, Campaign: "korgau123", Language: "ru", Version: 2})
	if err != nil {
		t.Fatal(err)
	}
	b, err := wire.Structured(msg.Header, msg.Data)
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	for name := range msg.Header {
		attr := strings.TrimPrefix(strings.ToLower(name), "ce-")
		if ev[attr] != msg.Header.Get(name) {
			t.Errorf("attribute %s = %v, want %q", attr, ev[attr], msg.Header.Get(name))
		}
	}
	if _, ok := ev["data"].(map[string]any); !ok {
		t.Errorf("data is %T, not the ninjs object", ev["data"])
	}
	if bin, err := wire.Structured(msg.Header, []byte{0xff, 0x00}); err != nil || !strings.Contains(string(bin), `"data_base64"`) {
		t.Errorf("a body that is not JSON: %s, %v", bin, err)
	}
}
