// Package partners gives partners their NATS access: one durable consumer
// per active partner on the release stream, filtered to the campaigns that
// partner may see (by the same rule as every other path), and on the
// embedded server one NATS user per partner allowed to read that consumer
// and nothing else.
package partners

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsserver"
	"github.com/syndication-hub/hub/publisher/wire"
)

// consumerPrefix starts the durable consumer name of every partner.
const consumerPrefix = "partner-"

// noCampaign is a filter subject no announcement is ever published to
// (campaign slugs cannot start with "_"): the filter of a partner that
// may see no campaign, since an empty filter would mean every subject.
const noCampaign = wire.SubjectPrefix + "._none_"

// UserDirectory is the embedded NATS server's list of outlets' users.
type UserDirectory interface {
	SetClientUsers(users []natsserver.ClientUser) error
}

// Options configures Access.
type Options struct {
	// URL is where partners' clients connect.
	URL string
	// Users is the embedded server's user list; nil on an external NATS,
	// where the operator issues partners' credentials.
	Users UserDirectory
	// Secret derives partners' NATS passwords; required with Users.
	Secret []byte
}

// Access keeps one durable consumer per active partner on the
// release stream, filtered to the campaigns that partner may see (by the
// same rule as every other path), and on the embedded server one NATS user
// per partner allowed to read that consumer and nothing else.
type Access struct {
	js      jetstream.JetStream
	catalog hub.Catalog
	opts    Options

	mu       sync.Mutex
	lastUser string // the user list last loaded, to reload only on change
	// filters is what Sync last made each partner's consumer filter, so
	// Current can tell cheaply whether consumers lag the catalog.
	filters map[string][]string
}

var _ hub.NATSAccessProvider = (*Access)(nil)

// New returns the keeper of partners' consumers and users.
func New(js jetstream.JetStream, catalog hub.Catalog, opts Options) *Access {
	return &Access{js: js, catalog: catalog, opts: opts, filters: map[string][]string{}}
}

// desiredFilters returns each active partner's consumer filter as the
// catalog says it should be now.
func (a *Access) desiredFilters(ctx context.Context) (map[string][]string, []*hub.Partner, error) {
	partners, err := a.catalog.Partners(ctx)
	if err != nil {
		return nil, nil, err
	}
	campaigns, err := a.catalog.Campaigns(ctx)
	if err != nil {
		return nil, nil, err
	}
	want := map[string][]string{}
	for _, p := range partners {
		if p.Active {
			aud := hub.PartnerAudience(p)
			want[p.ID] = filterSubjects(aud.VisibleCampaigns(campaigns))
		}
	}
	return want, partners, nil
}

// Current syncs when any consumer's filter lags the catalog. A consumer
// moves past every message its filter excludes and a wider filter does
// not bring them back, so the guarded announcer calls this before each
// publish: the first release of a new campaign, or right after an
// entitlement is granted, then reaches every partner that may see it.
func (a *Access) Current(ctx context.Context) error {
	want, _, err := a.desiredFilters(ctx)
	if err != nil {
		return err
	}
	a.mu.Lock()
	current := len(want) == len(a.filters)
	for id, f := range want {
		current = current && slices.Equal(a.filters[id], f)
	}
	a.mu.Unlock()
	if current {
		return nil
	}
	return a.Sync(ctx)
}

// Guard returns an announcer that brings partners' consumers up to date
// before each publish through next.
func (a *Access) Guard(next hub.Announcer) hub.Announcer {
	return guardedAnnouncer{Announcer: next, access: a}
}

type guardedAnnouncer struct {
	hub.Announcer
	access *Access
}

func (g guardedAnnouncer) Announce(ctx context.Context, an hub.Announcement, view *hub.Package) error {
	if err := g.access.Current(ctx); err != nil {
		// Publishing late would be worse than publishing to a consumer
		// that is a moment behind; the next sync retries.
		return fmt.Errorf("update partners' consumers before announcing: %w", err)
	}
	return g.Announcer.Announce(ctx, an, view)
}

// ConsumerName returns the durable consumer of partner id.
func ConsumerName(id string) string { return consumerPrefix + id }

func inboxPrefix(id string) string { return "_INBOX_" + ConsumerName(id) }

