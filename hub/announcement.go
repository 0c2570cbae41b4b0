package hub

import (
	"context"
	"fmt"
	"time"
)

// Event is what happened to a package, as announced to partners.
type Event string

// Events, in CloudEvents type form on the wire (see publisher).
const (
	EventReleased  Event = "released"
	EventCorrected Event = "corrected"
	EventWithdrawn Event = "withdrawn"
	EventPurged    Event = "purged"
)

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
	return fmt.Sprintf("%s.%d.%s", packageID, a.Version, a.Event)
}

// Announcer publishes announcements. Its one implementation is the
// JetStream release stream in publisher.
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
