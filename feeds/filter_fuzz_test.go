package feeds_test

import (
	"net/url"
	"testing"

	"github.com/syndication-hub/hub/feeds"
	"github.com/syndication-hub/hub/hub"
)

// FuzzParseFilter: a feed URL's query is anyone's. ParseFilter refuses
// with EINVALID or gives a filter within bounds whose canonical query
// (the cache key and the feed's own URL) parses back to the same filter,
// and is the same for every query that means that filter.
func FuzzParseFilter(f *testing.F) {
	for _, q := range []string{"", "campaign=korgau123&lang=KK&kind=Picture&limit=10", "limit=0", "limit=201", "limit=50", "lang=x-", "kind=hologram",
		"utm_source=x&campaign=a", "limit=1&limit=2", "campaign=%00", "lang=sr-latn-rs", "%zz=1", "limit=",
		"q=домогательство", "q=", "q=%00", "q=+a+", "q=a&q=b", "q=%3Cmark%3E"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return // the HTTP server has already parsed what it could
		}
		filter, err := feeds.ParseFilter(q)
		if err != nil {
			if hub.ErrorCode(err) != hub.EINVALID {
				t.Fatalf("ParseFilter(%q): code %q", raw, hub.ErrorCode(err))
			}
			return
		}
		if filter.Limit < 1 || filter.Limit > feeds.MaxLimit {
			t.Fatalf("ParseFilter(%q): limit %d", raw, filter.Limit)
		}
		canonical := filter.Query()
		cq, err := url.ParseQuery(canonical)
		if err != nil {
			t.Fatalf("canonical query %q does not parse: %v", canonical, err)
		}
		again, err := feeds.ParseFilter(cq)
		if err != nil || again != filter {
			t.Fatalf("ParseFilter(%q) = %+v, its query %q parses as %+v, %v", raw, filter, canonical, again, err)
		}
		if again.Query() != canonical {
			t.Fatalf("the canonical query of %q is not stable: %q, %q", raw, canonical, again.Query())
		}
	})
}
