package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Release publishes a package. Without an embargo a draft (or a scheduled
// package) is released now, and a released package with a revision is
// released as a correction, version N+1. With an embargo, a draft is
// scheduled, and a scheduled package rescheduled; nothing about it reaches
// a partner before that time. Corrections take no embargo.
func (s *Service) Release(ctx context.Context, k *Key, id string, embargo *time.Time) (*Package, error) {
	if !ValidID(id) {
		return nil, notFound(id)
	}
	now := s.now().UTC()
	if embargo != nil && !embargo.After(now) {
		return nil, Errorf(EINVALID, "the embargo %s is not in the future (it is now %s); release without an embargo to publish at once",
			embargo.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	var p *Package
	for try := 1; ; try++ {
		// The pictures are credited first, outside the update (which may
		// run again), and taken only if they are still what was credited.
		var c credits
		if embargo == nil {
			current, err := s.catalog.Package(ctx, id)
			if err != nil {
				return nil, s.missingPackage(id, err)
			}
			if s.releaseCheck(k, id, current, embargo, now) == nil {
				if c, err = s.prepareCredits(ctx, current); err != nil {
					return nil, err
				}
			}
		}
		var taken map[string]bool
		var err error
		p, err = s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
			taken = map[string]bool{}
			if err := s.releaseCheck(k, id, p, embargo, now); err != nil {
				return err
			}
			if embargo != nil {
				e := embargo.UTC()
				p.Status, p.Embargo = StatusScheduled, &e
				return nil
			}
			return s.publish(p, now, c, taken)
		})
		if err != nil {
			taken = nil
		}
		s.settleCredits(context.WithoutCancel(ctx), c, taken)
		if err == errCreditsStale && try < maxCreditTries {
			continue
		}
		if err != nil {
			return nil, s.missingPackage(id, err)
		}
		break
	}
	if p.Status == StatusScheduled {
		s.wakeScheduler()
		s.auditPackage(ctx, k, AuditPackageSchedule, p)
		return p, nil
	}
	// Outlets wait on the announcement; the audit log's entry (a durable
	// write of its own) comes after it, not between the release and them.
	s.announce(ctx, p)
	s.auditPackage(ctx, k, AuditPackageRelease, p)
	return p, nil
}

// releaseCheck says why k cannot release p now (with the embargo given,
// or none), if it cannot.
func (s *Service) releaseCheck(k *Key, id string, p *Package, embargo *time.Time, now time.Time) error {
	if err := s.editable(k, id, p); err != nil {
		return err
	}
	if err := releasable(p, p.uploading(now)); err != nil {
		return err
	}
	switch {
	case p.Status == StatusReleased && embargo != nil:
		return Errorf(EINVALID, "package %s is released; a correction goes out at once and takes no embargo", id)
	case p.Status == StatusReleased && p.Version == p.Live.Version:
		return Errorf(ECONFLICT, "package %s has no changes since version %d; edit it first to release a correction", id, p.Live.Version)
	}
	return nil
}

// releasable says why p cannot be released yet, if it cannot.
func releasable(p *Package, uploading bool) error {
	if p.Anonymized {
		// Marked anonymized after these were uploaded: their names,
		// dates and software may still be in them.
		var unsafe []string
		for _, a := range p.Assets {
			if a.Scrub != ScrubAnonymized {
				unsafe = append(unsafe, fmt.Sprintf("%q", a.Name))
			}
		}
		if len(unsafe) > 0 {
			return Errorf(ECONFLICT, "package %s is anonymized, but %s %s uploaded before it was, so names, dates or software may still be in them; upload them again and the hub removes those", p.ID, strings.Join(unsafe, ", "), pluralWas(len(unsafe)))
		}
	}
	var missing []string
	if len(p.Headlines) == 0 {
		missing = append(missing, "a headline")
	}
	if len(p.Assets) == 0 {
		missing = append(missing, "an asset")
	}
	if len(missing) > 0 {
		return Errorf(ECONFLICT, "package %s cannot be released without %s", p.ID, strings.Join(missing, " and "))
	}
	if uploading {
		return Errorf(ECONFLICT, "package %s has an asset still uploading; release it when the upload has finished", p.ID)
	}
	return nil
}

// publish turns the working copy into the live version, its pictures
// credited (c, from prepareCredits; taken records the references p takes
// from it), and records the announcement to make; the caller writes it
// under a revision check. It returns errCreditsStale when a picture
// changed since it was credited.
func (s *Service) publish(p *Package, now time.Time, c credits, taken map[string]bool) error {
	event := EventReleased
	if p.Live != nil {
		event = EventCorrected
	}
	p.Status, p.Embargo = StatusReleased, nil
	p.VersionCreated = now
	live := p.Clone()
	live.Live, live.Pending, live.Blobs, live.Uploads = nil, nil, nil, nil
	for i := range live.Assets {
		// What the client sent before scrubbing is the producers' to know:
		// with an original at hand, its digest would confirm a match.
		live.Assets[i].Received = nil
	}
	if err := s.applyCredits(p, live, c, taken); err != nil {
		return err
	}
	p.Live = live
	p.Pending = &Announcement{Event: event, Version: p.Version, Time: now}
	return nil
}

// Unschedule takes a scheduled package back to draft.
func (s *Service) Unschedule(ctx context.Context, k *Key, id string) (*Package, error) {
	if !ValidID(id) {
		return nil, notFound(id)
	}
	p, err := s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
		if err := s.editable(k, id, p); err != nil {
			return err
		}
		if p.Status != StatusScheduled {
			return Errorf(ECONFLICT, "package %s is %s, not scheduled", id, p.Status)
		}
		p.Status, p.Embargo = StatusDraft, nil
		return nil
	})
	if err != nil {
		return nil, s.missingPackage(id, err)
	}
	s.auditPackage(ctx, k, AuditPackageUnschedule, p)
	return p, nil
}

