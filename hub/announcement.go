package hub

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Event is what happened to a package, as announced to partners. The four
// events are the whole list: a new one is added here, in events, and
// every switch over them is found by the compiler-checked methods below
// (the wire names live in publisher/wire).
type Event string

// Events, in lifecycle order.
const (
	// EventReleased is a package's first release: it carries the content.
	EventReleased Event = "released"
	// EventCorrected is a later version of a released package: it carries
	// the content and replaces the earlier version.
	EventCorrected Event = "corrected"
	// EventWithdrawn is a kill notice: outlets must take the package down.
	// It carries the package as it was, marked withdrawn.
	EventWithdrawn Event = "withdrawn"
	// EventPurged is a kill notice after consent was withdrawn: it carries
	// only a tombstone, and the earlier announcements are erased.
	EventPurged Event = "purged"
)

// events lists every event, in lifecycle order.
var events = [...]Event{EventReleased, EventCorrected, EventWithdrawn, EventPurged}

// Events returns every event, in lifecycle order.
func Events() []Event { return events[:] }

// ParseEvent returns the event named s, or false when there is none.
func ParseEvent(s string) (Event, bool) {
	for _, e := range events {
		if string(e) == s {
			return e, true
		}
	}
	return "", false
}

// KillNotice reports whether e tells outlets to take a package down.
func (e Event) KillNotice() bool { return e == EventWithdrawn || e == EventPurged }

// CarriesContent reports whether e's message holds the package's content
// (headlines, bodies, assets) rather than a kill notice.
func (e Event) CarriesContent() bool { return e == EventReleased || e == EventCorrected }

// Announcement is one event to publish about one version of a package.
type Announcement struct {
	Event   Event     `json:"event"`
	Version int       `json:"version"`
	Time    time.Time `json:"time"`
}

// Same reports whether a and b are one announcement (times compared as
// instants: one may have been through JSON).
func (a Announcement) Same(b Announcement) bool {
	return a.Event == b.Event && a.Version == b.Version && a.Time.Equal(b.Time)
}

// ID identifies the announcement across retries and replicas: the NATS
// message id that JetStream deduplicates on, the CloudEvents id, and the
// webhook id.
func (a Announcement) ID(packageID string) string {
	return AnnouncementID{Package: packageID, Version: a.Version, Event: a.Event}.String()
}

// AnnouncementID is an announcement's id taken apart:
// <package id>.<version>.<event>.
type AnnouncementID struct {
	Package string
	Version int
	Event   Event
}

// String returns the id as it goes on the wire.
func (id AnnouncementID) String() string {
	return id.Package + "." + strconv.Itoa(id.Version) + "." + string(id.Event)
}

// ParseAnnouncementID takes an announcement id apart. It returns EINVALID
// unless s is a valid package id, a version from 1 written without
// leading zeros, and an event, joined by dots.
func ParseAnnouncementID(s string) (AnnouncementID, error) {
	bad := Errorf(EINVALID, "%q is not an announcement id (<package>.<version>.<event>)", s)
	pkg, rest, ok := strings.Cut(s, ".")
	if !ok || !ValidID(pkg) {
		return AnnouncementID{}, bad
	}
	num, name, ok := strings.Cut(rest, ".")
	if !ok {
		return AnnouncementID{}, bad
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || strconv.Itoa(n) != num {
		return AnnouncementID{}, bad
	}
	e, ok := ParseEvent(name)
	if !ok {
		return AnnouncementID{}, bad
	}
	return AnnouncementID{Package: pkg, Version: n, Event: e}, nil
}

// Superseded reports whether the announcement id is out of date for the
// package's current state p (nil when the package is gone): a release or
// correction whose package was withdrawn, purged or deleted since, or
// released again in a later version. Sending it now could put killed
// content back on an outlet's site. Kill notices are never superseded.
// Webhook retries and dead-letter replays both ask this.
func Superseded(id AnnouncementID, p *Package) bool {
	if id.Event.KillNotice() {
		return false
	}
	return p == nil || p.Status != StatusReleased || p.Live == nil || p.Live.Version > id.Version
}

// Announcer publishes announcements. Its one implementation is the
// JetStream release stream in publisher/releases.
type Announcer interface {
	// Announce publishes a about view, the package as partners see it
	// (a tombstone for a purge). Publishing the same announcement twice
	// within the dedupe window stores it once.
	Announce(ctx context.Context, a Announcement, view *Package) error

	// LastAnnounced returns the id of the last announcement published
	// about the package, or "" if there is none; the reconciler asks it
	// before publishing again, since the dedupe window is only minutes long.
	LastAnnounced(ctx context.Context, p *Package) (string, error)
}
