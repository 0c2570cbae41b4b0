package hub

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MaxReachDays bounds the days a ReachReport counts downloads by: the
// newest, so a campaign that ran for years costs a page no more.
const MaxReachDays = 92

// ReachReport is a campaign's Reach with what a page draws beside the
// totals: downloads by day and every republication reported.
type ReachReport struct {
	Reach
	// Days counts download requests (assets and zips) per calendar day
	// in the report's time zone, from the first day with a download to
	// the last, days without one included (at most MaxReachDays).
	Days []DayDownloads
	// Reports are the republications the Reach counts (the last report
	// per partner, package and URL), newest publication first.
	Reports []RepublicationReport
}

// DayDownloads is one day's download requests.
type DayDownloads struct {
	Day      time.Time
	Requests int
}

// RepublicationReport is one republication with its outlet's name.
type RepublicationReport struct {
	Pickup
	PartnerName string
}

// ReachReport computes the reach of campaign as Reach does, for the same
// callers (others get ENOTFOUND), with downloads by day in loc and the
// republications listed.
func (s *Service) ReachReport(ctx context.Context, k *Key, campaign string, loc *time.Location) (*ReachReport, error) {
	if !mayReadReach(k) {
		return nil, Errorf(ENOTFOUND, "there is no campaign %q", campaign)
	}
	if _, err := s.Campaign(ctx, k, campaign); err != nil {
		return nil, err
	}
	if s.pickups == nil {
		return nil, Errorf(EUNAVAILABLE, "this hub records no pickups")
	}
	if loc == nil {
		loc = time.UTC
	}
	t := newReachTally()
	days := map[time.Time]int{}
	reports := map[republicationKey]Pickup{}
	err := s.pickups.Scan(ctx, campaign, "", func(p Pickup) error {
		t.add(p)
		switch p.Kind {
		case PickupDownload, PickupArchive:
			days[dayOf(p.Time, loc)]++
		case PickupRepublication:
			reports[republicationKey{p.who(), p.Package, p.URL}] = p
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the pickups of %s: %w", campaign, err)
	}
	r := &ReachReport{Reach: *t.reach(campaign), Days: dayRun(days, loc)}
	names := map[string]string{}
	for _, p := range reports {
		name, seen := names[p.Partner]
		if !seen && p.Partner != "" {
			if partner, err := s.catalog.Partner(ctx, p.Partner); err == nil {
				name = partner.Name
			}
			names[p.Partner] = name
		}
		r.Reports = append(r.Reports, RepublicationReport{Pickup: p, PartnerName: name})
	}
	slices.SortFunc(r.Reports, func(a, b RepublicationReport) int {
		return cmp.Or(b.Published.Compare(*a.Published), strings.Compare(a.URL, b.URL))
	})
	return r, nil
}

// dayOf is the midnight in loc that begins t's day there.
func dayOf(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

// dayRun returns the counts from the first day to the last, the days
// between with none included, the newest MaxReachDays of them.
func dayRun(counts map[time.Time]int, loc *time.Location) []DayDownloads {
	if len(counts) == 0 {
		return nil
	}
	var first, last time.Time
	for d := range counts {
		if first.IsZero() || d.Before(first) {
			first = d
		}
		if d.After(last) {
			last = d
		}
	}
	var out []DayDownloads
	// AddDate, not 24 hours: a day with a clock change is 23 or 25 long.
	for d := last; !d.Before(first) && len(out) < MaxReachDays; d = dayOf(d.AddDate(0, 0, -1), loc) {
		out = append(out, DayDownloads{Day: d, Requests: counts[d]})
	}
	slices.Reverse(out)
	return out
}
