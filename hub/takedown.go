package hub

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// This file is the takedown acknowledgement. A kill notice (a withdrawal
// or a purge) tells outlets to take a package down; each outlet expected
// to do so confirms that it did (POST /v1/packages/{id}/takedown, or hub
// pull by itself once it removed the files), and the producer sees who
// has and who has not. The record is kept after a purge: that is when a
// producer most needs to know that every outlet honoured a withdrawn
// consent. So it holds ids, versions and times only, never anything of
// the package's content, like the audit log.

// TakedownVia is how an outlet confirmed a takedown.
type TakedownVia string

// The ways of confirming a takedown.
const (
	// TakedownViaAPI is a confirmation sent by a person or a script.
	TakedownViaAPI TakedownVia = "api"
	// TakedownViaPull is hub pull confirming by itself, once the files it
	// mirrored were removed and the removal was synced to disk.
	TakedownViaPull TakedownVia = "pull"
)

// ParseTakedownVia returns the way named s ("" is TakedownViaAPI), or
// EINVALID.
func ParseTakedownVia(s string) (TakedownVia, error) {
	switch v := TakedownVia(s); v {
	case "":
		return TakedownViaAPI, nil
	case TakedownViaAPI, TakedownViaPull:
		return v, nil
	}
	return "", Errorf(EINVALID, "via %q is not one of api, pull (leave it out for api)", s)
}

// Takedown is the record of the kill notices of one package: which
// outlets are expected to take it down and what each confirmed. One
// record per package, whatever the number of notices: a purge after a
// withdrawal adds to the withdrawal's record, and confirmations made
// after the withdrawal stand (the files are gone either way).
type Takedown struct {
	Package  string `json:"package"`
	Campaign string `json:"campaign"`
	// Version is the version the kill notice was for: the last released.
	Version int `json:"version"`
	// Event is the latest kill notice: withdrawn or purged.
	Event     Event      `json:"event"`
	Withdrawn *time.Time `json:"withdrawn,omitempty"`
	Purged    *time.Time `json:"purged,omitempty"`
	// Outlets are the partners expected to take the package down, by
	// partner id.
	Outlets []TakedownOutlet `json:"outlets"`
}

// TakedownOutlet is one partner expected to take a package down.
type TakedownOutlet struct {
	Partner string `json:"partner"`
	// PickedUp says downloads of the package by the partner are recorded:
	// it certainly had the files. Kept here because a purge erases the
	// pickups themselves.
	PickedUp bool `json:"pickedup"`
	// Confirmed is when the partner confirmed the takedown (the first
	// time; nil while it has not); Key is the id of the key it used and
	// Via how.
	Confirmed *time.Time  `json:"confirmed,omitempty"`
	Key       string      `json:"key,omitempty"`
	Via       TakedownVia `json:"via,omitempty"`
}

// TakedownStatus is where an outlet's takedown stands.
type TakedownStatus string

// The states of an outlet's takedown.
const (
	TakedownNotConfirmed TakedownStatus = "not-confirmed"
	TakedownConfirmed    TakedownStatus = "confirmed"
)

// Status says whether the outlet has confirmed.
func (o *TakedownOutlet) Status() TakedownStatus {
	if o.Confirmed != nil {
		return TakedownConfirmed
	}
	return TakedownNotConfirmed
}

// TakedownStore keeps takedown records, by package id. There is no
// delete: a record outlives its package's purge.
type TakedownStore interface {
	// Takedown returns the record of package id, read from the store
	// itself (no index that may lag), or ENOTFOUND.
	Takedown(ctx context.Context, id string) (*Takedown, error)
	// UpdateTakedown changes the record of package id under a revision
	// check, creating it from an empty one when there is none; fn's
	// error is returned as is.
	UpdateTakedown(ctx context.Context, id string, fn func(t *Takedown) error) (*Takedown, error)
}

// outlet returns the entry of partner in t, or nil.
func (t *Takedown) outlet(partner string) *TakedownOutlet {
	for i := range t.Outlets {
		if t.Outlets[i].Partner == partner {
			return &t.Outlets[i]
		}
	}
	return nil
}

// expect adds partner to the outlets (once), marking it as having
// picked the package up when pickedUp; nothing is ever removed, and a
// confirmation stays.
func (t *Takedown) expect(partner string, pickedUp bool) {
	if o := t.outlet(partner); o != nil {
		o.PickedUp = o.PickedUp || pickedUp
		return
	}
	t.Outlets = append(t.Outlets, TakedownOutlet{Partner: partner, PickedUp: pickedUp})
}

// merge adds what another reckoning of the expected outlets found.
func (t *Takedown) merge(o *Takedown) {
	for _, out := range o.Outlets {
		t.expect(out.Partner, out.PickedUp)
	}
}

// Unconfirmed counts the outlets that have not confirmed.
func (t *Takedown) Unconfirmed() int {
	n := 0
	for _, o := range t.Outlets {
		if o.Confirmed == nil {
			n++
		}
	}
	return n
}

