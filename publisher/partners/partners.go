// Package partners gives partners their NATS access: one durable consumer
// per active partner on the release stream, filtered to the campaigns that
// partner may see (by the same rule as every other path), and the NATS
// grant of a connection made with a partner's API key: an account that
// imports only that partner's consumer, permissions to read and ack it,
// and an end no later than the key's.
package partners

import (
	"context"
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

// Connections closes partners' connections by grant: the embedded NATS
// server, or the auth callout responder of an external one.
type Connections interface {
	Kick(grant string)
}

// Granter is the domain's decision on NATS connections (hub.Service).
type Granter interface {
	NATSGrant(ctx context.Context, user, secret string) (hub.NATSGrant, error)
	CheckNATSGrant(ctx context.Context, g hub.NATSGrant) error
}

// Options configures Access.
type Options struct {
	// URL is where partners' clients connect.
	URL string
	// Connections closes partners' connections when their key lapses: the
	// embedded server, or the auth callout responder (UseGranter).
	Connections Connections
	// SharedAccount is the account every partner lands in on an external
	// cluster (its operator's config defines it with the imports; see
	// deploy/nats/). Empty on the embedded server, where each partner gets
	// an account of its own.
	SharedAccount string
	// Credentials says the hub decides on partners' NATS connections: the
	// embedded server, or an external one whose auth callout the hub
	// answers. Without it the operator issues partners' credentials and
	// GET /v1/me/nats names no user.
	Credentials bool
}

// Access keeps one durable consumer per active partner on the release
// stream, filtered to the campaigns that partner may see (by the same
// rule as every other path), and decides on partners' NATS connections.
type Access struct {
	js      jetstream.JetStream
	catalog hub.Catalog
	opts    Options

	mu      sync.Mutex
	granter Granter
	// grants are the connections this replica admitted, by key secret
	// (grantID), so Sync can end those whose key was revoked or expired or
	// whose secret was rotated away.
	grants map[string]hub.NATSGrant
	// filters is what Sync last made each partner's consumer filter, so
	// Current can tell cheaply whether consumers lag the catalog.
	filters map[string][]string
}

var _ hub.NATSAccessProvider = (*Access)(nil)

// New returns the keeper of partners' consumers and NATS grants.
func New(js jetstream.JetStream, catalog hub.Catalog, opts Options) *Access {
	return &Access{js: js, catalog: catalog, opts: opts, filters: map[string][]string{}, grants: map[string]hub.NATSGrant{}}
}

// UseGranter makes g decide on partners' connections from now on (the
// domain service starts after NATS); until then every one is refused.
// conns, when not nil, replaces Options.Connections (the auth callout
// responder starts after Access).
func (a *Access) UseGranter(g Granter, conns Connections) {
	a.mu.Lock()
	a.granter = g
	if conns != nil {
		a.opts.Connections = conns
	}
	a.mu.Unlock()
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

// accountName is the embedded server's account of partner id.
func accountName(id string) string { return "partner-" + id }

// ackSubjects are the ack subjects of a consumer: the classic form, and
// the v2 form (with domain and account hash tokens) servers use when its
// flag is on.
func ackSubjects(c string) []string {
	return []string{
		"$JS.ACK." + wire.Stream + "." + c + ".>",
		"$JS.ACK.*.*." + wire.Stream + "." + c + ".>",
	}
}

// grant is what a connection of partner id may do. Its account imports
// just its consumer's info, MSG.NEXT (streamed: one request, many
// messages) and acks from the hub's account; a reply subject the partner
// chooses then names a subject in its own account, where nothing of the
// hub's JetStream API or KV exists. Inside, the user may ask for its
// consumer's info, fetch from it and ack, and receive on its own inbox:
// no other consumer, no stream or direct gets, no KV, no publishing.
func (a *Access) grant(g hub.NATSGrant) natsserver.Grant {
	c := ConsumerName(g.Partner)
	info := "$JS.API.CONSUMER.INFO." + wire.Stream + "." + c
	next := "$JS.API.CONSUMER.MSG.NEXT." + wire.Stream + "." + c
	acks := ackSubjects(c)
	out := natsserver.Grant{
		ID:        grantID(g),
		Account:   a.opts.SharedAccount,
		Publish:   append([]string{info, next}, acks...),
		Subscribe: []string{inboxPrefix(g.Partner) + ".>"},
	}
	if g.Expires != nil {
		out.Expires = *g.Expires
	}
	if out.Account == "" {
		out.Account = accountName(g.Partner)
		out.Imports = []natsserver.Import{{Subject: info}, {Subject: next, Streamed: true}}
		for _, s := range acks {
			out.Imports = append(out.Imports, natsserver.Import{Subject: s})
		}
	}
	return out
}

// AuthorizeNATS decides on a connection as user with password: a partner
// key (user its id, password the key), checked exactly as an HTTP
// request with it is. The embedded server and the auth callout both ask
// here.
func (a *Access) AuthorizeNATS(ctx context.Context, user, password string) (natsserver.Grant, error) {
	a.mu.Lock()
	granter := a.granter
	a.mu.Unlock()
	if granter == nil {
		return natsserver.Grant{}, errors.New("the hub is not ready to admit NATS clients")
	}
	g, err := granter.NATSGrant(ctx, user, password)
	if err != nil {
		return natsserver.Grant{}, fmt.Errorf("NATS user %q: %w", user, err)
	}
	a.mu.Lock()
	a.grants[grantID(g)] = g
	a.mu.Unlock()
	return a.grant(g), nil
}

// grantID names one secret of a key: during a rotation's grace period a
// key has two, and the old one's connections end before the new one's.
func grantID(g hub.NATSGrant) string { return g.Key + "/" + g.KeyHash[:min(12, len(g.KeyHash))] }

// checkGrants ends the connections of every admitted key that lapsed
// (revoked, expired, its partner deactivated) and forgets it.
func (a *Access) checkGrants(ctx context.Context) error {
	a.mu.Lock()
	granter, conns := a.granter, a.opts.Connections
	grants := make([]hub.NATSGrant, 0, len(a.grants))
	for _, g := range a.grants {
		grants = append(grants, g)
	}
	a.mu.Unlock()
	if granter == nil {
		return nil
	}
	var errs []error
	for _, g := range grants {
		err := granter.CheckNATSGrant(ctx, g)
		if err != nil && hub.ErrorCode(err) != hub.EUNAUTHORIZED {
			errs = append(errs, err) // unsure: keep it, ask again next time
			continue
		}
		if err == nil {
			continue
		}
		a.mu.Lock()
		delete(a.grants, grantID(g))
		a.mu.Unlock()
		if conns != nil {
			conns.Kick(grantID(g))
		}
	}
	return errors.Join(errs...)
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
func (a *Access) PartnerAccess(ctx context.Context, k *hub.Key, p *hub.Partner, aud hub.Audience) (hub.NATSAccess, error) {
	campaigns, err := a.catalog.Campaigns(ctx)
	if err != nil {
		return hub.NATSAccess{}, err
	}
	subjects := filterSubjects(aud.VisibleCampaigns(campaigns))
	if err := a.ensureConsumer(ctx, p.ID, subjects); err != nil {
		return hub.NATSAccess{}, err
	}
	acc := hub.NATSAccess{URL: a.opts.URL, Stream: wire.Stream, Consumer: ConsumerName(p.ID), InboxPrefix: inboxPrefix(p.ID), Subjects: subjects}
	if a.opts.Credentials {
		// The credential is the key: it needs no secret of its own here,
		// and expires, is revoked and rotates with the key.
		acc.User, acc.Credential, acc.Expires = k.ID, hub.NATSCredentialKey, k.Expires
	}
	return acc, nil
}

// ensureConsumer makes partner id's consumer exist with filter subjects.
// When the filter lost a subject (an entitlement removed), the consumer is
// also reset to its ack floor: messages it delivered but the partner has
// not acked would otherwise still be redelivered under the old filter,
// and the narrower filter alone does not drop them. After the reset only
// what the new filter matches comes again (clients dedupe on ce-id).
func (a *Access) ensureConsumer(ctx context.Context, id string, subjects []string) error {
	var narrowed bool
	if c, err := a.js.Consumer(ctx, wire.Stream, ConsumerName(id)); err == nil {
		old := currentFilter(c.CachedInfo().Config)
		if slices.Equal(old, subjects) {
			return nil
		}
		narrowed = slices.ContainsFunc(old, func(s string) bool { return !slices.Contains(subjects, s) })
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return fmt.Errorf("look up consumer of partner %s: %w", id, err)
	}
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
	if narrowed {
		if _, err := a.js.ResetConsumer(ctx, wire.Stream, ConsumerName(id)); err != nil {
			return fmt.Errorf("reset consumer of partner %s to its ack floor: %w", id, err)
		}
	}
	return nil
}

// Sync brings every partner's consumer in line with the catalog:
// consumers for active partners with their current filters, none for
// inactive or removed ones; and ends the connections of keys that lapsed.
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
	errs = append(errs, a.checkGrants(ctx))
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

// Run syncs every interval until ctx ends, so entitlement changes reach
// consumers, and a revoked key's connections end, within it.
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