// Withdraw sends a kill notice for a released package: outlets must take
// it down, and its assets stop being served to them.
func (s *Service) Withdraw(ctx context.Context, k *Key, id string) (*Package, error) {
	if !ValidID(id) {
		return nil, notFound(id)
	}
	p, err := s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
		if err := s.editable(k, id, p); err != nil {
			return err
		}
		if p.Status != StatusReleased {
			return Errorf(ECONFLICT, "package %s is %s; only a released package can be withdrawn", id, p.Status)
		}
		now := s.now().UTC()
		p.Status, p.Withdrawn = StatusWithdrawn, &now
		p.Pending = &Announcement{Event: EventWithdrawn, Version: p.Live.Version, Time: now}
		return nil
	})
	if err != nil {
		return nil, s.missingPackage(id, err)
	}
	s.noteKillNotice(ctx, p, nil)
	s.announce(ctx, p)
	s.auditPackage(ctx, k, AuditPackageWithdraw, p)
	return p, nil
}

// Purge is for when someone in a package withdraws their consent: every
// byte of every version is deleted from the store (unless an unrelated
// package holds the very same file), the metadata is reduced to a
// tombstone, and if it was ever released a kill notice goes out.
func (s *Service) Purge(ctx context.Context, k *Key, id string) (*Package, error) {
	if !ValidID(id) {
		return nil, notFound(id)
	}
	var held []string
	var before *Package // as it was, for the takedown record
	p, err := s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
		if p.Status != StatusWithdrawn { // a withdrawn package may still be purged
			if err := s.editable(k, id, p); err != nil {
				return err
			}
		} else if !CanEdit(k, p) {
			return notFound(id)
		}
		held, before = p.Blobs, p.Clone()
		wasReleased := p.Live != nil
		t := p.Tombstone()
		t.VersionCreated = s.now().UTC()
		if wasReleased {
			t.Pending = &Announcement{Event: EventPurged, Version: p.Live.Version, Time: t.VersionCreated}
		}
		*p = *t
		return nil
	})
	if err != nil {
		return nil, s.missingPackage(id, err)
	}
	// The purge's entry holds ids only, like every entry, so it stays:
	// the log keeps that consent was honoured, and by whom.
	s.auditPackage(ctx, k, AuditPackagePurge, p)
	ctx = context.WithoutCancel(ctx)
	for _, sum := range held {
		s.releaseBlob(ctx, sum)
	}
	if err := s.catalog.DeleteVersions(ctx, id); err != nil {
		s.logger.Error("delete archived versions of a purged package", "package", id, "err", err)
	}
	if p.WasReleased {
		// Before the pickups go: who picked it up must take it down.
		purged := p.VersionCreated
		s.noteKillNotice(ctx, before, &purged)
	}
	// Unscrubbed bytes on their way into it go too (this replica's; the
	// others' sweeps find theirs).
	s.deleteStaged(ctx, id)
	// Pickups name assets and republication URLs: they go too.
	if s.pickups != nil {
		if err := s.pickups.Forget(ctx, p.Campaign, id); err != nil {
			s.logger.Error("forget pickups of a purged package", "package", id, "err", err)
		}
	}
	s.announce(ctx, p)
	return p, nil
}

