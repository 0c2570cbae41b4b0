// Package pull is the outlet's ingest agent behind `hub pull`: it mirrors
// the packages a partner may see into a watch folder, each complete and
// verified before it appears. It catches up from the hub's change log
// where it stopped, then follows new releases over the partner's NATS
// consumer (or by polling the change log when NATS is out of reach), and
// mirrors corrections and withdrawals as they come.
//
// The destination holds one folder per package,
// <campaign>/<language>/<package id>/, with the package's assets, its
// strict ninjs form as ninjs.json, and the package as the hub sent it (the
// hub's package profile) as package.json (written last, so its arrival
// means the folder is complete). A correction moves the previous version's files to
// .versions/<n>/ in that folder before the new ones move in; a withdrawal
// or purge removes the files and leaves WITHDRAWN.txt, and then tells the
// hub the takedown is done (POST /v1/packages/{id}/takedown), once the
// removal is synced to disk; a confirmation that fails is sent again at
// a later poll or run. State, partial
// downloads and temporary files live in .hub-pull/ at the top of the
// destination; nothing half-written ever appears in a package folder.
package pull

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hubclient"
	"github.com/syndication-hub/hub/progress"
)

// Options configures a Puller.
type Options struct {
	// Dest is the destination folder (the outlet's watch folder).
	Dest string
	// Campaigns and Languages, when not empty, limit what is mirrored.
	Campaigns []string
	Languages []string
	// Follow keeps the Puller running after catching up, mirroring new
	// releases as they come.
	Follow bool
	// PollInterval is how often the change log is read when NATS is not
	// in use (default 5 s).
	PollInterval time.Duration
	// NATSRetry is how long to poll before trying NATS again after it
	// failed (default 1 min).
	NATSRetry time.Duration
	// NoNATS polls the change log even when NATS could be reached.
	NoNATS bool
	// Attempts bounds the tries of one download (default 3).
	Attempts int
	// FS is where the destination lives; nil means the OS.
	FS       FS
	Progress progress.Reporter
	Logger   *slog.Logger
	Now      func() time.Time
}

// Puller mirrors one hub into one destination folder.
type Puller struct {
	client    *hubclient.Client
	dest      string
	opts      Options
	fs        FS
	progress  progress.Reporter
	log       *slog.Logger
	now       func() time.Time
	attempts  int
	campaigns []string
	languages []string

	state *State // owned by the goroutine in Run
	// confirmTried is when each takedown confirmation last failed in this
	// run, so one is sent again at most once per PollInterval.
	confirmTried map[string]time.Time
}

