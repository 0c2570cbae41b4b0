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
// or purge removes the files and leaves WITHDRAWN.txt. State, partial
// downloads and temporary files live in .hub-pull/ at the top of the
// destination; nothing half-written ever appears in a package folder.
package pull

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
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
		now: opts.Now, attempts: opts.Attempts, campaigns: opts.Campaigns}
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
	err = p.catchUp(ctx)
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
		return nil
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
		if err := p.handle(ctx, ev); err != nil {
			return false, err
		}
		p.advance(e.Cursor)
	}
	p.advance(page.Next)
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
					return p.takeDown(&pkg, ev)
				}
			}
			p.log.Warn("the package is not visible to this key any more; leaving it as it is", "package", ev.ID)
			return nil
		} else if err != nil {
			return err
		}
		switch item.Status {
		case "withdrawn", "purged":
			return p.takeDown(item, ev)
		case "released":
		default:
			return fmt.Errorf("package %s is %q, which a partner should not see", ev.ID, item.Status)
		}
		if errors.Is(last, errMismatch) && item.Version == tried {
			return last // the same version, and its bytes keep failing
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
	return fmt.Errorf("package %s kept changing while it was mirrored; will try again", ev.ID)
}
