// Package publisher turns the hub's state changes into announcements: the
// JetStream release stream (one subject per campaign, language and
// package, CloudEvents attributes in headers), the change log read back
// from it, and the loop that fires embargoes and drains the outbox.
package publisher

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
)

// Stream is the name of the release stream, and SubjectPrefix the start
// of its subjects: hub.releases.<campaign>.<language>.<package id>.
const (
	Stream        = "HUB_RELEASES"
	SubjectPrefix = "hub.releases"
)

// CloudEvents types of the four announcements.
var eventTypes = map[hub.Event]string{
	hub.EventReleased:  "org.syndicationhub.package.released",
	hub.EventCorrected: "org.syndicationhub.package.corrected",
	hub.EventWithdrawn: "org.syndicationhub.package.withdrawn",
	hub.EventPurged:    "org.syndicationhub.package.purged",
}

// EventType returns the CloudEvents type of e.
func EventType(e hub.Event) string { return eventTypes[e] }

// Subject returns the subject a package's announcements go to.
func Subject(campaign, language, id string) string {
	return strings.Join([]string{SubjectPrefix, campaign, language, id}, ".")
}

// CampaignSubjects returns the filter subject covering one campaign.
func CampaignSubjects(campaign string) string { return SubjectPrefix + "." + campaign + ".>" }

// Options configures the publisher.
type Options struct {
	// PublicURL is the absolute base of links in the announced ninjs.
	PublicURL string
	// Replicas is how many copies a NATS cluster keeps of the stream.
	Replicas int
}

// Publisher publishes to and reads from the release stream; it is the
// hub.Announcer and the hub.ReleaseLog.
type Publisher struct {
	js     jetstream.JetStream
	stream jetstream.Stream
	opts   Options
}

var (
	_ hub.Announcer  = (*Publisher)(nil)
	_ hub.ReleaseLog = (*Publisher)(nil)
)

// Open creates or updates the release stream.
func Open(ctx context.Context, js jetstream.JetStream, opts Options) (*Publisher, error) {
	if opts.Replicas == 0 {
		opts.Replicas = 1
	}
	cfg := jetstream.StreamConfig{
		Name:        Stream,
		Description: "syndication hub: releases, corrections, withdrawals and purges, as ninjs with CloudEvents headers",
		Subjects:    []string{SubjectPrefix + ".>"},
		Storage:     jetstream.FileStorage,
		Replicas:    opts.Replicas,
		Retention:   jetstream.LimitsPolicy,
		// Retries of one announcement within this window are stored once.
		Duplicates: 5 * time.Minute,
	}
	s, err := openStream(ctx, js, cfg)
	if err != nil {
		return nil, fmt.Errorf("open stream %s: %w", Stream, err)
	}
	return &Publisher{js: js, stream: s, opts: opts}, nil
}

// openStream creates the stream, or updates it when it exists. Create
// first: on a fresh cluster, replicas calling create-or-update at once
// hang each other (see catalog.Open).
func openStream(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) (jetstream.Stream, error) {
	s, err := js.CreateStream(ctx, cfg)
	if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		s, err = js.UpdateStream(ctx, cfg)
	}
	return s, err
}

// Announce publishes a about view and waits for the stream's ack.
func (p *Publisher) Announce(ctx context.Context, a hub.Announcement, view *hub.Package) error {
	body, err := json.Marshal(ninjs.FromPackage(p.opts.PublicURL, view))
	if err != nil {
		return fmt.Errorf("encode announcement: %w", err)
	}
	id := a.ID(view.ID)
	msg := nats.NewMsg(Subject(view.Campaign, view.Language, view.ID))
	msg.Data = body
	h := msg.Header
	h.Set("ce-specversion", "1.0")
	h.Set("ce-id", id)
	h.Set("ce-source", p.opts.PublicURL)
	h.Set("ce-type", EventType(a.Event))
	h.Set("ce-time", a.Time.UTC().Format(time.RFC3339Nano))
	h.Set("ce-subject", view.ID)
	h.Set("ce-datacontenttype", "application/json")
	h.Set("ce-campaign", view.Campaign)
	h.Set("ce-language", view.Language)
	h.Set("ce-packageversion", strconv.Itoa(a.Version))
	if _, err := p.js.PublishMsg(ctx, msg, jetstream.WithMsgID(id), jetstream.WithExpectStream(Stream)); err != nil {
		return fmt.Errorf("publish %s: %w", id, err)
	}
	if a.Event == hub.EventPurged {
		// Consent withdrawn: the earlier announcements carry the content
		// (headlines, bylines, captions). Keep only the tombstone, so no
		// change log, consumer or webhook retry can hand it out again.
		if err := p.stream.Purge(ctx, jetstream.WithPurgeSubject(msg.Subject), jetstream.WithPurgeKeep(1)); err != nil {
			return fmt.Errorf("clear the announcements of purged package %s: %w", view.ID, err)
		}
	}
	return nil
}

