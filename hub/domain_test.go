package hub_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog/memory"
	"github.com/syndication-hub/hub/hub/disk"
)

// This file is the harness of the domain's own tests: the Service over the
// in-memory catalog and a disk blob store in t.TempDir(), with a clock the
// test moves and an announcer that remembers what it was given. No HTTP,
// no NATS: what these tests check is the rule, and the HTTP and NATS tests
// check that every path asks it.

// domain is one hub's domain, as a test drives it.
type domain struct {
	t       *testing.T
	svc     *hub.Service
	catalog *memory.Catalog
	blobDir string
	clock   *clock
	sent    *announcements
	admin   *hub.Key
}

// clock is the fake clock the Service reads through ServiceOptions.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// announcements is an hub.Announcer that keeps what it is asked to
// publish, in order.
type announcements struct {
	mu   sync.Mutex
	sent []announced
}

type announced struct {
	id   string
	view *hub.Package
}

func (a *announcements) Announce(ctx context.Context, an hub.Announcement, view *hub.Package) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sent = append(a.sent, announced{an.ID(view.ID), view})
	return nil
}

func (a *announcements) LastAnnounced(ctx context.Context, p *hub.Package) (string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := len(a.sent) - 1; i >= 0; i-- {
		if a.sent[i].view.ID == p.ID {
			return a.sent[i].id, nil
		}
	}
	return "", nil
}

// ids returns the ids of everything announced so far.
func (a *announcements) ids() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, s := range a.sent {
		out = append(out, s.id)
	}
	return out
}

// start is when every domain test begins: 25 November 2026, 06:00 UTC.
var start = time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)

func newDomain(t *testing.T) *domain {
	t.Helper()
	return newDomainWith(t, hub.ServiceOptions{}, nil)
}

// newDomainWith is newDomain with the parts opts wires (its clock and
// announcer are the domain's), over the catalog wrap makes of the
// in-memory one when wrap is not nil.
func newDomainWith(t *testing.T, opts hub.ServiceOptions, wrap func(*memory.Catalog) hub.Catalog) *domain {
	t.Helper()
	d := &domain{t: t, catalog: memory.New(), blobDir: t.TempDir(), clock: &clock{now: start}, sent: &announcements{}}
	blobs, err := disk.Open(d.blobDir)
	if err != nil {
		t.Fatal(err)
	}
	opts.Now, opts.Announcer = d.clock.Now, d.sent
	var c hub.Catalog = d.catalog
	if wrap != nil {
		c = wrap(d.catalog)
	}
	d.svc = hub.NewService(c, blobs, opts)
	secret, err := d.svc.EnsureAdminKey(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if d.admin, err = d.svc.Authenticate(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	return d
}

// key makes a key as an admin would.
func (d *domain) key(req hub.Key) *hub.Key {
	d.t.Helper()
	if req.Name == "" {
		req.Name = string(req.Role)
	}
	k, _, err := d.svc.CreateKey(d.t.Context(), d.admin, req)
	if err != nil {
		d.t.Fatal(err)
	}
	return k
}

// partner records a partner outlet entitled to campaigns.
func (d *domain) partner(name string, active bool, campaigns ...string) *hub.Partner {
	d.t.Helper()
	p, err := d.svc.CreatePartner(d.t.Context(), d.admin, &hub.Partner{Name: name, Medium: hub.MediumTV, Campaigns: campaigns, Active: true})
	if err != nil {
		d.t.Fatal(err)
	}
	if !active {
		off := false
		if p, err = d.svc.UpdatePartner(d.t.Context(), d.admin, p.ID, hub.PartnerPatch{Active: &off}); err != nil {
			d.t.Fatal(err)
		}
	}
	return p
}

// campaign records a campaign with the given visibility.
func (d *domain) campaign(slug string, v hub.Visibility) {
	d.t.Helper()
	if _, err := d.svc.CreateCampaign(d.t.Context(), d.admin, &hub.Campaign{Slug: slug, Visibility: v}); err != nil {
		d.t.Fatal(err)
	}
}

// draft creates a package with a headline in campaign, as k.
func (d *domain) draft(k *hub.Key, campaign, language, headline string) *hub.Package {
	d.t.Helper()
	p, err := d.svc.CreatePackage(d.t.Context(), k, &hub.Package{Campaign: campaign, Language: language,
		Headlines: []hub.Text{{Value: headline}}})
	if err != nil {
		d.t.Fatal(err)
	}
	return p
}

// picture returns the bytes of a small PNG; seed makes them differ.
func picture(seed int) []byte {
	head := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	return append(head, []byte(fmt.Sprintf("picture %d", seed))...)
}

// upload puts an asset into package id, as k.
func (d *domain) upload(k *hub.Key, id, name string, body []byte) *hub.Asset {
	d.t.Helper()
	a, _, err := d.svc.PutAsset(d.t.Context(), k, id, hub.AssetUpload{Name: name, Body: bytes.NewReader(body), Size: int64(len(body))})
	if err != nil {
		d.t.Fatalf("upload %s into %s: %v", name, id, err)
	}
	return a
}

// released makes a released package with one picture in campaign.
func (d *domain) released(k *hub.Key, campaign, headline string, seed int) *hub.Package {
	d.t.Helper()
	p := d.draft(k, campaign, "kk", headline)
	d.upload(k, p.ID, "poster.png", picture(seed))
	p, err := d.svc.Release(d.t.Context(), k, p.ID, nil)
	if err != nil {
		d.t.Fatal(err)
	}
	return p
}

// blobFiles counts the blobs stored on disk.
func (d *domain) blobFiles() int {
	d.t.Helper()
	n := 0
	err := filepath.WalkDir(d.blobDir, func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		d.t.Fatal(err)
	}
	return n
}

// wantCode fails unless err carries the domain error code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := hub.ErrorCode(err); got != code {
		t.Fatalf("%s: %v (code %q), want %s", what, err, got, code)
	}
}
