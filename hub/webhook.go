package hub

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Webhook is an HTTP endpoint a partner registered to learn of releases
// as they happen. Deliveries follow the Standard Webhooks convention
// (webhook-id, webhook-timestamp, webhook-signature) with a CloudEvents
// JSON body; publisher/webhooks.Deliverer sends them from one durable consumer per
// webhook, so one slow or dead endpoint never delays another.
//
// Unlike an API key, the secret is stored as it is: the hub signs every
// delivery with it, so a hash would not do. The webhooks bucket is never
// granted to partners' NATS users; the API shows the secret only in the
// answer that created the webhook.
type Webhook struct {
	ID      string    `json:"id"`
	Partner string    `json:"partner"`
	URL     string    `json:"url"`
	Secret  string    `json:"secret"`
	Active  bool      `json:"active"`
	Created time.Time `json:"created"`
	// CreatedBy is the id of the key the webhook was registered with: it
	// delivers only while that key stands (KeyAlive), so a leaked key,
	// once revoked, does not keep receiving packages through a webhook it
	// registered. "" on webhooks made before this was recorded, which
	// keep delivering.
	CreatedBy string `json:"createdby,omitempty"`
}

// DeadLetter records an announcement a webhook did not accept within the
// attempt cap. It stays until it is replayed successfully or the webhook
// is deleted.
type DeadLetter struct {
	Webhook string `json:"webhook"`
	// MessageID is the announcement id (the webhook-id and CloudEvents id).
	MessageID string `json:"messageid"`
	// Campaign is kept so listings and replays can apply the visibility
	// rule as it stands then, not as it stood at the failure.
	Campaign string `json:"campaign"`
	// Sequence is the release stream's sequence of the announcement, from
	// which a replay reads it back.
	Sequence   uint64    `json:"sequence"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"lasterror,omitempty"`
	LastStatus int       `json:"laststatus,omitempty"`
	Failed     time.Time `json:"failed"`
}

// WebhookSecretPrefix starts every webhook secret, as the Standard
// Webhooks convention has it; the rest is the base64 of the HMAC key.
const WebhookSecretPrefix = "whsec_"

// NewWebhookSecret returns a fresh signing secret: 32 random bytes.
func NewWebhookSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// WebhookSigningKey returns the HMAC key a secret stands for.
func WebhookSigningKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, WebhookSecretPrefix)
	if !ok {
		return nil, fmt.Errorf("webhook secret lacks the %s prefix", WebhookSecretPrefix)
	}
	return base64.StdEncoding.DecodeString(rest)
}

// MayReceive reports whether w may be sent an announcement about campaign
// c now, given its partner's current record p: by the same rule as every
// other path, and only while the webhook and the partner are active.
func (w *Webhook) MayReceive(p *Partner, c *Campaign) bool {
	if !w.Active || p == nil || p.ID != w.Partner || !p.Active {
		return false
	}
	return PartnerAudience(p).MaySeeCampaign(c)
}

