package hub

import (
	"context"
	"fmt"
	"math"
	"time"
)

// This file is the audit log: who did what to which package, key, partner,
// campaign, webhook or feed token, and when. Entries carry ids, the
// action and the actor's key id, name and role, and nothing else: never a
// headline, body, asset name, URL, partner name or secret. So an entry may
// stay after a purge (which erases everything a survivor could be
// identified by), and it does: the purge's own entry included. The Service
// records every entry itself, after a write succeeded (one place, so no
// handler or tool can forget it); who may read the log is MayReadAudit's
// question.

// AuditAction names what was done; the part before the dot is the kind
// of thing it was done to.
type AuditAction string

// The actions the audit log records.
const (
	AuditPackageCreate     AuditAction = "package.create"
	AuditPackageUpdate     AuditAction = "package.update"
	AuditPackageDelete     AuditAction = "package.delete"
	AuditPackageRelease    AuditAction = "package.release"
	AuditPackageSchedule   AuditAction = "package.schedule"
	AuditPackageUnschedule AuditAction = "package.unschedule"
	AuditPackageWithdraw   AuditAction = "package.withdraw"
	AuditPackagePurge      AuditAction = "package.purge"
	// AuditPackageFire is the scheduler releasing a package at its
	// embargo: the hub's own act, recorded with the hub as the actor.
	AuditPackageFire    AuditAction = "package.embargo-fired"
	AuditAssetPut       AuditAction = "asset.put"
	AuditAssetUpdate    AuditAction = "asset.update"
	AuditAssetDelete    AuditAction = "asset.delete"
	AuditKeyCreate      AuditAction = "key.create"
	AuditKeyRevoke      AuditAction = "key.revoke"
	AuditKeyRotate      AuditAction = "key.rotate"
	AuditPartnerCreate  AuditAction = "partner.create"
	AuditPartnerUpdate  AuditAction = "partner.update"
	AuditCampaignCreate AuditAction = "campaign.create"
	AuditCampaignUpdate AuditAction = "campaign.update"
	// A change of a campaign's visibility is an act of its own: making
	// one public shows its packages to everyone, at once.
	AuditCampaignPublic       AuditAction = "campaign.made-public"
	AuditCampaignPartnersOnly AuditAction = "campaign.made-partners-only"
	AuditWebhookCreate        AuditAction = "webhook.create"
	AuditWebhookDelete        AuditAction = "webhook.delete"
	AuditDeadLetterReplay     AuditAction = "webhook.replay"
	AuditFeedTokenIssue       AuditAction = "feedtoken.issue"
	AuditFeedTokenRevoke      AuditAction = "feedtoken.revoke"
	// AuditTakedownConfirm is an outlet confirming it took a package
	// down after a kill notice; recorded once, at the first confirmation.
	AuditTakedownConfirm AuditAction = "takedown.confirm"
)

// AuditActor is who acted: the key's id, name and role. Name is what the
// admin called the key ("KORGAU123 team"), never its secret. The hub's
// own acts (an embargo firing) have the role "hub" and no id.
type AuditActor struct {
	Key  string `json:"key,omitempty"`
	Name string `json:"name"`
	Role Role   `json:"role"`
}

// AuditEntry is one act in the audit log. Target is the id of what was
// acted on (a package id, key id, partner id, campaign slug, webhook id);
// Package and Campaign are filled in where an act concerns a package, so
// a whole package's history can be followed; Partner where it concerns a
// partner's webhook or feed token. Version is the package version an act
// released or withdrew.
type AuditEntry struct {
	// Sequence is the entry's position in the log, set when it is read.
	Sequence uint64      `json:"sequence,omitempty"`
	Time     time.Time   `json:"time"`
	Actor    AuditActor  `json:"actor"`
	Action   AuditAction `json:"action"`
	Target   string      `json:"target"`
	Package  string      `json:"package,omitempty"`
	Campaign string      `json:"campaign,omitempty"`
	Partner  string      `json:"partner,omitempty"`
	Version  int         `json:"version,omitempty"`
}

// AuditLog keeps the audit log. Its implementation is publisher/audit, on
// a JetStream stream of its own; the interface is here so the domain does
// not import NATS.
type AuditLog interface {
	// Append stores e and returns once it is stored.
	Append(ctx context.Context, e AuditEntry) error

	// Entries returns up to limit entries after sequence after, oldest
	// first, and the sequence to continue from (after itself when there
	// is nothing newer). Entries older than the log's retention are gone.
	Entries(ctx context.Context, after uint64, limit int) ([]AuditEntry, uint64, error)
}

// auditTimeout bounds how long a write waits for its audit entry, which is
// stored after the write has succeeded and must neither fail nor stall it.
const auditTimeout = 2 * time.Second

// hubActor is the actor of the hub's own acts.
var hubActor = AuditActor{Name: "hub", Role: "hub"}

// actorOf is k as the audit log names it.
func actorOf(k *Key) AuditActor {
	if k == nil {
		return hubActor
	}
	return AuditActor{Key: k.ID, Name: k.Name, Role: k.Role}
}

// audit records that the holder of k did e.Action to e.Target. The write
// it records has happened already, so a failure to record is logged,
// never returned: refusing a withdrawal because the audit stream is slow
// would be worse than a gap in the log.
func (s *Service) audit(ctx context.Context, k *Key, e AuditEntry) {
	if s.auditLog == nil {
		return
	}
	e.Time, e.Actor = s.now().UTC(), actorOf(k)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	if err := s.auditLog.Append(ctx, e); err != nil {
		// err says whether the entry is missing or only unconfirmed.
		s.logger.Error("an act may be missing from the audit log", "action", e.Action, "target", e.Target,
			"actor", e.Actor.Key, "err", err)
	}
}

// auditPackage records an act on package p.
func (s *Service) auditPackage(ctx context.Context, k *Key, action AuditAction, p *Package) {
	e := AuditEntry{Action: action, Target: p.ID, Package: p.ID, Campaign: p.Campaign}
	switch action {
	case AuditPackageRelease, AuditPackageFire, AuditPackageWithdraw, AuditPackagePurge:
		e.Version = p.Version
		if p.Live != nil {
			e.Version = p.Live.Version
		}
	}
	s.audit(ctx, k, e)
}

// Audit returns the audit log after sequence after, for admins only.
// Returns EFORBIDDEN for any other key, EINVALID for a limit out of
// range and EUNAVAILABLE when the hub keeps no audit log.
func (s *Service) Audit(ctx context.Context, k *Key, after uint64, limit int) ([]AuditEntry, uint64, error) {
	if err := MayReadAudit(k); err != nil {
		return nil, after, err
	}
	if limit < 1 || limit > MaxPageSize {
		return nil, after, Errorf(EINVALID, "limit must be between 1 and %d", MaxPageSize)
	}
	if s.auditLog == nil {
		return nil, after, Errorf(EUNAVAILABLE, "the audit log is not available")
	}
	if after == math.MaxUint64 {
		return []AuditEntry{}, after, nil // nothing can come after the last sequence
	}
	entries, next, err := s.auditLog.Entries(ctx, after, limit)
	if err != nil {
		return nil, after, fmt.Errorf("read the audit log: %w", err)
	}
	return entries, next, nil
}
