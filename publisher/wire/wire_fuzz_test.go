package wire_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/publisher/wire"
)

// FuzzDecode: CloudEvents headers and a body, as a message on the release
// stream carries them (the change log, the feeds' invalidator and webhook
// delivery read every message back). Decode refuses with EINVALID, or
// gives an announcement that agrees with every header it checks; the
// webhook's structured form of any message is a JSON object with each
// ce-* attribute and the body, as JSON or base64, byte for byte.
func FuzzDecode(f *testing.F) {
	id := "01JD3Z8Q4VJ5K6XW0M2N7P9RST"
	f.Add(id+".1.released", "org.syndicationhub.package.released", id, "1", "2026-11-25T06:00:00Z", "korgau123", "ru", []byte(`{"uri":"x"}`))
	f.Add(id+".2.corrected", "org.syndicationhub.package.corrected", id, "2", "", "korgau123", "kk", []byte(`not json`))
	f.Add(id+".1.purged", "org.syndicationhub.package.released", id, "1", "x", "", "", []byte{0xff})
	f.Add(id+".1.withdrawn", "org.syndicationhub.package.withdrawn", "other", "01", "2026-13-01T00:00:00Z", "a", "b", []byte(nil))
	f.Add("", "", "", "", "", "", "", []byte("{}"))
	f.Fuzz(func(t *testing.T, ceID, ceType, subject, version, ceTime, campaign, language string, body []byte) {
		h := nats.Header{}
		for name, v := range map[string]string{
			wire.HeaderID: ceID, wire.HeaderType: ceType, wire.HeaderSubject: subject, wire.HeaderPackageVersion: version,
			wire.HeaderTime: ceTime, wire.HeaderCampaign: campaign, wire.HeaderLanguage: language,
		} {
			if v != "" {
				h.Set(name, v)
			}
		}
		m, err := wire.Decode(h, body)
		if err != nil {
			if hub.ErrorCode(err) != hub.EINVALID {
				t.Fatalf("Decode: code %q: %v", hub.ErrorCode(err), err)
			}
		} else {
			switch {
			case m.ID.String() != ceID, m.ID.Package != subject, strconv.Itoa(m.ID.Version) != version:
				t.Fatalf("Decode accepted id %q subject %q version %q as %+v", ceID, subject, version, m.ID)
			case wire.Type(m.ID.Event) != ceType:
				t.Fatalf("Decode accepted type %q for %s", ceType, m.ID)
			case m.Campaign != campaign, m.Language != language, !bytes.Equal(m.Body, body):
				t.Fatalf("Decode changed the campaign, language or body: %+v", m)
			case ceTime != "" && m.Time.Format(time.RFC3339Nano) == "":
				t.Fatalf("time %q", ceTime)
			}
		}
		doc, err := wire.Structured(h, body)
		if err != nil {
			t.Fatalf("Structured: %v", err)
		}
		var ev map[string]json.RawMessage
		if err := json.Unmarshal(doc, &ev); err != nil {
			t.Fatalf("Structured is not a JSON object: %v\n%s", err, doc)
		}
		if ceID != "" {
			var got string
			if json.Unmarshal(ev["id"], &got); got != ceID && json.Valid([]byte(strconv.Quote(ceID))) && validUTF8(ceID) {
				t.Fatalf("structured id %q, want %q", got, ceID)
			}
		}
		if raw, ok := ev["data"]; ok {
			var a, b any
			if json.Unmarshal(raw, &a) != nil || json.Unmarshal(body, &b) != nil {
				t.Fatalf("data %s is not the body %q", raw, body)
			}
		} else {
			var enc string
			json.Unmarshal(ev["data_base64"], &enc)
			if dec, err := base64.StdEncoding.DecodeString(enc); err != nil || !bytes.Equal(dec, body) {
				t.Fatalf("data_base64 %q is not the body %q", enc, body)
			}
		}
	})
}

func validUTF8(s string) bool { return bytes.Equal([]byte(s), bytes.ToValidUTF8([]byte(s), nil)) }