// Version returns released version n of a package as the caller may see
// it. Returns ENOTFOUND for a version never released or hidden.
func (s *Service) Version(ctx context.Context, k *Key, id string, n int) (*Package, error) {
	p, err := s.Package(ctx, k, id)
	if err != nil {
		return nil, err
	}
	if p.Status == StatusPurged {
		return nil, Errorf(ENOTFOUND, "package %s has no version %d", id, n)
	}
	v, err := s.catalog.Version(ctx, id, n)
	if ErrorCode(err) == ENOTFOUND {
		// The live version is archived right after its announcement; until
		// then it is read from the package itself.
		live := p // a partner's p is the live version already
		if p.Live != nil {
			live = PartnerView(p)
		}
		if live != nil && live.Live == nil && (live.Status == StatusReleased || live.Status == StatusWithdrawn) && live.Version == n {
			return live, nil
		}
		return nil, Errorf(ENOTFOUND, "package %s has no released version %d", id, n)
	} else if err != nil {
		return nil, fmt.Errorf("read version %d of %s: %w", n, id, err)
	}
	v.Status = p.Status
	if seesPartnerView(k) {
		// The archive holds the version as it was announced; its links to
		// siblings are filtered as they stand now, as the package's are: a
		// partner must not learn of a draft, embargoed or hidden sibling.
		aud, err := s.Audience(ctx, k)
		if err != nil {
			return nil, err
		}
		v.Translations = s.visibleSiblings(ctx, aud, v.Translations)
	}
	return v, nil
}

// announce publishes p's pending announcement and then marks it done.
// A failure is only logged: the announcement stays pending in the
// catalog, and Reconcile publishes it later.
func (s *Service) announce(ctx context.Context, p *Package) {
	if p.Pending == nil || s.announcer == nil {
		return
	}
	ctx = context.WithoutCancel(ctx)
	// Publish first: outlets wait on it. The archive of the version is
	// only for later reads, and the announcement stays pending (so the
	// reconciler archives it) until both are done.
	if err := s.announcer.Announce(ctx, *p.Pending, s.announcedView(ctx, p)); err != nil {
		s.logger.Warn("announce; will retry", "package", p.ID, "event", p.Pending.Event, "err", err)
		return
	}
	if err := s.archive(ctx, p); err != nil {
		s.logger.Warn("archive released version; will retry", "package", p.ID, "err", err)
		return
	}
	s.markAnnounced(ctx, p.ID, *p.Pending)
}

// archive keeps a released version readable after the next one replaces it.
func (s *Service) archive(ctx context.Context, p *Package) error {
	if p.Live == nil || p.Status == StatusPurged {
		return nil
	}
	return s.catalog.PutVersion(ctx, p.Live)
}

func (s *Service) markAnnounced(ctx context.Context, id string, a Announcement) {
	_, err := s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
		if p.Pending == nil || !p.Pending.Same(a) {
			return errAlreadyDone
		}
		p.Pending = nil
		return nil
	})
	if err != nil && err != errAlreadyDone {
		s.logger.Warn("mark announced; the reconciler will check", "package", id, "err", err)
	}
}

// errAlreadyDone aborts an update that another replica made unnecessary.
var errAlreadyDone = Errorf(ECONFLICT, "already done")

