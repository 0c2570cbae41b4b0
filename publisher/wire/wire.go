// Package wire is the announcement as it travels: the release stream's
// subjects, the CloudEvents attributes in NATS headers, and the ninjs
// body. Every writer and reader of announcements (the release stream and
// its change log, webhook delivery, feed invalidation, hub pull) encodes
// and decodes through it, so a new event or attribute is one change here.
package wire

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
)

// Stream is the name of the release stream, and SubjectPrefix the start
// of its subjects: hub.releases.<campaign>.<language>.<package id>.
const (
	Stream        = "HUB_RELEASES"
	SubjectPrefix = "hub.releases"
)

// Subject returns the subject a package's announcements go to.
func Subject(campaign, language, id string) string {
	return strings.Join([]string{SubjectPrefix, campaign, language, id}, ".")
}

// CampaignSubjects returns the filter subject covering one campaign.
func CampaignSubjects(campaign string) string { return SubjectPrefix + "." + campaign + ".>" }

// PackageSubjects returns the filter subject covering one package, in
// whichever campaign and language it was announced.
func PackageSubjects(id string) string { return SubjectPrefix + ".*.*." + id }

// typePrefix starts every CloudEvents type the hub sends.
const typePrefix = "org.syndicationhub.package."

// Type returns the CloudEvents type of e.
func Type(e hub.Event) string { return typePrefix + string(e) }

// EventOfType returns the event whose CloudEvents type is t.
func EventOfType(t string) (hub.Event, bool) {
	name, ok := strings.CutPrefix(t, typePrefix)
	if !ok {
		return "", false
	}
	return hub.ParseEvent(name)
}

// CloudEvents attributes, as NATS headers (binary content mode). The
// campaign, language and package version are extension attributes, so a
// consumer can route without parsing the body.
const (
	HeaderSpecVersion     = "ce-specversion"
	HeaderID              = "ce-id"
	HeaderSource          = "ce-source"
	HeaderType            = "ce-type"
	HeaderTime            = "ce-time"
	HeaderSubject         = "ce-subject"
	HeaderDataContentType = "ce-datacontenttype"
	HeaderDataSchema      = "ce-dataschema"
	HeaderCampaign        = "ce-campaign"
	HeaderLanguage        = "ce-language"
	HeaderPackageVersion  = "ce-packageversion"
)

// Message is one announcement as read off the wire.
type Message struct {
	ID       hub.AnnouncementID
	Time     time.Time
	Campaign string
	Language string
	// Body is the announced package in the hub's ninjs profile (a
	// tombstone for a purge).
	Body []byte
}

// Encode builds the NATS message announcing a about view (the package as
// partners see it), with links and the CloudEvents source under base
// (HUB_PUBLIC_URL).
func Encode(base string, a hub.Announcement, view *hub.Package) (*nats.Msg, error) {
	body, err := json.Marshal(ninjs.FromPackage(base, view))
	if err != nil {
		return nil, fmt.Errorf("encode announcement of %s: %w", view.ID, err)
	}
	msg := nats.NewMsg(Subject(view.Campaign, view.Language, view.ID))
	msg.Data = body
	h := msg.Header
	h.Set(HeaderSpecVersion, "1.0")
	h.Set(HeaderID, a.ID(view.ID))
	h.Set(HeaderSource, base)
	h.Set(HeaderType, Type(a.Event))
	h.Set(HeaderTime, a.Time.UTC().Format(time.RFC3339Nano))
	h.Set(HeaderSubject, view.ID)
	h.Set(HeaderDataContentType, "application/json")
	h.Set(HeaderDataSchema, ninjs.ProfileSchemaURL)
	h.Set(HeaderCampaign, view.Campaign)
	h.Set(HeaderLanguage, view.Language)
	h.Set(HeaderPackageVersion, strconv.Itoa(a.Version))
	return msg, nil
}

// Decode reads an announcement from a message's headers and body. It
// returns EINVALID for anything the hub did not write: a missing or
// malformed id, a type that is not the id's event, a subject or version
// that disagrees with the id.
func Decode(h nats.Header, body []byte) (Message, error) {
	id, err := hub.ParseAnnouncementID(h.Get(HeaderID))
	if err != nil {
		return Message{}, err
	}
	if e, ok := EventOfType(h.Get(HeaderType)); !ok || e != id.Event {
		return Message{}, hub.Errorf(hub.EINVALID, "announcement %s has type %q", id, h.Get(HeaderType))
	}
	if h.Get(HeaderSubject) != id.Package || h.Get(HeaderPackageVersion) != strconv.Itoa(id.Version) {
		return Message{}, hub.Errorf(hub.EINVALID, "announcement %s names package %q version %q",
			id, h.Get(HeaderSubject), h.Get(HeaderPackageVersion))
	}
	m := Message{ID: id, Campaign: h.Get(HeaderCampaign), Language: h.Get(HeaderLanguage), Body: body}
	if t := h.Get(HeaderTime); t != "" {
		if m.Time, err = time.Parse(time.RFC3339Nano, t); err != nil {
			return Message{}, hub.Errorf(hub.EINVALID, "announcement %s has time %q", id, t)
		}
	}
	return m, nil
}

// Structured turns an announcement as the stream holds it (binary mode:
// ce-* headers, ninjs body) into a CloudEvents structured-mode JSON
// document with the ninjs as data, as webhooks send it. Every ce-*
// header becomes an attribute, the extensions included.
func Structured(h nats.Header, body []byte) ([]byte, error) {
	ev := map[string]any{}
	for name, values := range h {
		if attr, ok := strings.CutPrefix(strings.ToLower(name), "ce-"); ok && attr != "" && len(values) > 0 {
			ev[attr] = values[0]
		}
	}
	if json.Valid(body) {
		ev["data"] = json.RawMessage(body)
	} else {
		ev["data_base64"] = base64.StdEncoding.EncodeToString(body)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, fmt.Errorf("encode CloudEvent: %w", err)
	}
	return b, nil
}
