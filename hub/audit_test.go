package hub_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog/memory"
	"github.com/syndication-hub/hub/hub/disk"
)

// auditRecorder is an hub.AuditLog in memory, failing when told to.
type auditRecorder struct {
	mu      sync.Mutex
	entries []hub.AuditEntry
	fail    error
}

func (r *auditRecorder) Append(ctx context.Context, e hub.AuditEntry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.entries = append(r.entries, e)
	return nil
}

func (r *auditRecorder) Entries(ctx context.Context, after uint64, limit int) ([]hub.AuditEntry, uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hub.AuditEntry(nil), r.entries...), uint64(len(r.entries)), nil
}

func (r *auditRecorder) actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.entries {
		out = append(out, string(e.Actor.Role)+" "+string(e.Action))
	}
	return out
}

// TestAuditRecordsActsNotRefusals: the scheduler's release at an embargo
// is the hub's act; a refused call records nothing; a log that fails to
// record leaves the act done and says so in the hub's log.
func TestAuditRecordsActsNotRefusals(t *testing.T) {
	ctx := t.Context()
	rec := &auditRecorder{}
	var logged bytes.Buffer
	now := &clock{now: start}
	blobs, err := disk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := hub.NewService(memory.New(), blobs, hub.ServiceOptions{
		Now: now.Now, AuditLog: rec, Logger: slog.New(slog.NewTextHandler(&logged, nil)),
	})
	secret, err := svc.EnsureAdminKey(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := svc.Authenticate(ctx, secret)
	producer, _, err := svc.CreateKey(ctx, admin, hub.Key{Name: "team", Role: hub.RoleProducer})
	if err != nil {
		t.Fatal(err)
	}
	partner, _, _ := svc.CreateKey(ctx, admin, hub.Key{Name: "outlet", Role: hub.RolePartner})
	p, err := svc.CreatePackage(ctx, producer, &hub.Package{Campaign: "korgau123", Language: "ru", Headlines: []hub.Text{{Value: "Заголовок"}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.PutAsset(ctx, producer, p.ID, hub.AssetUpload{Name: "poster.png", Body: bytes.NewReader(picture(1)), Size: -1}); err != nil {
		t.Fatal(err)
	}
	// Refused: recorded nowhere.
	if _, err := svc.CreatePackage(ctx, partner, &hub.Package{Campaign: "korgau123", Language: "ru"}); err == nil {
		t.Fatal("a partner created a package")
	}
	if _, err := svc.Withdraw(ctx, producer, p.ID); err == nil {
		t.Fatal("a draft was withdrawn")
	}
	embargo := start.Add(time.Hour)
	if _, err := svc.Release(ctx, producer, p.ID, &embargo); err != nil {
		t.Fatal(err)
	}
	now.Set(embargo)
	if n, err := svc.FireDue(ctx); err != nil || n != 1 {
		t.Fatalf("fired %d: %v", n, err)
	}
	want := "hub key.create|admin key.create|admin key.create|producer campaign.create|producer package.create|producer asset.put|producer package.schedule|hub package.embargo-fired"
	if got := strings.Join(rec.actions(), "|"); got != want {
		t.Errorf("acts\n%s\nwant\n%s", got, want)
	}

	rec.fail = errors.New("the audit stream is away")
	if _, err := svc.Withdraw(ctx, producer, p.ID); err != nil {
		t.Fatalf("a withdrawal failed with its audit entry: %v", err)
	}
	if !strings.Contains(logged.String(), "an act may be missing from the audit log") || !strings.Contains(logged.String(), "package.withdraw") {
		t.Errorf("the failure was not logged: %s", logged.String())
	}
}
