// Package pickups is the pickup log on a JetStream stream: partners'
// downloads and republication reports, which campaign reach counts.
package pickups

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

// Stream is the stream of the pickup log, and SubjectPrefix
// the start of its subjects: hub.pickups.<campaign>.<package id>, one JSON
// hub.Pickup per message.
const (
	Stream        = "HUB_PICKUPS"
	SubjectPrefix = "hub.pickups"
)

// Subject returns the subject of a package's pickups.
func Subject(campaign, id string) string {
	return strings.Join([]string{SubjectPrefix, campaign, id}, ".")
}

// CampaignPickups returns the filter subject covering one campaign's pickups.
func CampaignPickups(campaign string) string { return SubjectPrefix + "." + campaign + ".>" }

// Options configures the pickup log.
type Options struct {
	// Replicas is how many copies a NATS cluster keeps of the stream.
	Replicas int
	// Logger receives the records that could not be stored.
	Logger *slog.Logger
	// StoreFailed, when set, returns the embedded NATS server's file store
	// write error ("" for none), so a report it never answers is EFULL.
	StoreFailed func() string
}

// Log is the hub.PickupLog on a JetStream stream: every download by
// a partner and every republication report is one message, kept for as
// long as the stream is (no age limit: it is what reach reports count).
type Log struct {
	// js is a JetStream context of the log's own, so that its handler of
	// failed asynchronous publishes sees only pickups.
	js          jetstream.JetStream
	stream      jetstream.Stream
	log         *slog.Logger
	storeFailed func() string
}

var _ hub.PickupLog = (*Log)(nil)

// Limits of asynchronous recording: how many records may await the
// server's ack, how long one may wait for it, and how long a record waits
// for room when that many are outstanding before it is dropped (and
// logged): a download's handler must not hang on a slow NATS.
const (
	pickupMaxPending = 4096
	pickupAckTimeout = 30 * time.Second
	pickupStallWait  = 200 * time.Millisecond
	// scanWaitPending bounds how long a scan waits for this replica's
	// records in flight, so that a reader sees what was just done.
	scanWaitPending = time.Second
	// scanIdle bounds the wait for the next pickup of a scan that has not
	// reached its last one: longer, NATS is not answering.
	scanIdle = 10 * time.Second
)

// Open creates or updates the pickup stream.
func Open(ctx context.Context, js jetstream.JetStream, opts Options) (*Log, error) {
	if opts.Replicas == 0 {
		opts.Replicas = 1
	}
	l := &Log{log: opts.Logger, storeFailed: opts.StoreFailed}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	own, err := jetstream.New(js.Conn(),
		jetstream.WithPublishAsyncMaxPending(pickupMaxPending),
		jetstream.WithPublishAsyncTimeout(pickupAckTimeout),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, m *nats.Msg, err error) {
			l.log.Warn("a pickup was not recorded", "subject", m.Subject, "err", err)
		}))
	if err != nil {
		return nil, fmt.Errorf("JetStream context for pickups: %w", err)
	}
	l.js = own
	cfg := jetstream.StreamConfig{
		Name:        Stream,
		Description: "syndication hub: partners' downloads and republication reports, for campaign reach",
		Subjects:    []string{SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Replicas:    opts.Replicas,
		Retention:   jetstream.LimitsPolicy,
		// A republication report sent again within this window (a retry
		// after a lost answer) is stored once.
		Duplicates: 5 * time.Minute,
	}
	s, err := publisher.OpenStream(ctx, own, cfg)
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", Stream, err)
	}
	l.stream = s
	return l, nil
}

func pickupMsg(p hub.Pickup) (*nats.Msg, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode pickup: %w", err)
	}
	msg := nats.NewMsg(Subject(p.Campaign, p.Package))
	msg.Data = body
	return msg, nil
}

// Record publishes p without waiting for the ack; a failure is logged.
func (l *Log) Record(p hub.Pickup) {
	msg, err := pickupMsg(p)
	if err == nil {
		_, err = l.js.PublishMsgAsync(msg, jetstream.WithExpectStream(Stream), jetstream.WithStallWait(pickupStallWait))
	}
	if err != nil {
		l.log.Warn("a pickup was not recorded", "kind", p.Kind, "package", p.Package, "partner", p.Partner, "err", err)
	}
}

