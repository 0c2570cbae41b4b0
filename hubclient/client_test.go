package hubclient_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/hubclient"
	"github.com/syndication-hub/hub/server"
)

var pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")

func client(t *testing.T, h *hubtest.Hub, key string) *hubclient.Client {
	t.Helper()
	c, err := hubclient.New(h.URL, key, hubclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// released publishes a package with one asset and returns its id.
func released(t *testing.T, producer *hubclient.Client, asset []byte) string {
	t.Helper()
	ctx := context.Background()
	campaign, lang := "korgau123", "ru"
	p, err := producer.CreatePackage(ctx, hubclient.PackageFields{
		Campaign: &campaign, Language: &lang, Headlines: &[]hub.Text{{Value: "Заголовок"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	a, err := producer.PutAsset(ctx, p.ID, "Плакат.png", bytes.NewReader(asset), int64(len(asset)), "picture")
	if err != nil {
		t.Fatal(err)
	}
	if a.Type != "picture" || a.Size != int64(len(asset)) {
		t.Fatalf("uploaded %+v", a)
	}
	if _, err := producer.Release(ctx, p.ID, nil); err != nil {
		t.Fatal(err)
	}
	return p.ID
}

func TestDownloadResumesOnlyTheSameBytes(t *testing.T) {
	ctx := context.Background()
	h := hubtest.Start(t, hubtest.Options{})
	asset := append(append([]byte{}, pngHead...), bytes.Repeat([]byte("poster"), 1000)...)
	id := released(t, client(t, h, h.ProducerKey(t)), asset)
	partner := client(t, h, h.PartnerKey(t, "Almaty TV"))

	read := func(d *hubclient.Download) []byte {
		t.Helper()
		defer d.Body.Close()
		b, err := io.ReadAll(d.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	whole, err := partner.Download(ctx, id, "Плакат.png", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	etag := whole.ETag
	if b := read(whole); !bytes.Equal(b, asset) || whole.Offset != 0 || whole.Size != int64(len(asset)) || !strings.HasPrefix(etag, `"`) {
		t.Fatalf("whole download: offset %d size %d etag %s", whole.Offset, whole.Size, etag)
	}
	rest, err := partner.Download(ctx, id, "Плакат.png", 100, etag)
	if err != nil {
		t.Fatal(err)
	}
	if b := read(rest); !bytes.Equal(b, asset[100:]) || rest.Offset != 100 || rest.Size != int64(len(asset)) {
		t.Errorf("resumed download: offset %d size %d, %d bytes", rest.Offset, rest.Size, len(b))
	}
	other, err := partner.Download(ctx, id, "Плакат.png", 100, `"not-these-bytes"`)
	if err != nil {
		t.Fatal(err)
	}
	if b := read(other); !bytes.Equal(b, asset) || other.Offset != 0 {
		t.Errorf("with a stale If-Range the hub sent %d bytes from %d, not the whole asset", len(b), other.Offset)
	}
	_, err = partner.Download(ctx, id, "Плакат.png", int64(len(asset)), etag)
	if hubclient.StatusOf(err) != http.StatusRequestedRangeNotSatisfiable {
		t.Errorf("a range past the end: %v", err)
	}
}

func TestErrorsCarryTheHubsExplanation(t *testing.T) {
	ctx := context.Background()
	h := hubtest.Start(t, hubtest.Options{})
	producer := client(t, h, h.ProducerKey(t))
	_, err := producer.Package(ctx, "01KZZZZZZZZZZZZZZZZZZZZZZZ")
	if !hubclient.IsNotFound(err) || !strings.Contains(err.Error(), "answered 404") {
		t.Errorf("a missing package: %v", err)
	}
	campaign := "Not A Slug"
	_, err = producer.CreatePackage(ctx, hubclient.PackageFields{Campaign: &campaign})
	var he *hubclient.Error
	if !errors.As(err, &he) || he.StatusCode != 400 || he.Code != "invalid" || !strings.Contains(he.Detail, "slug") {
		t.Errorf("an invalid package: %#v", err)
	}
	if _, err := client(t, h, "hub_wrong").MyNATS(ctx); hubclient.StatusOf(err) != 401 {
		t.Errorf("a wrong key: %v", err)
	}
	for _, u := range []string{"", "ftp://hub", "hub.example.org", "https://hub.example.org/?x=1"} {
		if _, err := hubclient.New(u, "k", hubclient.Options{}); err == nil {
			t.Errorf("New(%q) accepted", u)
		}
	}
	if _, err := hubclient.New("https://hub.example.org", "", hubclient.Options{}); err == nil {
		t.Error("New without a key accepted")
	}
}

func TestReportedRepublicationsShowInTheReach(t *testing.T) {
	ctx := context.Background()
	h := hubtest.Start(t, hubtest.Options{})
	producer := client(t, h, h.ProducerKey(t))
	id := released(t, producer, append(append([]byte{}, pngHead...), "poster"...))
	partner := client(t, h, h.PartnerKey(t, "Osh TV"))
	d, err := partner.Download(ctx, id, "Плакат.png", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, d.Body)
	d.Body.Close()
	if _, err := partner.ReportRepublication(ctx, id, hubclient.Republication{
		URL: "https://osh.tv/news/1", Published: time.Now().Add(-time.Hour), Audience: 5000,
	}); err != nil {
		t.Fatal(err)
	}
	reach, err := producer.Reach(ctx, "korgau123")
	if err != nil {
		t.Fatal(err)
	}
	if reach.Outlets != 1 || reach.Downloads.Total != 1 || reach.Republications != 1 || reach.Audience != 5000 {
		t.Errorf("reach %s", reach.Raw)
	}
}

// TestRateLimitedCallsWaitAndRetry: over the hub's per-key limit, the
// client waits the Retry-After the hub sent and tries again, so a tool
// slows down instead of failing; a body it cannot send again is not
// retried.
func TestRateLimitedCallsWaitAndRetry(t *testing.T) {
	h := hubtest.Start(t, hubtest.Options{Configure: func(c *server.Config) {
		c.RateLimitPerKey, c.RateLimitPerKeyBurst = 1, 1 // one a second: Retry-After 1
	}})
	producer := client(t, h, h.ProducerKey(t))
	ctx := context.Background()
	campaign, lang := "korgau123", "ru"
	p, err := producer.CreatePackage(ctx, hubclient.PackageFields{Campaign: &campaign, Language: &lang})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := producer.Package(ctx, p.ID); err != nil { // over the limit: waited for and retried
		t.Fatalf("a call over the limit was not retried: %v", err)
	}
	_, err = producer.PutAsset(ctx, p.ID, "x.png", io.MultiReader(bytes.NewReader(pngHead)), int64(len(pngHead)), "")
	if hubclient.StatusOf(err) != http.StatusTooManyRequests {
		t.Errorf("a streamed body over the limit: %v, want the 429 itself", err)
	}
	var e *hubclient.Error
	if errors.As(err, &e) && e.RetryAfter != time.Second {
		t.Errorf("RetryAfter %s", e.RetryAfter)
	}
}
