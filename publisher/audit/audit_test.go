package audit_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/publisher/audit"
)

// TestAuditLogAppendsAndPages stores entries, reads them back in pages
// with their sequences as cursors, steps over what is not an entry, and
// checks the stream keeps the configured retention and refuses purges
// and deletions: nothing but age removes an entry.
func TestAuditLogAppendsAndPages(t *testing.T) {
	srv := natstest.Start(t, "")
	_, js := natstest.Connect(t, srv)
	ctx := context.Background()
	l, err := audit.Open(ctx, js, audit.Options{Retention: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got, next, err := l.Entries(ctx, 0, 10); err != nil || len(got) != 0 || next != 0 {
		t.Fatalf("an empty log: %v, next %d, %v", got, next, err)
	}
	at := time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC)
	actions := []hub.AuditAction{hub.AuditKeyCreate, hub.AuditPackageCreate, hub.AuditPackageRelease, hub.AuditPackagePurge, hub.AuditWebhookDelete}
	for i, a := range actions {
		if i == 2 {
			// Not an entry: skipped on reading, its sequence passed over.
			if _, err := js.Publish(ctx, audit.SubjectPrefix+".package", []byte("not json")); err != nil {
				t.Fatal(err)
			}
		}
		e := hub.AuditEntry{Time: at, Actor: hub.AuditActor{Key: "K1", Name: "team", Role: hub.RoleProducer}, Action: a, Target: "T"}
		if err := l.Append(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	var got []hub.AuditEntry
	var after uint64
	for {
		page, next, err := l.Entries(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			if next != after {
				t.Errorf("an empty page moved the cursor from %d to %d", after, next)
			}
			break
		}
		if next != page[len(page)-1].Sequence {
			t.Errorf("next %d is not the page's last sequence %d", next, page[len(page)-1].Sequence)
		}
		got, after = append(got, page...), next
	}
	if len(got) != len(actions) {
		t.Fatalf("read %d entries, want %d: %+v", len(got), len(actions), got)
	}
	for i, e := range got {
		if e.Action != actions[i] || e.Actor.Key != "K1" || !e.Time.Equal(at) || e.Sequence == 0 {
			t.Errorf("entry %d: %+v", i, e)
		}
	}
	if got[2].Sequence != got[1].Sequence+2 {
		t.Errorf("the non-entry was not passed over: sequences %d, %d", got[1].Sequence, got[2].Sequence)
	}
	if audit.Subject(hub.AuditPackagePurge) != "hub.audit.package" || audit.Subject("odd") != "hub.audit.odd" {
		t.Errorf("subjects %s, %s", audit.Subject(hub.AuditPackagePurge), audit.Subject("odd"))
	}

	stream, err := js.Stream(ctx, audit.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := stream.CachedInfo().Config; cfg.MaxAge != time.Hour || !cfg.DenyDelete || !cfg.DenyPurge {
		t.Errorf("stream config: max age %s, deny delete %v, deny purge %v", cfg.MaxAge, cfg.DenyDelete, cfg.DenyPurge)
	}
	if err := stream.Purge(ctx, jetstream.WithPurgeSubject(audit.SubjectPrefix+".package")); err == nil {
		t.Error("the audit stream let a purge through")
	}
	if err := stream.DeleteMsg(ctx, got[0].Sequence); err == nil {
		t.Error("the audit stream let an entry be deleted")
	}
	// Opening again (a restart with another retention) keeps the entries.
	if _, err := audit.Open(ctx, js, audit.Options{}); err != nil {
		t.Fatal(err)
	}
	if s, _ := js.Stream(ctx, audit.Stream); s.CachedInfo().Config.MaxAge != audit.DefaultRetention {
		t.Errorf("retention after reopening: %s", s.CachedInfo().Config.MaxAge)
	}
	if page, _, _ := l.Entries(ctx, 0, 500); len(page) != len(actions) {
		t.Errorf("after reopening %d entries", len(page))
	}
}