// Append publishes p and waits for the stream's ack. A republication
// report carries its id as the message id, so one whose outcome NATS left
// unknown is sent again until it settles (natsfault.PublishOnce): the
// stream's 5-minute duplicate window stores it once. Errors are classified:
// EUNAVAILABLE when NATS does not answer (saying whether the report may
// have been stored), EFULL when JetStream has no room.
func (l *Log) Append(ctx context.Context, p hub.Pickup) error {
	msg, err := pickupMsg(p)
	if err != nil {
		return err
	}
	what := "the pickup"
	if p.Kind == hub.PickupRepublication {
		what = "the republication report"
	}
	if p.ID == "" {
		// No id to settle by: one attempt, classified.
		if _, err := l.js.PublishMsg(ctx, msg, jetstream.WithExpectStream(Stream)); err != nil {
			return fmt.Errorf("record %s pickup of %s: %w", p.Kind, p.Package, natsfault.PublishFailed(ctx, err, what, l.storeFailed))
		}
		return nil
	}
	if _, err := natsfault.PublishOnce(ctx, l.js, msg, p.ID, what, l.storeFailed, jetstream.WithExpectStream(Stream)); err != nil {
		return fmt.Errorf("record %s pickup of %s: %w", p.Kind, p.Package, err)
	}
	return nil
}

// Scan reads the pickups of a campaign (or of one package of it) with an
// ordered consumer, from the first to the last stored when it began.
func (l *Log) Scan(ctx context.Context, campaign, pkg string, fn func(hub.Pickup) error) error {
	// This replica's records still on their way: a producer looking at
	// reach right after a download should see it.
	wait := time.NewTimer(scanWaitPending)
	select {
	case <-l.js.PublishAsyncComplete():
	case <-wait.C:
	case <-ctx.Done():
	}
	wait.Stop()

	filter := CampaignPickups(campaign)
	if pkg != "" {
		filter = Subject(campaign, pkg)
	}
	last, err := l.stream.GetLastMsgForSubject(ctx, filter)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return nil
	} else if err != nil {
		return fmt.Errorf("last pickup on %s: %w", filter, natsfault.Classify(ctx, err, false, nil))
	}
	cons, err := l.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		return fmt.Errorf("consumer on %s: %w", filter, natsfault.Classify(ctx, err, false, nil))
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(512))
	if err != nil {
		return fmt.Errorf("read %s: %w", filter, natsfault.Classify(ctx, err, false, nil))
	}
	defer it.Stop()
	for {
		m, err := l.next(ctx, it)
		if err != nil {
			return fmt.Errorf("read %s: %w", filter, natsfault.Classify(ctx, err, false, nil))
		}
		meta, err := m.Metadata()
		if err != nil {
			return fmt.Errorf("read %s: %w", filter, err)
		}
		var p hub.Pickup
		if err := json.Unmarshal(m.Data(), &p); err != nil {
			l.log.Warn("an unreadable pickup was skipped", "sequence", meta.Sequence.Stream, "err", err)
		} else if err := fn(p); err != nil {
			return err
		}
		if meta.Sequence.Stream >= last.Sequence || meta.NumPending == 0 {
			return nil
		}
	}
}

// next waits at most scanIdle for the scan's next pickup: the scan knows
// one is there, so a longer silence is NATS not answering (a deadline the
// caller set stays the caller's).
func (l *Log) next(ctx context.Context, it jetstream.MessagesContext) (jetstream.Msg, error) {
	ctx, cancel := context.WithTimeout(ctx, scanIdle)
	defer cancel()
	return it.Next(jetstream.NextContext(ctx))
}

// Forget purges the package's subject from the stream.
func (l *Log) Forget(ctx context.Context, campaign, id string) error {
	if err := l.stream.Purge(ctx, jetstream.WithPurgeSubject(Subject(campaign, id))); err != nil {
		// A purge NATS did not answer may have been done: not said
		// to have failed.
		return fmt.Errorf("forget the pickups of %s: %w", id, natsfault.Classify(ctx, err, false, nil))
	}
	return nil
}