// PublicAddr reports whether ip is an address on the public internet:
// not loopback, private, link-local, multicast, unspecified, shared
// (carrier NAT) or reserved. Webhook targets must be public unless the
// operator allows otherwise, so a partner cannot make the hub call into
// its own network (a cloud metadata service, NATS, an admin port).
func PublicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid(), ip.IsLoopback(), ip.IsPrivate(), ip.IsUnspecified(), ip.IsMulticast(),
		ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(), ip.IsInterfaceLocalMulticast():
		return false
	}
	for _, p := range nonPublicPrefixes {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// nonPublicPrefixes are the special-purpose ranges netip has no predicate
// for (RFC 6890 and successors).
var nonPublicPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),       // "this network"
	netip.MustParsePrefix("100.64.0.0/10"),   // shared address space (carrier NAT; some clouds' internal services)
	netip.MustParsePrefix("192.0.0.0/24"),    // IETF protocol assignments
	netip.MustParsePrefix("192.0.2.0/24"),    // documentation
	netip.MustParsePrefix("198.18.0.0/15"),   // benchmarking
	netip.MustParsePrefix("198.51.100.0/24"), // documentation
	netip.MustParsePrefix("203.0.113.0/24"),  // documentation
	netip.MustParsePrefix("240.0.0.0/4"),     // reserved, and the broadcast address
	netip.MustParsePrefix("64:ff9b::/96"),    // NAT64: would reach IPv4 addresses, private ones too
	netip.MustParsePrefix("64:ff9b:1::/48"),  // local-use NAT64
	netip.MustParsePrefix("2001:db8::/32"),   // documentation
	// IPv6 forms that embed an IPv4 address a relay or the host itself
	// would reach, private and loopback ones included, and the retired
	// site-local range some networks still route internally.
	netip.MustParsePrefix("::/96"),        // IPv4-compatible (deprecated): ::10.0.0.1, ::127.0.0.1
	netip.MustParsePrefix("2002::/16"),    // 6to4: 2002:0a00:0001:: is 10.0.0.1
	netip.MustParsePrefix("2001::/32"),    // Teredo
	netip.MustParsePrefix("fec0::/10"),    // site-local (deprecated)
	netip.MustParsePrefix("100::/64"),     // discard-only
	netip.MustParsePrefix("2001:10::/28"), // ORCHIDv1 (deprecated), not routable
}

// maxWebhookURL bounds a webhook URL; real endpoints are far shorter.
const maxWebhookURL = 2048

// checkWebhookURL validates a webhook URL and, unless private targets are
// allowed, resolves its host and refuses any address that is not public.
// The deliverer checks the address again when it dials, since a name can
// resolve differently later (DNS rebinding).
func (s *Service) checkWebhookURL(ctx context.Context, raw string) (string, error) {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "", Errorf(EINVALID, "url is required: the endpoint the hub POSTs announcements to")
	case len(raw) > maxWebhookURL:
		return "", Errorf(EINVALID, "url is longer than %d characters", maxWebhookURL)
	case err != nil:
		return "", Errorf(EINVALID, "url %q is not a URL", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", Errorf(EINVALID, "url %q must be http or https", raw)
	case u.Hostname() == "":
		return "", Errorf(EINVALID, "url %q has no host", raw)
	case u.User != nil:
		return "", Errorf(EINVALID, "url must not carry credentials; deliveries are signed with the webhook's secret instead")
	case u.Fragment != "":
		return "", Errorf(EINVALID, "url must not have a #fragment")
	}
	if s.allowPrivateTargets {
		return u.String(), nil
	}
	host := u.Hostname()
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(ips) == 0 {
			return "", Errorf(EINVALID, "the host %q of url does not resolve", host)
		}
		addrs = ips
	}
	for _, ip := range addrs {
		if !PublicAddr(ip) {
			return "", Errorf(EINVALID, "url %q points at %s, which is not a public address; the hub delivers only to the public internet", raw, ip)
		}
	}
	return u.String(), nil
}

// webhookOwner returns the partner a new webhook of k's is for: its own
// for a partner key, the one named for an admin.
func (s *Service) webhookOwner(ctx context.Context, k *Key, partner string) (*Partner, error) {
	partner, err := webhookPartner(k, partner)
	if err != nil {
		return nil, err
	}
	p, err := s.catalog.Partner(ctx, partner)
	if ErrorCode(err) == ENOTFOUND {
		return nil, Errorf(EINVALID, "there is no partner %q; create the partner first", partner)
	} else if err != nil {
		return nil, fmt.Errorf("look up partner %s: %w", partner, err)
	}
	return p, nil
}

