package push_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/syndication-hub/hub/hubclient"
	"github.com/syndication-hub/hub/push"
)

// loseCreateAnswers delivers every request but loses the hub's answer to
// package creates, as a push that crashed (or whose connection broke)
// after the hub created the package would.
type loseCreateAnswers struct{ next http.RoundTripper }

func (l loseCreateAnswers) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := l.next.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost && r.URL.Path == "/v1/packages" {
		resp.Body.Close()
		return nil, errors.New("connection lost before the answer")
	}
	return resp, err
}

// TestPushReRunAfterLostCreateMakesNoDuplicate: the hub created a package
// but the push never heard; re-run, it sends the same Idempotency-Key and
// gets that package back, so the hub holds one package per language.
func TestPushReRunAfterLostCreateMakesNoDuplicate(t *testing.T) {
	e := newEnv(t)
	dir := folder(t, map[string]string{
		"hub.yaml":            manifest,
		"Плакат кампании.png": string(png("poster")),
		"ru/статья.txt":       "Текст статьи на русском языке.\n",
		"kk/мақала.txt":       "Мақаланың мәтіні.\n",
	})
	key := e.hub.ProducerKey(t)
	lossy, err := hubclient.New(e.hub.URL, key, hubclient.Options{
		HTTPClient: &http.Client{Transport: loseCreateAnswers{http.DefaultTransport}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := push.New(lossy, push.Options{}).Push(context.Background(), push.Request{Dir: dir}); err == nil {
		t.Fatal("a push that lost the create's answer succeeded")
	}
	// The re-run, with the same producer key.
	c, err := hubclient.New(e.hub.URL, key, hubclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := push.New(c, push.Options{}).Push(context.Background(), push.Request{Dir: dir})
	if err != nil {
		t.Fatalf("the re-run: %v", err)
	}
	res := byLanguage(out)
	creates := e.hub.Requests("POST", "/v1/packages")
	for _, r := range creates {
		if r.Path == "/v1/packages" && r.Header.Get("Idempotency-Key") == "" {
			t.Error("a create went out without an Idempotency-Key")
		}
	}
	ps, err := e.hub.Server.Catalog().Packages(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("%d packages after a lost create and a re-run; want 2 (ru, kk)", len(ps))
	}
	for _, lang := range []string{"ru", "kk"} {
		if res[lang].ID == "" {
			t.Errorf("%s: no package: %+v", lang, res)
		}
	}
}
