// Package releases is the release stream: announcements published with
// CloudEvents headers (publisher/wire), the change log read back from it,
// and the scheduler every replica runs to fire embargoes on time and
// drain the outbox.
package releases

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsfault"
	"github.com/syndication-hub/hub/publisher"
	"github.com/syndication-hub/hub/publisher/wire"
)

// Options configures the release stream.
type Options struct {
	// PublicURL is the absolute base of links in the announced ninjs.
	PublicURL string
	// Replicas is how many copies a NATS cluster keeps of the stream.
	Replicas int
	// StoreFailed, when set, returns the embedded NATS server's file store
	// write error ("" for none), so a publish it never answers is EFULL.
	StoreFailed func() string
}

// Stream publishes to and reads from the release stream; it is the
// hub.Announcer and the hub.ReleaseLog.
type Stream struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	opts   Options
}

var (
	_ hub.Announcer  = (*Stream)(nil)
	_ hub.ReleaseLog = (*Stream)(nil)
)

// Open creates or updates the release stream.
func Open(ctx context.Context, js jetstream.JetStream, opts Options) (*Stream, error) {
	if opts.Replicas == 0 {
		opts.Replicas = 1
	}
	cfg := jetstream.StreamConfig{
		Name:        wire.Stream,
		Description: "syndication hub: releases, corrections, withdrawals and purges, as ninjs with CloudEvents headers",
		Subjects:    []string{wire.SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Replicas:    opts.Replicas,
		Retention:   jetstream.LimitsPolicy,
		// Retries of one announcement within this window are stored once.
		Duplicates: 5 * time.Minute,
	}
	s, err := publisher.OpenStream(ctx, js, cfg)
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", wire.Stream, err)
	}
	return &Stream{js: js, stream: s, opts: opts}, nil
}

// Announce publishes a about view and waits for the stream's ack. It
// makes one attempt, classified (natsfault.PublishFailed: one that NATS did
// not answer may have been stored, and says so): the announcement stays
// pending in the catalog and the scheduler sends it again, which is safe
// because it carries its id as Nats-Msg-Id, stored once within the
// stream's duplicate window (and LastAnnounced covers the time after).
func (p *Stream) Announce(ctx context.Context, a hub.Announcement, view *hub.Package) error {
	msg, err := wire.Encode(p.opts.PublicURL, a, view)
	if err != nil {
		return err
	}
	id := msg.Header.Get(wire.HeaderID)
	if _, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(id), jetstream.WithExpectStream(wire.Stream)); err != nil {
		return fmt.Errorf("publish %s: %w", id, natsfault.PublishFailed(ctx, err, "announcement "+id, p.opts.StoreFailed))
	}
	if a.Event == hub.EventPurged {
		// Consent withdrawn: the earlier announcements carry the content
		// (headlines, bylines, captions). Keep only the tombstone, so no
		// change log, consumer or webhook retry can hand it out again.
		if err := p.stream.Purge(ctx, jetstream.WithPurgeSubject(msg.Subject), jetstream.WithPurgeKeep(1)); err != nil {
			// Not a write known to have failed: a purge NATS did not
			// answer may have been done.
			return fmt.Errorf("clear the announcements of purged package %s: %w", view.ID, natsfault.Classify(ctx, err, false, nil))
		}
	}
	return nil
}

// LastAnnounced returns the message id of the last announcement about p.
func (p *Stream) LastAnnounced(ctx context.Context, pkg *hub.Package) (string, error) {
	lang := pkg.Language
	if pkg.Live != nil {
		lang = pkg.Live.Language
	}
	m, err := p.stream.GetLastMsgForSubject(ctx, wire.Subject(pkg.Campaign, lang, pkg.ID))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return "", nil
	} else if err != nil {
		return "", natsfault.Classify(ctx, err, false, nil)
	}
	return m.Header.Get(jetstream.MsgIDHeader), nil
}

// maxScan bounds how many stream messages one change-log page reads, so a
// caller who may see little of a long stream still gets an answer fast
// (with a cursor to continue from).
const maxScan = 5000

// Entries reads the stream after sequence after.
func (p *Stream) Entries(ctx context.Context, after uint64, limit int, visible func(string) bool) ([]hub.LogEntry, uint64, error) {
	info, err := p.stream.Info(ctx)
	if err != nil {
		return nil, after, fmt.Errorf("release stream info: %w", natsfault.Classify(ctx, err, false, nil))
	}
	if after >= info.State.LastSeq {
		// Nothing after it yet (a cursor past the end, up to 2^64-1, too:
		// after+1 would wrap to 0).
		return nil, after, nil
	}
	var out []hub.LogEntry
	next := after
	for seq := after + 1; seq <= info.State.LastSeq && len(out) < limit && seq-after <= maxScan; seq++ {
		next = seq
		m, err := p.stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		} else if err != nil {
			return nil, after, fmt.Errorf("read release %d: %w", seq, natsfault.Classify(ctx, err, false, nil))
		}
		an, err := wire.Decode(m.Header, m.Data)
		if err != nil {
			continue // not an announcement the hub wrote
		}
		if !visible(an.Campaign) {
			continue
		}
		out = append(out, hub.LogEntry{
			Sequence: seq, Event: an.ID.Event, ID: an.ID.String(), Time: m.Header.Get(wire.HeaderTime),
			Campaign: an.Campaign, Language: an.Language, Package: an.Body,
		})
	}
	return out, next, nil
}