// Reconcile publishes every announcement left pending (by a crash between
// the state change and the publish, or NATS being away), unless the
// stream shows it was published already. Replicas may run it at once:
// the stream deduplicates, and marking done is revision-checked.
func (s *Service) Reconcile(ctx context.Context) (published int, err error) {
	if s.announcer == nil {
		return 0, nil
	}
	var pending []string
	err = s.eachPackage(ctx, AdminAudience().ListingFilter(nil), PackageQuery{Pending: true}, func(p *Package) error {
		if p.Pending != nil {
			pending = append(pending, p.ID)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Oldest first, as the packages were made.
	slices.Reverse(pending)
	for _, id := range pending {
		p, err := s.catalog.Package(ctx, id)
		if err != nil || p.Pending == nil {
			continue
		}
		if err := s.archive(ctx, p); err != nil {
			return published, fmt.Errorf("archive %s: %w", p.ID, err)
		}
		last, err := s.announcer.LastAnnounced(ctx, p)
		if err != nil {
			return published, fmt.Errorf("last announcement of %s: %w", p.ID, err)
		}
		// A purge is announced again even if it was: publishing it also
		// clears the package's earlier messages from the stream, which a
		// crash may have left undone.
		if last == p.Pending.ID(p.ID) && p.Pending.Event != EventPurged {
			s.markAnnounced(ctx, p.ID, *p.Pending)
			continue
		}
		if err := s.announcer.Announce(ctx, *p.Pending, s.announcedView(ctx, p)); err != nil {
			return published, fmt.Errorf("announce %s: %w", p.ID, err)
		}
		s.markAnnounced(ctx, p.ID, *p.Pending)
		published++
	}
	return published, nil
}

// scheduledPackages returns the packages the listing shows as scheduled, oldest
// id first, with the embargo each is listed with.
func (s *Service) scheduledPackages(ctx context.Context) ([]*Package, error) {
	var out []*Package
	err := s.eachPackage(ctx, AdminAudience().ListingFilter(nil), PackageQuery{Status: StatusScheduled}, func(p *Package) error {
		if p.Embargo != nil {
			out = append(out, p)
		}
		return nil
	})
	slices.Reverse(out)
	return out, err
}

// NextEmbargo returns the earliest embargo among scheduled packages, and
// false when none is scheduled.
func (s *Service) NextEmbargo(ctx context.Context) (time.Time, bool) {
	all, err := s.scheduledPackages(ctx)
	if err != nil {
		return time.Time{}, false
	}
	var next time.Time
	for _, p := range all {
		if next.IsZero() || p.Embargo.Before(next) {
			next = *p.Embargo
		}
	}
	return next, !next.IsZero()
}

// Scheduled is signalled when this replica schedules a release, so the
// scheduler can look at the new embargo at once.
func (s *Service) Scheduled() <-chan struct{} { return s.scheduled }

func (s *Service) wakeScheduler() {
	select {
	case s.scheduled <- struct{}{}:
	default:
	}
}

// FireDue releases every scheduled package whose embargo has come. With
// several replicas each may try; the revision-checked change lets exactly
// one win, and only the winner announces.
func (s *Service) FireDue(ctx context.Context) (fired int, err error) {
	all, err := s.scheduledPackages(ctx)
	if err != nil {
		return 0, err
	}
	for _, indexed := range all {
		if indexed.Embargo.After(s.now()) {
			continue
		}
		p, won, err := s.fire(ctx, indexed.ID)
		if err == errAlreadyDone || ErrorCode(err) == ENOTFOUND {
			continue
		} else if err != nil {
			return fired, fmt.Errorf("fire embargo of %s: %w", indexed.ID, err)
		}
		if won {
			fired++
			s.announce(ctx, p)
			s.auditPackage(ctx, nil, AuditPackageFire, p)
		}
	}
	return fired, nil
}

// fire releases scheduled package id if its embargo has come, crediting
// its pictures first; won is whether this call released it.
func (s *Service) fire(ctx context.Context, id string) (p *Package, won bool, err error) {
	due := func(p *Package, now time.Time) bool {
		return p.Status == StatusScheduled && p.Embargo != nil && !p.Embargo.After(now)
	}
	for try := 1; ; try++ {
		current, err := s.catalog.Package(ctx, id)
		if err != nil {
			return nil, false, err
		}
		if !due(current, s.now().UTC()) {
			return nil, false, errAlreadyDone
		}
		c, err := s.prepareCredits(ctx, current)
		if err != nil {
			return nil, false, err
		}
		var taken map[string]bool
		p, err = s.catalog.UpdatePackage(ctx, id, func(p *Package) error {
			won, taken = false, map[string]bool{}
			now := s.now().UTC()
			if !due(p, now) {
				return errAlreadyDone
			}
			if err := s.publish(p, now, c, taken); err != nil {
				return err
			}
			won = true
			return nil
		})
		if err != nil {
			won, taken = false, nil
		}
		s.settleCredits(context.WithoutCancel(ctx), c, taken)
		if err == errCreditsStale && try < maxCreditTries {
			continue
		}
		return p, won, err
	}
}

// IndexShows reports whether this replica's package index already holds
// the state that an announcement (event, of version) of package id left
// behind, or a later one. The release stream can reach a replica before
// the catalog's watch does; a feed cache refilled in between would keep
// the old state until the next release, so the feeds' invalidator asks
// this before it empties the cache a second time.
func (s *Service) IndexShows(ctx context.Context, id string, event Event, version int) bool {
	p, err := s.catalog.Listed(ctx, id)
	if err != nil || !showsAnnouncement(p, event, version) {
		return false
	}
	if s.search == nil {
		return true
	}
	// Feeds with a q filter are answered by the search index, which
	// follows the bucket on a watch of its own. While it builds (or when
	// it failed) it answers no feed, so there is nothing to wait for.
	f, err := s.search.Listed(ctx, id)
	switch {
	case errors.Is(err, ErrIndexBuilding), ErrorCode(err) == EUNAVAILABLE:
		return true
	case ErrorCode(err) == ENOTFOUND:
		return event == EventPurged // a purged package has no documents
	case err != nil:
		return false
	}
	return showsAnnouncement(f, event, version)
}

// showsAnnouncement reports whether facts p hold the state announcement
// (event, of version) left behind, or a later one.
func showsAnnouncement(p ListingFacts, event Event, version int) bool {
	switch event {
	case EventPurged:
		return p.Status == StatusPurged
	case EventWithdrawn:
		return p.Status == StatusWithdrawn || p.Status == StatusPurged
	}
	return p.Status == StatusPurged || p.Live && p.LiveVersion >= version
}

func pluralWas(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}
