// Package browsertest drives Debian's Chromium, headless, for the
// portal's browser tests. Every test starts its browser with Start, which
// fails the test on any console error, uncaught exception or
// Content-Security-Policy violation, and checks each page it visits with
// axe-core (vendored in testdata, see testdata/README.md): a serious or
// critical accessibility violation fails the test.
//
// Without /usr/bin/chromium a test skips, saying how to install it;
// under CI=true it fails instead (.ci/install-tools installs it).
package browsertest

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

//go:embed testdata/axe.min.js
var axeSource string

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// cspReporter runs in every document before the page's own scripts (the
// protocol's scripts are not subject to the page's CSP) and turns each
// violation into a console error, which the browser reports to us.
const cspReporter = `document.addEventListener('securitypolicyviolation', e =>
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));`

// Browser is one headless Chromium with one tab.
type Browser struct {
	t   testing.TB
	ctx context.Context

	mu       sync.Mutex
	problems []string
	allowed  []string
}

// Start launches Chromium for t (a test, or a benchmark that measures
// pages); the browser closes when t ends.
func Start(t testing.TB) *Browser {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing; .ci/install-tools installs it (apt-get install -y --no-install-recommends chromium)", chromiumPath)
		}
		t.Skipf("browser tests need %s: apt-get install -y --no-install-recommends chromium", chromiumPath)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath), chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true))
	ctx, cancelTab := chromedp.NewContext(actx)
	ctx, cancelTime := context.WithTimeout(ctx, 3*time.Minute)
	b := &Browser{t: t, ctx: ctx}
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	start := time.Now()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromiumPath, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.report(fmt.Sprintf("%s (%s)", m.Text, m.URL))
			}
		}
	}()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspReporter}); err != nil {
		t.Fatalf("install the CSP reporter: %v", err)
	}
	t.Logf("browser started in %v", time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, p := range b.problems {
			t.Errorf("browser console: %s", p)
		}
	})
	return b
}

// Allow lets console errors containing s pass: the browser logs every
// 4xx answer as an error, and a test that asks for a refusal expects one.
func (b *Browser) Allow(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.allowed = append(b.allowed, s)
}

func (b *Browser) report(p string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, a := range b.allowed {
		if strings.Contains(p, a) {
			return
		}
	}
	b.problems = append(b.problems, p)
}

// Context is the tab's context, for chromedp actions of a test's own.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs steps in the tab, failing the test on an error.
func (b *Browser) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// Visit opens url, waits for the page and checks it with axe.
func (b *Browser) Visit(url string) {
	b.t.Helper()
	b.Do(chromedp.Navigate(url), chromedp.WaitReady(chromedp.CSS("body")))
	b.CheckPage()
}

// Text returns the text of the first element sel matches.
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// Location is the tab's URL.
func (b *Browser) Location() string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return s
}

// axeRun injects axe-core when the page lacks it and reports the serious
// and critical violations as "rule: help (selectors)".
const axeRun = `(async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ': ' + v.help + ' (' + v.nodes.map(n => n.target.join(' ')).join(', ') + ')');
})()`

// CheckPage runs axe on the current page: a serious or critical
// violation fails the test.
func (b *Browser) CheckPage() {
	b.t.Helper()
	loaded, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`typeof axe !== 'undefined'`))
	if err != nil {
		b.t.Fatalf("axe: %v", err)
	}
	if !loaded {
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](axeSource+";0")); err != nil {
			b.t.Fatalf("inject axe: %v", err)
		}
	}
	violations, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](axeRun, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("axe: %v", err)
	}
	loc := b.Location()
	for _, v := range violations {
		b.t.Errorf("accessibility on %s: %s", loc, v)
	}
}