// CreateWebhook registers an endpoint for a partner: a partner key for its
// own partner, an admin key for the partner named. The answer carries the
// signing secret; it is shown this once.
func (s *Service) CreateWebhook(ctx context.Context, k *Key, partner, rawURL string) (*Webhook, error) {
	p, err := s.webhookOwner(ctx, k, partner)
	if err != nil {
		return nil, err
	}
	u, err := s.checkWebhookURL(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	secret, err := NewWebhookSecret()
	if err != nil {
		return nil, fmt.Errorf("make webhook secret: %w", err)
	}
	w := &Webhook{ID: s.ids.New(), Partner: p.ID, URL: u, Secret: secret, Active: true, Created: s.now().UTC(), CreatedBy: k.ID}
	if err := s.catalog.CreateWebhook(ctx, w); err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	s.audit(ctx, k, AuditEntry{Action: AuditWebhookCreate, Target: w.ID, Partner: w.Partner})
	return w, nil
}

// Webhooks lists the caller's webhooks: a partner's own, every one for an
// admin.
func (s *Service) Webhooks(ctx context.Context, k *Key) ([]*Webhook, error) {
	if err := MayManageWebhooks(k); err != nil {
		return nil, err
	}
	all, err := s.catalog.Webhooks(ctx)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return slices.DeleteFunc(all, func(w *Webhook) bool { return !mayManageWebhook(k, w) }), nil
}

// webhook returns the webhook with id if k may manage it, else ENOTFOUND.
func (s *Service) webhook(ctx context.Context, k *Key, id string) (*Webhook, error) {
	if err := MayManageWebhooks(k); err != nil {
		return nil, err
	}
	missing := Errorf(ENOTFOUND, "there is no webhook %q", id)
	if !ValidID(id) {
		return nil, missing
	}
	w, err := s.catalog.Webhook(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, missing
	} else if err != nil {
		return nil, fmt.Errorf("read webhook %s: %w", id, err)
	}
	if !mayManageWebhook(k, w) {
		return nil, missing
	}
	return w, nil
}

// DeleteWebhook removes a webhook and its dead letters; the deliverer
// stops its consumer within a few seconds.
func (s *Service) DeleteWebhook(ctx context.Context, k *Key, id string) error {
	w, err := s.webhook(ctx, k, id)
	if err != nil {
		return err
	}
	if err := s.catalog.DeleteWebhook(ctx, id); ErrorCode(err) == ENOTFOUND {
		return Errorf(ENOTFOUND, "there is no webhook %q", id)
	} else if err != nil {
		return fmt.Errorf("delete webhook %s: %w", id, err)
	}
	s.audit(ctx, k, AuditEntry{Action: AuditWebhookDelete, Target: id, Partner: w.Partner})
	return nil
}

// deliverable reports whether w's partner may receive announcements about
// campaign now, by the current partner and campaign records.
func (s *Service) deliverable(ctx context.Context, w *Webhook, campaign string) (bool, error) {
	p, err := s.catalog.Partner(ctx, w.Partner)
	if ErrorCode(err) == ENOTFOUND {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("look up partner %s: %w", w.Partner, err)
	}
	c, err := s.campaign(ctx, campaign)
	if err != nil {
		return false, err
	}
	if alive, err := KeyAlive(ctx, s.catalog, w.CreatedBy, s.now()); err != nil || !alive {
		return false, err
	}
	return w.MayReceive(p, c), nil
}

// DeadLetters lists what webhook id failed to accept, oldest failure first,
// leaving out announcements of campaigns its partner may no longer see.
func (s *Service) DeadLetters(ctx context.Context, k *Key, id string) ([]*DeadLetter, error) {
	w, err := s.webhook(ctx, k, id)
	if err != nil {
		return nil, err
	}
	all, err := s.catalog.DeadLetters(ctx, w.ID)
	if err != nil {
		return nil, fmt.Errorf("list dead letters of %s: %w", w.ID, err)
	}
	out := make([]*DeadLetter, 0, len(all))
	for _, d := range all {
		ok, err := s.deliverable(ctx, w, d.Campaign)
		if err != nil {
			return nil, err
		}
		if ok || seesEverything(k) {
			out = append(out, d)
		}
	}
	return out, nil
}

// WebhookSender delivers one announcement to one webhook at once, for a
// replay. Its implementation is publisher/webhooks.Deliverer.
type WebhookSender interface {
	// Redeliver reads announcement d back from the release stream and
	// POSTs it to w. It returns the endpoint's HTTP status (0 when there
	// was no answer) and an error unless the endpoint accepted it: a plain
	// error for the endpoint's failure, a domain error for the hub's
	// (ENOTFOUND when the stream no longer holds the announcement,
	// ECONFLICT when the partner may not receive it now, EUNAVAILABLE
	// when NATS does not answer).
	Redeliver(ctx context.Context, w *Webhook, d *DeadLetter) (status int, err error)
}

// ReplayDeadLetter delivers a dead letter again now, through sender, and
// removes it once the endpoint accepts it. When the endpoint still fails,
// the dead letter stays (with the new attempt counted) and the answer is
// EUNAVAILABLE.
func (s *Service) ReplayDeadLetter(ctx context.Context, k *Key, id, msgID string, sender WebhookSender) (int, error) {
	w, err := s.webhook(ctx, k, id)
	if err != nil {
		return 0, err
	}
	missing := Errorf(ENOTFOUND, "webhook %s has no dead letter %q", id, msgID)
	if sender == nil {
		return 0, Errorf(EUNAVAILABLE, "webhook delivery is not running on this hub")
	}
	aid, err := ParseAnnouncementID(msgID)
	if err != nil {
		return 0, missing
	}
	d, err := s.catalog.DeadLetter(ctx, w.ID, msgID)
	if ErrorCode(err) == ENOTFOUND {
		return 0, missing
	} else if err != nil {
		return 0, fmt.Errorf("read dead letter %s of %s: %w", msgID, w.ID, err)
	}
	ok, err := s.deliverable(ctx, w, d.Campaign)
	if err != nil {
		return 0, err
	}
	if !ok {
		if !seesEverything(k) {
			return 0, missing
		}
		return 0, Errorf(ECONFLICT, "partner %s may not receive announcements of campaign %s now (or the partner or webhook is inactive)", w.Partner, d.Campaign)
	}
	// A release or correction of a package withdrawn, purged or released
	// again since is not sent: it would put killed content back. Only a
	// kill notice may still go out.
	p, err := s.catalog.Package(ctx, aid.Package)
	if err != nil && ErrorCode(err) != ENOTFOUND {
		return 0, fmt.Errorf("read package %s: %w", aid.Package, err)
	} else if err != nil {
		p = nil
	}
	if Superseded(aid, p) {
		if err := s.catalog.DeleteDeadLetter(ctx, w.ID, msgID); err != nil {
			return 0, fmt.Errorf("drop a superseded dead letter: %w", err)
		}
		state := "deleted"
		if p != nil {
			state = string(p.Status)
		}
		return 0, Errorf(ECONFLICT, "package %s was %s or released again since; the dead letter %s is dropped and not sent", aid.Package, state, msgID)
	}
	status, sendErr := sender.Redeliver(ctx, w, d)
	if code := ErrorCode(sendErr); code != "" && code != EINTERNAL {
		return 0, sendErr // the hub's answer (gone from the stream, not entitled), not the endpoint's
	}
	if sendErr == nil {
		s.audit(ctx, k, AuditEntry{Action: AuditDeadLetterReplay, Target: w.ID, Partner: w.Partner,
			Package: aid.Package, Campaign: d.Campaign, Version: aid.Version})
		if err := s.catalog.DeleteDeadLetter(ctx, w.ID, msgID); err != nil {
			return status, fmt.Errorf("delivered, but removing the dead letter failed: %w", err)
		}
		return status, nil
	}
	d.Attempts++
	d.LastStatus, d.LastError, d.Failed = status, sendErr.Error(), s.now().UTC()
	if err := s.catalog.PutDeadLetter(ctx, d); err != nil {
		s.logger.Warn("record a failed replay", "webhook", w.ID, "message", msgID, "err", err)
	}
	return status, Errorf(EUNAVAILABLE, "the endpoint did not accept %s (%s); the dead letter stays for another replay", msgID, sendErr)
}