func (a *Access) password(id string) string {
	m := hmac.New(sha256.New, a.opts.Secret)
	m.Write([]byte("nats-partner:" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// permissions are what a partner's NATS user may do: ask for its own
// consumer's info, fetch from it and ack, and receive on its own inbox.
// No other consumer, no stream or direct gets, no KV, no publishing.
func permissions(id string) (publish, subscribe []string) {
	c := ConsumerName(id)
	return []string{
			"$JS.API.CONSUMER.INFO." + wire.Stream + "." + c,
			"$JS.API.CONSUMER.MSG.NEXT." + wire.Stream + "." + c,
			"$JS.ACK." + wire.Stream + "." + c + ".>",
		},
		[]string{inboxPrefix(id) + ".>"}
}

// filterSubjects returns the consumer filter for a partner.
func filterSubjects(campaigns []string) []string {
	if len(campaigns) == 0 {
		return []string{noCampaign}
	}
	out := make([]string, 0, len(campaigns))
	for _, c := range campaigns {
		out = append(out, wire.CampaignSubjects(c))
	}
	return out
}

// PartnerAccess returns p's access, making sure its consumer exists with
// the current filter first.
func (a *Access) PartnerAccess(ctx context.Context, p *hub.Partner, aud hub.Audience) (hub.NATSAccess, error) {
	campaigns, err := a.catalog.Campaigns(ctx)
	if err != nil {
		return hub.NATSAccess{}, err
	}
	subjects := filterSubjects(aud.VisibleCampaigns(campaigns))
	if err := a.ensureConsumer(ctx, p.ID, subjects); err != nil {
		return hub.NATSAccess{}, err
	}
	acc := hub.NATSAccess{URL: a.opts.URL, Stream: wire.Stream, Consumer: ConsumerName(p.ID), InboxPrefix: inboxPrefix(p.ID), Subjects: subjects}
	if a.opts.Users != nil {
		acc.User, acc.Password = ConsumerName(p.ID), a.password(p.ID)
		if err := a.syncUsers(ctx); err != nil {
			return hub.NATSAccess{}, err
		}
	}
	return acc, nil
}

func (a *Access) ensureConsumer(ctx context.Context, id string, subjects []string) error {
	_, err := a.js.CreateOrUpdateConsumer(ctx, wire.Stream, jetstream.ConsumerConfig{
		Durable:     ConsumerName(id),
		Description: "syndication hub: releases for partner " + id,
		// A partner starts with everything it may see, and an outlet that
		// was offline for a week replays what it missed from where it stopped.
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        time.Minute,
		MaxAckPending:  1000,
		FilterSubjects: subjects,
	})
	if err != nil {
		return fmt.Errorf("consumer of partner %s: %w", id, err)
	}
	return nil
}

// Sync brings every partner's consumer and user in line with the
// catalog: consumers for active partners with their current filters,
// none for inactive or removed ones.
func (a *Access) Sync(ctx context.Context) error {
	wantFilters, _, err := a.desiredFilters(ctx)
	if err != nil {
		return err
	}
	want := map[string]bool{}
	synced := map[string][]string{}
	var errs []error
	for id, subjects := range wantFilters {
		want[ConsumerName(id)] = true
		c, err := a.js.Consumer(ctx, wire.Stream, ConsumerName(id))
		if err == nil && slices.Equal(currentFilter(c.CachedInfo().Config), subjects) {
			synced[id] = subjects
			continue
		}
		if err := a.ensureConsumer(ctx, id, subjects); err != nil {
			errs = append(errs, err)
			continue
		}
		synced[id] = subjects
	}
	stream, err := a.js.Stream(ctx, wire.Stream)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	names := stream.ConsumerNames(ctx)
	for name := range names.Name() {
		if strings.HasPrefix(name, consumerPrefix) && !want[name] {
			if err := a.js.DeleteConsumer(ctx, wire.Stream, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
				errs = append(errs, fmt.Errorf("delete consumer %s: %w", name, err))
			}
		}
	}
	if err := names.Err(); err != nil {
		errs = append(errs, err)
	}
	if a.opts.Users != nil {
		errs = append(errs, a.syncUsers(ctx))
	}
	a.mu.Lock()
	a.filters = synced
	a.mu.Unlock()
	return errors.Join(errs...)
}

func currentFilter(c jetstream.ConsumerConfig) []string {
	if c.FilterSubject != "" {
		return []string{c.FilterSubject}
	}
	return c.FilterSubjects
}

// syncUsers loads one NATS user per active partner into the embedded
// server, when the list changed.
func (a *Access) syncUsers(ctx context.Context) error {
	partners, err := a.catalog.Partners(ctx)
	if err != nil {
		return err
	}
	var users []natsserver.ClientUser
	var names []string
	for _, p := range partners {
		if !p.Active {
			continue
		}
		pub, sub := permissions(p.ID)
		users = append(users, natsserver.ClientUser{Name: ConsumerName(p.ID), Password: a.password(p.ID), Publish: pub, Subscribe: sub})
		names = append(names, p.ID)
	}
	key := strings.Join(names, ",")
	a.mu.Lock()
	defer a.mu.Unlock()
	if key == a.lastUser {
		return nil
	}
	if err := a.opts.Users.SetClientUsers(users); err != nil {
		return err
	}
	a.lastUser = key
	return nil
}

// Run syncs every interval until ctx ends, so entitlement changes reach
// consumers and users within it.
func (a *Access) Run(ctx context.Context, every time.Duration, onError func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := a.Sync(ctx); err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
