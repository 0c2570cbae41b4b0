package catalog_test

import (
	"context"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natstest"
)

// TestWebhooksAndDeadLetters: a webhook made on one replica is seen on
// another, its dead letters are listed per webhook, and deleting it
// removes them and keeps it gone from both indexes.
func TestWebhooksAndDeadLetters(t *testing.T) {
	ctx := context.Background()
	srv := natstest.Start(t, "")
	a, b := open(t, srv), open(t, srv)
	ids := hub.NewIDSource(time.Now)
	w1 := &hub.Webhook{ID: ids.New(), Partner: ids.New(), URL: "https://a.example/hook", Secret: "whsec_x", Active: true, Created: time.Now().UTC()}
	w2 := &hub.Webhook{ID: ids.New(), Partner: w1.Partner, URL: "https://b.example/hook", Secret: "whsec_y", Active: true, Created: time.Now().UTC()}
	for _, w := range []*hub.Webhook{w1, w2} {
		if err := a.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := b.Webhook(ctx, w1.ID); err != nil || got.URL != w1.URL || got.Secret != w1.Secret {
		t.Fatalf("the other replica reads %+v, %v", got, err)
	}

	pkg := ids.New()
	failed := time.Now().UTC()
	letters := []*hub.DeadLetter{
		{Webhook: w1.ID, MessageID: pkg + ".2.corrected", Campaign: "korgau123", Sequence: 9, Attempts: 8, Failed: failed.Add(time.Second)},
		{Webhook: w1.ID, MessageID: pkg + ".1.released", Campaign: "korgau123", Sequence: 4, Attempts: 8, Failed: failed},
		{Webhook: w2.ID, MessageID: pkg + ".1.released", Campaign: "korgau123", Sequence: 4, Attempts: 8, Failed: failed},
	}
	for _, d := range letters {
		if err := a.PutDeadLetter(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.DeadLetters(ctx, w1.ID)
	if err != nil || len(got) != 2 || got[0].MessageID != pkg+".1.released" || got[1].MessageID != pkg+".2.corrected" {
		t.Fatalf("dead letters of w1: %+v, %v", got, err)
	}
	for _, bad := range []string{"", "../x", pkg + ".1.released.>", pkg + "..1", "*"} {
		if _, err := b.DeadLetter(ctx, w1.ID, bad); hub.ErrorCode(err) != hub.ENOTFOUND {
			t.Errorf("dead letter %q: %v", bad, err)
		}
	}
	if err := b.DeleteDeadLetter(ctx, w1.ID, pkg+".2.corrected"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.DeadLetter(ctx, w1.ID, pkg+".2.corrected"); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("a replayed dead letter is still there: %v", err)
	}

	if err := b.DeleteWebhook(ctx, w1.ID); err != nil {
		t.Fatal(err)
	}
	if err := b.DeleteWebhook(ctx, w1.ID); hub.ErrorCode(err) != hub.ENOTFOUND {
		t.Errorf("deleting again: %v", err)
	}
	if left, _ := a.DeadLetters(ctx, w1.ID); len(left) != 0 {
		t.Errorf("dead letters of a deleted webhook: %+v", left)
	}
	if left, _ := a.DeadLetters(ctx, w2.ID); len(left) != 1 {
		t.Errorf("another webhook's dead letters went too: %+v", left)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := a.Webhook(ctx, w1.ID)
		all, _ := a.Webhooks(ctx)
		if hub.ErrorCode(err) == hub.ENOTFOUND && len(all) == 1 && all[0].ID == w2.ID {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the other replica still has the deleted webhook: %v, %d listed", err, len(all))
		}
		time.Sleep(10 * time.Millisecond)
	}
}
