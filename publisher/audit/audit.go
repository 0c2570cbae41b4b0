// Package audit is the hub's audit log on a JetStream stream of its own:
// who did what to which package, key, partner, campaign, webhook or feed
// token, and when (hub.AuditEntry: ids only, never content). Entries are
// kept for the configured retention and no purge removes them.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsfault"
	"github.com/syndication-hub/hub/publisher"
)

// Stream is the audit log's stream, and SubjectPrefix the start of its
// subjects: hub.audit.<kind>, the kind being what was acted on (package,
// asset, key, partner, campaign, webhook, feedtoken), one JSON
// hub.AuditEntry per message.
const (
	Stream        = "HUB_AUDIT"
	SubjectPrefix = "hub.audit"
)

// DefaultRetention is how long entries are kept unless configured: 400
// days, a year and a season, so a question about last year's campaign
// can still be answered.
const DefaultRetention = 400 * 24 * time.Hour

// Subject returns the subject of an entry about kind.
func Subject(action hub.AuditAction) string {
	kind, _, _ := strings.Cut(string(action), ".")
	if kind == "" || strings.ContainsAny(kind, ".*> \t") {
		kind = "other"
	}
	return SubjectPrefix + "." + kind
}

// Options configures the audit log.
type Options struct {
	// Replicas is how many copies a NATS cluster keeps of the stream.
	Replicas int
	// Retention is how long an entry is kept; 0 means DefaultRetention.
	Retention time.Duration
	Logger    *slog.Logger
	// StoreFailed, when set, returns the embedded NATS server's file store
	// write error ("" for none), so an append it never answers is EFULL.
	StoreFailed func() string
}

// Log is the hub.AuditLog on a JetStream stream.
type Log struct {
	js          jetstream.JetStream
	stream      jetstream.Stream
	log         *slog.Logger
	storeFailed func() string
}

var _ hub.AuditLog = (*Log)(nil)

// Open creates or updates the audit stream. A changed retention applies
// to what is stored already.
func Open(ctx context.Context, js jetstream.JetStream, opts Options) (*Log, error) {
	if opts.Replicas == 0 {
		opts.Replicas = 1
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	l := &Log{js: js, log: opts.Logger, storeFailed: opts.StoreFailed}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	s, err := publisher.OpenStream(ctx, js, jetstream.StreamConfig{
		Name:        Stream,
		Description: "syndication hub: audit log, who did what to which package, key, partner, campaign, webhook (ids only)",
		Subjects:    []string{SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Replicas:    opts.Replicas,
		Retention:   jetstream.LimitsPolicy,
		MaxAge:      opts.Retention,
		// Entries are never edited or removed one by one: the log is
		// append-only, and only age takes an entry away.
		DenyDelete: true,
		DenyPurge:  true,
	})
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", Stream, err)
	}
	l.stream = s
	return l, nil
}

// Append stores e and waits for the stream's ack. It makes one attempt
// (an entry has no id to settle a retry by, and the write it records must
// not wait for it), classified: an append NATS did not answer is said to
// be unconfirmed, not lost, for it may have been stored.
func (l *Log) Append(ctx context.Context, e hub.AuditEntry) error {
	e.Sequence = 0 // the stream assigns it
	body, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode audit entry: %w", err)
	}
	msg := nats.NewMsg(Subject(e.Action))
	msg.Data = body
	if _, err := l.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(Stream)); err != nil {
		what := fmt.Sprintf("the audit entry of %s of %s", e.Action, e.Target)
		return fmt.Errorf("record %s of %s: %w", e.Action, e.Target, natsfault.PublishFailed(ctx, err, what, l.storeFailed))
	}
	return nil
}

// Entries reads up to limit entries after sequence after, skipping the
// gaps that retention leaves, each with the stream sequence as its cursor.
func (l *Log) Entries(ctx context.Context, after uint64, limit int) ([]hub.AuditEntry, uint64, error) {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return nil, after, fmt.Errorf("audit stream info: %w", natsfault.Classify(ctx, err, false, nil))
	}
	out := []hub.AuditEntry{}
	next := after
	for len(out) < limit && next < info.State.LastSeq {
		// The first message at or after the sequence: entries older than
		// the retention are gone, and this steps over them at once.
		m, err := l.stream.GetMsg(ctx, next+1, jetstream.WithGetMsgSubject(SubjectPrefix+".>"))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		} else if err != nil {
			return nil, after, fmt.Errorf("read audit entry after %d: %w", next, natsfault.Classify(ctx, err, false, nil))
		}
		next = m.Sequence
		var e hub.AuditEntry
		if err := json.Unmarshal(m.Data, &e); err != nil {
			l.log.Warn("an unreadable audit entry was skipped", "sequence", m.Sequence, "err", err)
			continue
		}
		e.Sequence = m.Sequence
		out = append(out, e)
	}
	return out, next, nil
}
