package hub_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog"
	"github.com/syndication-hub/hub/hub/catalogtest"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/hub/search"
)

// TestSearchMatchesCanRead is the differential test of search against
// the visibility rule: over random catalogs, every audience finds exactly
// the packages CanRead lets it read whose readable text has the word
// (partners the live version's, never an unreleased revision's).
func TestSearchMatchesCanRead(t *testing.T) {
	for seed := uint64(1); seed < 5; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			srv := natstest.Start(t, "")
			_, js := natstest.Connect(t, srv)
			c, err := catalog.Open(t.Context(), js, catalog.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			n := catalogtest.CompareSearchWithCanRead(t, c, seed, func() catalogtest.SearchFunc {
				idx, err := search.Open(t.Context(), packagesBucket(t, js), t.TempDir(), search.Options{})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { idx.Close() })
				ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
				defer cancel()
				if err := idx.Sync(ctx); err != nil {
					t.Fatal(err)
				}
				svc := hub.NewService(c, nil, hub.ServiceOptions{Search: idx})
				return func(a hub.Audience, text string, q hub.PackageQuery) []string {
					page, err := svc.SearchAsForTest(t.Context(), a, text, q, hub.MaxSearchPage)
					if err != nil {
						t.Fatalf("search %q as %s: %v", text, a.Key.Name, err)
					}
					var ids []string
					for _, h := range page.Hits {
						ids = append(ids, h.ID)
					}
					return ids
				}
			})
			if n == 0 {
				t.Fatal("no search compared")
			}
		})
	}
}

func packagesBucket(t *testing.T, js jetstream.JetStream) jetstream.KeyValue {
	t.Helper()
	kv, err := js.KeyValue(t.Context(), catalog.PackagesBucket)
	if err != nil {
		t.Fatal(err)
	}
	return kv
}