// killNoticeSent reports whether a kill notice went out for p: it is
// withdrawn, or purged after it was released (a draft purged before its
// release was never announced, so no outlet has anything to take down).
func killNoticeSent(p *Package) bool {
	switch p.Status {
	case StatusWithdrawn:
		return true
	case StatusPurged:
		return p.WasReleased || p.Live != nil
	}
	return false
}

// expectedOutlets reckons who must take p down now: every active
// partner whose entitlements let it read p's campaign (while p was live,
// it could read p), and every partner the pickup log shows with a
// download or a republication of it, entitled or not any more. p is the
// package as stored, before a purge makes it a tombstone.
func (s *Service) expectedOutlets(ctx context.Context, p *Package) (*Takedown, error) {
	t := &Takedown{}
	c, err := s.campaign(ctx, p.Campaign)
	if err != nil {
		return nil, fmt.Errorf("read campaign %s: %w", p.Campaign, err)
	}
	partners, err := s.catalog.Partners(ctx)
	if err != nil {
		return nil, fmt.Errorf("list partners: %w", err)
	}
	for _, partner := range partners {
		if couldReadLive(partner, c) {
			t.expect(partner.ID, false)
		}
	}
	if s.pickups == nil || p.Status == StatusPurged {
		return t, nil // a purge forgot the pickups; its record kept them
	}
	err = s.pickups.Scan(ctx, p.Campaign, p.ID, func(pk Pickup) error {
		if pk.Partner != "" {
			t.expect(pk.Partner, pk.Kind == PickupDownload || pk.Kind == PickupArchive)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the pickups of %s: %w", p.ID, err)
	}
	return t, nil
}

// noteKillNotice records the kill notice just sent for p (stored, as it
// was before the change when purged is set: a purge erases pickups and
// the withdrawal time). The notice has gone out already, so a failure is
// logged, never returned: the record is reckoned again from what is left
// when a partner confirms or the producer asks.
func (s *Service) noteKillNotice(ctx context.Context, p *Package, purged *time.Time) {
	ctx = context.WithoutCancel(ctx)
	expected, err := s.expectedOutlets(ctx, p)
	if err != nil {
		s.logger.Error("reckon the outlets a kill notice is for; reckoned again when asked", "package", p.ID, "err", err)
		return
	}
	version := p.Version
	if p.Live != nil {
		version = p.Live.Version
	}
	_, err = s.catalog.UpdateTakedown(ctx, p.ID, func(t *Takedown) error {
		t.Package, t.Campaign, t.Version = p.ID, p.Campaign, max(t.Version, version)
		t.Event = EventWithdrawn
		if p.Withdrawn != nil && t.Withdrawn == nil {
			w := p.Withdrawn.UTC()
			t.Withdrawn = &w
		}
		if purged != nil {
			t.Event, t.Purged = EventPurged, purged
		}
		t.merge(expected)
		return nil
	})
	if err != nil {
		s.logger.Error("record a kill notice's takedowns; reckoned again when asked", "package", p.ID, "err", err)
	}
}

// takedown returns the record of p, which has had a kill notice, with
// the outlets reckoned now added (downloads recorded a moment before the
// withdrawal land in the log after it; a record whose write failed is
// made up here from what is left). Nothing is written.
func (s *Service) takedown(ctx context.Context, p *Package) (*Takedown, error) {
	t, err := s.catalog.Takedown(ctx, p.ID)
	switch {
	case ErrorCode(err) == ENOTFOUND:
		t = &Takedown{Package: p.ID, Campaign: p.Campaign, Version: p.Version, Event: EventWithdrawn, Withdrawn: p.Withdrawn}
		if p.Status == StatusPurged {
			t.Event = EventPurged
		}
	case err != nil:
		return nil, fmt.Errorf("read the takedowns of %s: %w", p.ID, err)
	}
	expected, err := s.expectedOutlets(ctx, p)
	if err != nil {
		return nil, err
	}
	t.merge(expected)
	return t, nil
}

// outletTakedown is what confirming a takedown and reading one's own
// start from: the record of package id as reckoned now (nothing is
// written) and the caller's audience, once the caller is known to be an
// outlet expected to take it down. Errors as ConfirmTakedown.
func (s *Service) outletTakedown(ctx context.Context, k *Key, id string) (*Takedown, Audience, error) {
	if err := mayConfirmTakedown(k); err != nil {
		return nil, Audience{}, err
	}
	if !ValidID(id) {
		return nil, Audience{}, notFound(id)
	}
	p, err := s.catalog.Package(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, Audience{}, notFound(id)
	} else if err != nil {
		return nil, Audience{}, fmt.Errorf("read package %s: %w", id, err)
	}
	aud, err := s.Audience(ctx, k)
	if err != nil {
		return nil, Audience{}, err
	}
	if aud.Partner == nil {
		return nil, Audience{}, notFound(id)
	}
	if !killNoticeSent(p) {
		c, err := s.campaign(ctx, p.Campaign)
		if err != nil {
			return nil, Audience{}, err
		}
		if CanRead(aud, c, p) {
			return nil, Audience{}, Errorf(ECONFLICT, "package %s is released and has not been withdrawn, so there is nothing to take down; a takedown is confirmed after a kill notice (a withdrawal or a purge)", id)
		}
		return nil, Audience{}, notFound(id)
	}
	t, err := s.takedown(ctx, p)
	if err != nil {
		return nil, Audience{}, err
	}
	if t.outlet(aud.Partner.ID) == nil {
		return nil, Audience{}, notFound(id)
	}
	return t, aud, nil
}

// errTakedownStands aborts the write of a confirmation made before.
var errTakedownStands = Errorf(ECONFLICT, "confirmed before")

// ConfirmTakedown records that the partner of key k took package id down
// after its kill notice, and returns the partner's entry. Only an outlet
// expected to take it down confirms: a partner that could read the
// package while it was live, or picked it up. A second confirmation
// keeps the first one's time, key and way. Returns EFORBIDDEN for a key
// that is not an outlet's, ENOTFOUND for a package the partner may not
// see or was never expected to take down, and ECONFLICT for one still
// live.
func (s *Service) ConfirmTakedown(ctx context.Context, k *Key, id string, via TakedownVia) (*TakedownOutlet, error) {
	reckoned, aud, err := s.outletTakedown(ctx, k, id)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	var mine TakedownOutlet
	t, err := s.catalog.UpdateTakedown(ctx, id, func(t *Takedown) error {
		if t.Package == "" {
			// The kill notice's own write failed: this one makes the
			// record, from what was reckoned.
			t.Package, t.Campaign, t.Version = reckoned.Package, reckoned.Campaign, reckoned.Version
			t.Event, t.Withdrawn, t.Purged = reckoned.Event, reckoned.Withdrawn, reckoned.Purged
		}
		// Kept, so that a purge, which erases the pickups, does not
		// erase who picked it up.
		t.merge(reckoned)
		o := t.outlet(aud.Partner.ID)
		if o.Confirmed != nil {
			mine = *o
			return errTakedownStands
		}
		o.Confirmed, o.Key, o.Via = &now, k.ID, via
		mine = *o
		return nil
	})
	if err == errTakedownStands {
		return &mine, nil
	} else if err != nil {
		return nil, fmt.Errorf("record the takedown of %s by %s: %w", id, aud.Partner.ID, err)
	}
	s.audit(ctx, k, AuditEntry{Action: AuditTakedownConfirm, Target: id, Package: id, Campaign: t.Campaign,
		Partner: aud.Partner.ID, Version: t.Version})
	if s.takedownConfirmed != nil {
		s.takedownConfirmed(via)
	}
	return &mine, nil
}

// OwnTakedown returns the entry of the caller's outlet in the takedowns of
// package id: whether, when, how and with which key it confirmed
// (Confirmed is nil while it has not). It reads and writes nothing else:
// an outlet learns nothing of the others. Errors are ConfirmTakedown's:
// EFORBIDDEN for a key that is not an outlet's, ENOTFOUND for a package
// the partner may not see or was never expected to take down, ECONFLICT
// for one still live.
func (s *Service) OwnTakedown(ctx context.Context, k *Key, id string) (*TakedownOutlet, error) {
	t, aud, err := s.outletTakedown(ctx, k, id)
	if err != nil {
		return nil, err
	}
	mine := *t.outlet(aud.Partner.ID)
	return &mine, nil
}

// TakedownReport is a package's takedowns as its producers see them: the
// record, with each outlet's name beside its id (the partner directory's,
// now: names are not in the record, which must outlive a purge).
type TakedownReport struct {
	Takedown
	Names map[string]string
}

// Takedowns returns the takedowns of package id, for those who may edit
// it: every outlet expected to take it down, those that have not
// confirmed first, then by name. Partners (who learn nothing of other
// outlets) and producers of other campaigns get ENOTFOUND; a package no
// kill notice went out for is ECONFLICT.
func (s *Service) Takedowns(ctx context.Context, k *Key, id string) (*TakedownReport, error) {
	if !ValidID(id) || !mayReadTakedowns(k) {
		return nil, notFound(id)
	}
	p, err := s.catalog.Package(ctx, id)
	if ErrorCode(err) == ENOTFOUND {
		return nil, notFound(id)
	} else if err != nil {
		return nil, fmt.Errorf("read package %s: %w", id, err)
	}
	if !CanEdit(k, p) {
		return nil, notFound(id)
	}
	if !killNoticeSent(p) {
		return nil, Errorf(ECONFLICT, "package %s is %s: no kill notice went out for it, so no outlet has anything to take down", id, p.Status)
	}
	t, err := s.takedown(ctx, p)
	if err != nil {
		return nil, err
	}
	r := &TakedownReport{Takedown: *t, Names: map[string]string{}}
	for _, o := range t.Outlets {
		if partner, err := s.catalog.Partner(ctx, o.Partner); err == nil {
			r.Names[o.Partner] = partner.Name
		}
	}
	slices.SortFunc(r.Outlets, func(a, b TakedownOutlet) int {
		return cmp.Or(
			cmp.Compare(boolRank(a.Confirmed != nil), boolRank(b.Confirmed != nil)),
			strings.Compare(r.Names[a.Partner], r.Names[b.Partner]),
			strings.Compare(a.Partner, b.Partner))
	})
	return r, nil
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}