// New returns a Puller that reads the hub through client.
func New(client *hubclient.Client, opts Options) (*Puller, error) {
	if opts.Dest == "" {
		return nil, errors.New("no destination folder: pass --dest")
	}
	dest, err := filepath.Abs(opts.Dest)
	if err != nil {
		return nil, fmt.Errorf("destination %s: %w", opts.Dest, err)
	}
	p := &Puller{client: client, dest: dest, opts: opts, fs: opts.FS, progress: opts.Progress, log: opts.Logger,
		now: opts.Now, attempts: opts.Attempts, campaigns: opts.Campaigns, confirmTried: map[string]time.Time{}}
	if p.fs == nil {
		p.fs = OSFS{}
	}
	if p.progress == nil {
		p.progress = progress.None{}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.now == nil {
		p.now = time.Now
	}
	if p.attempts <= 0 {
		p.attempts = 3
	}
	if p.opts.PollInterval <= 0 {
		p.opts.PollInterval = 5 * time.Second
	}
	if p.opts.NATSRetry <= 0 {
		p.opts.NATSRetry = time.Minute
	}
	for _, l := range opts.Languages {
		p.languages = append(p.languages, strings.ToLower(l))
	}
	return p, nil
}

// Run catches up with the change log, then, when following, mirrors new
// releases until ctx ends. A stop through ctx is clean: Run returns nil
// with the state saved and partial downloads kept for the next run.
func (p *Puller) Run(ctx context.Context) error {
	if err := p.fs.MkdirAll(p.partialDir(), 0o755); err != nil {
		return p.destError("prepare", err)
	}
	unlock, err := lockDest(filepath.Join(p.dest, StateDir, "lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if err := p.loadState(); err != nil {
		return err
	}
	p.removeTemporaries()
	err = p.retryFailed(ctx, true)
	if err == nil {
		err = p.confirmTakedowns(ctx)
	}
	if err == nil {
		err = p.catchUp(ctx)
	}
	switch {
	case ctx.Err() != nil:
		p.log.Info("stopped", "dest", p.dest)
		return nil
	case err != nil && !p.opts.Follow:
		return err
	case err != nil:
		p.log.Error("catching up failed; trying again while following", "err", err)
	}
	if !p.opts.Follow {
		return p.failedError()
	}
	p.follow(ctx)
	p.log.Info("stopped", "dest", p.dest)
	return nil
}

// event is one announcement, from the change log or from NATS.
type event struct {
	Kind     hub.Event
	ID       string
	Campaign string
	Language string
	Version  int
	Time     time.Time
	// Body is the package as announced: the notice to act on when the
	// package can no longer be read.
	Body json.RawMessage
}

// catchUp mirrors everything the change log holds after the cursor.
func (p *Puller) catchUp(ctx context.Context) error {
	for {
		more, err := p.pollOnce(ctx)
		if err != nil || !more {
			return err
		}
	}
}

// pageSize is how many change-log entries one poll asks for.
const pageSize = 100

// pollOnce reads one page of the change log and mirrors it entry by
// entry, then saves the cursor (each mirrored package saves the state
// too, with the cursor up to the entry before it). It reports whether
// more may wait.
func (p *Puller) pollOnce(ctx context.Context) (more bool, err error) {
	page, err := p.client.Releases(ctx, p.state.Cursor, pageSize)
	if err != nil {
		return false, fmt.Errorf("read the change log: %w", err)
	}
	start := p.state.Cursor
	defer func() {
		if p.state.Cursor != start {
			if serr := p.saveState(); err == nil {
				err = serr
			}
		}
	}()
	for _, e := range page.Items {
		id, err := hub.ParseAnnouncementID(e.ID)
		if err != nil || id.Event != e.Event {
			p.log.Warn("skipping a change-log entry that is not a hub announcement", "id", e.ID, "event", e.Event)
			p.advance(e.Cursor)
			continue
		}
		ev := event{Kind: id.Event, ID: id.Package, Version: id.Version, Campaign: e.Campaign, Language: e.Language, Body: e.Package}
		ev.Time, _ = time.Parse(time.RFC3339Nano, e.Time)
		if err := p.mirror(ctx, ev); err != nil {
			return false, err
		}
		p.advance(e.Cursor)
	}
	p.advance(page.Next)
	if err := p.retryFailed(ctx, false); err != nil {
		return false, err
	}
	if err := p.confirmTakedowns(ctx); err != nil {
		return false, err
	}
	return len(page.Items) == pageSize, nil
}

// advance moves the cursor forward, never back. The caller saves it.
func (p *Puller) advance(cursor string) bool {
	n, err := strconv.ParseUint(cursor, 10, 64)
	if err != nil {
		return false // no position to move to
	}
	cur, _ := strconv.ParseUint(p.state.Cursor, 10, 64)
	if n <= cur && p.state.Cursor != "" {
		return false
	}
	p.state.Cursor = strconv.FormatUint(n, 10)
	return true
}

// wants applies the --campaign and --lang filters.
func (p *Puller) wants(campaign, language string) bool {
	if len(p.campaigns) > 0 && !slices.Contains(p.campaigns, campaign) {
		return false
	}
	if len(p.languages) > 0 && !slices.Contains(p.languages, strings.ToLower(language)) {
		return false
	}
	return true
}

// handle brings one package in line with an announcement about it. It
// mirrors the package as the hub has it now, which may be a later version
// than the announcement's (catching up after a week away, a correction
// mirrors once) or withdrawn since.
func (p *Puller) handle(ctx context.Context, ev event) error {
	if !p.wants(ev.Campaign, ev.Language) {
		return nil
	}
	if ps := p.state.Packages[ev.ID]; ps != nil {
		done := ps.Version >= ev.Version && ps.Installing == 0
		switch ev.Kind {
		case hub.EventReleased, hub.EventCorrected:
			if done || ps.Status != "released" {
				return nil
			}
		case hub.EventWithdrawn:
			if ps.Status != "released" {
				return nil
			}
		case hub.EventPurged:
			if ps.Status == "purged" {
				return nil
			}
		}
	}
	var tried string // the version last tried, and how that went
	var last error
	for range 3 {
		item, err := p.client.Package(ctx, ev.ID)
		if hubclient.IsNotFound(err) {
			if ev.Kind.KillNotice() {
				var pkg hubclient.Package
				if json.Unmarshal(ev.Body, &pkg.Item) == nil && pkg.ID == ev.ID {
					pkg.Raw = ev.Body
					return p.takeDown(ctx, &pkg, ev)
				}
			}
			p.log.Warn("the package is not visible to this key any more; leaving it as it is", "package", ev.ID)
			return nil
		} else if err != nil {
			return err
		}
		switch item.Status {
		case "withdrawn", "purged":
			return p.takeDown(ctx, item, ev)
		case "released":
		default:
			return &packageError{id: ev.ID, err: fmt.Errorf("the hub shows it as %q, which a partner should not see", item.Status)}
		}
		if errors.Is(last, errMismatch) && item.Version == tried {
			// The same version, and its bytes keep failing.
			return &packageError{id: ev.ID, err: last}
		}
		tried = item.Version
		err = p.install(ctx, item)
		last = err
		// Bytes other than the version names: a correction came out
		// meanwhile (certain when the hub's ETag says so; possible when a
		// blob store served the download).
		if errors.Is(err, errChanged) || errors.Is(err, errMismatch) {
			p.log.Info("the package's bytes differ from what it names; reading it again", "package", ev.ID, "err", err)
			continue
		}
		return err
	}
	return &packageError{id: ev.ID, err: errors.New("it kept changing while it was mirrored")}
}

// packageError is a failure that belongs to one package (its names, its
// bytes, its state on the hub), not to the hub's reach or the
// destination: the agent records it, goes on with the rest and tries the
// package again later, so one bad package never stops an outlet's
// mirror. Any other error (the hub unreachable, the disk full) stops the
// round, to be tried again as a whole.
type packageError struct {
	id  string
	err error
}

func (e *packageError) Error() string { return "package " + e.id + ": " + e.err.Error() }
func (e *packageError) Unwrap() error { return e.err }

// Failure is a package hub pull could not mirror, kept in its state until
// a later attempt succeeds.
type Failure struct {
	Kind     hub.Event       `json:"event"`
	Campaign string          `json:"campaign"`
	Language string          `json:"language"`
	Version  int             `json:"version"`
	Body     json.RawMessage `json:"body,omitempty"`
	Reason   string          `json:"reason"`
	Attempts int             `json:"attempts"`
	First    time.Time       `json:"first"`
	Last     time.Time       `json:"last"`
}

// mirror handles ev; a failure of the package alone is recorded and
// logged, not returned.
func (p *Puller) mirror(ctx context.Context, ev event) error {
	err := p.handle(ctx, ev)
	var pe *packageError
	switch {
	case err == nil:
		if _, failed := p.state.Failed[ev.ID]; failed {
			delete(p.state.Failed, ev.ID)
			p.log.Info("mirrored a package that had failed before", "package", ev.ID)
		}
		return nil
	case !errors.As(err, &pe):
		return err
	}
	if p.state.Failed == nil {
		p.state.Failed = map[string]*Failure{}
	}
	now := p.now().UTC()
	f := p.state.Failed[ev.ID]
	if f == nil {
		f = &Failure{First: now}
		p.state.Failed[ev.ID] = f
	}
	f.Kind, f.Campaign, f.Language, f.Version, f.Body = ev.Kind, ev.Campaign, ev.Language, ev.Version, ev.Body
	f.Reason, f.Last = pe.err.Error(), now
	f.Attempts++
	p.log.Error("could not mirror a package; going on with the others and trying it again later",
		"package", ev.ID, "attempts", f.Attempts, "err", pe.err)
	return p.saveState()
}

// retryFailed tries again the packages that failed, the longest-waiting
// first: all of them at the start of a run, else each at most once per
// PollInterval.
func (p *Puller) retryFailed(ctx context.Context, all bool) error {
	ids := make([]string, 0, len(p.state.Failed))
	for id, f := range p.state.Failed {
		if all || p.now().Sub(f.Last) >= p.opts.PollInterval {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int { return p.state.Failed[a].Last.Compare(p.state.Failed[b].Last) })
	for _, id := range ids {
		f := p.state.Failed[id]
		ev := event{Kind: f.Kind, ID: id, Campaign: f.Campaign, Language: f.Language, Version: f.Version, Body: f.Body}
		if err := p.mirror(ctx, ev); err != nil {
			return err
		}
	}
	return nil
}

// failedError says which packages a one-shot run could not mirror, for
// its exit status; they are tried again on the next run.
func (p *Puller) failedError() error {
	if len(p.state.Failed) == 0 {
		return nil
	}
	ids := slices.Sorted(maps.Keys(p.state.Failed))
	var lines []string
	for _, id := range ids {
		lines = append(lines, id+": "+p.state.Failed[id].Reason)
	}
	return fmt.Errorf("%d package(s) could not be mirrored; the rest are; the next run tries them again:\n  %s",
		len(ids), strings.Join(lines, "\n  "))
}