// LastAnnounced returns the message id of the last announcement about p.
func (p *Publisher) LastAnnounced(ctx context.Context, pkg *hub.Package) (string, error) {
	lang := pkg.Language
	if pkg.Live != nil {
		lang = pkg.Live.Language
	}
	m, err := p.stream.GetLastMsgForSubject(ctx, Subject(pkg.Campaign, lang, pkg.ID))
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	return m.Header.Get(jetstream.MsgIDHeader), nil
}

// maxScan bounds how many stream messages one change-log page reads, so a
// caller who may see little of a long stream still gets an answer fast
// (with a cursor to continue from).
const maxScan = 5000

// Entries reads the stream after sequence after.
func (p *Publisher) Entries(ctx context.Context, after uint64, limit int, visible func(string) bool) ([]hub.LogEntry, uint64, error) {
	info, err := p.stream.Info(ctx)
	if err != nil {
		return nil, after, fmt.Errorf("stream info: %w", err)
	}
	var out []hub.LogEntry
	next := after
	for seq := after + 1; seq <= info.State.LastSeq && len(out) < limit && seq-after <= maxScan; seq++ {
		next = seq
		m, err := p.stream.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		} else if err != nil {
			return nil, after, fmt.Errorf("read message %d: %w", seq, err)
		}
		campaign := m.Header.Get("ce-campaign")
		if !visible(campaign) {
			continue
		}
		out = append(out, hub.LogEntry{
			Sequence: seq, Event: eventOf(m.Header.Get("ce-type")), ID: m.Header.Get("ce-id"),
			Time: m.Header.Get("ce-time"), Campaign: campaign, Language: m.Header.Get("ce-language"), Package: m.Data,
		})
	}
	return out, next, nil
}

func eventOf(ceType string) hub.Event {
	for e, t := range eventTypes {
		if t == ceType {
			return e
		}
	}
	return ""
}

// Scheduler fires embargoes on time and drains the outbox: the loop every
// replica runs. State lives in the catalog, so it survives restarts and a
// release missed while the hub was down goes out on start.
type Scheduler struct {
	svc *hub.Service
	// ReconcileEvery is how often pending announcements are retried.
	ReconcileEvery time.Duration
	// MaxSleep bounds a wait, so another replica's newly scheduled embargo
	// is noticed within it.
	MaxSleep time.Duration
	OnError  func(error)
}

// NewScheduler returns the loop for svc.
func NewScheduler(svc *hub.Service, onError func(error)) *Scheduler {
	return &Scheduler{svc: svc, ReconcileEvery: 10 * time.Second, MaxSleep: 500 * time.Millisecond, OnError: onError}
}

// Run loops until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	report := func(err error) {
		if err != nil && s.OnError != nil && ctx.Err() == nil {
			s.OnError(err)
		}
	}
	_, err := s.svc.Reconcile(ctx)
	report(err)
	lastReconcile := time.Now()
	for {
		_, err := s.svc.FireDue(ctx)
		report(err)
		if time.Since(lastReconcile) >= s.ReconcileEvery {
			_, err := s.svc.Reconcile(ctx)
			report(err)
			lastReconcile = time.Now()
		}
		wait := s.MaxSleep
		if next, ok := s.svc.NextEmbargo(ctx); ok {
			if d := next.Sub(s.svc.Now()); d < wait {
				wait = max(d, 0)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.svc.Scheduled():
		case <-t.C:
		}
		t.Stop()
	}
}
