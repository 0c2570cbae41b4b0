// Command table runs the hub's benchmarks that have targets, one `go test
// -bench` at a time, reads their metrics from the result lines and prints
// one Markdown table: each measurement beside what it is compared with,
// their ratio, the target and whether it was met; then the machine it ran
// on and how each benchmark went. A metric a benchmark did not report
// (it skipped, failed, or does not report it yet) prints as "not
// measured".
//
//	go run ./bench/table            # the full sizes (45–60 minutes on 2 cores)
//	go run ./bench/table -quick     # smaller sizes (10–15 minutes)
//	go run ./bench/table -only transfer,release
//
// The benchmarks' own output goes to stderr as they run; the table to
// stdout. BENCH_* variables already set in the environment are passed on
// unchanged and win over both modes' sizes.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"time"
)

// benchmark is one `go test -bench` run.
type benchmark struct {
	key  string // for -only
	pkg  string
	name string // the benchmark function
	// full and quick are the BENCH_* sizes of each mode.
	full, quick []string
	// short passes -short in quick mode (BenchmarkFeedVsStaticFile's
	// shorter phases).
	short bool
}

var benchmarks = []benchmark{
	{
		key: "transfer", pkg: "./bench/", name: "BenchmarkTransfer",
		full:  []string{"BENCH_ASSET_BYTES=1073741824", "BENCH_ROUNDS=3"},
		quick: []string{"BENCH_ASSET_BYTES=67108864", "BENCH_ROUNDS=1"},
	},
	{
		key: "concurrent", pkg: "./bench/", name: "BenchmarkConcurrentTransfer",
		full:  []string{"BENCH_CONCURRENT=100", "BENCH_CONCURRENT_BYTES=10485760", "BENCH_ROUNDS=3"},
		quick: []string{"BENCH_CONCURRENT=100", "BENCH_CONCURRENT_BYTES=1048576", "BENCH_ROUNDS=1"},
	},
	{
		key: "scrub", pkg: "./bench/", name: "BenchmarkScrubbedUpload",
		full:  []string{"BENCH_VIDEO_BYTES=1073741824", "BENCH_ROUNDS=3"},
		quick: []string{"BENCH_VIDEO_BYTES=67108864", "BENCH_ROUNDS=1"},
	},
	{
		key: "release", pkg: "./publisher/releases/", name: "BenchmarkReleaseToSubscriber",
		full:  []string{"BENCH_RELEASES=2000", "BENCH_RELEASE_RUNS=3"},
		quick: []string{"BENCH_RELEASES=500", "BENCH_RELEASE_RUNS=3"},
	},
	{
		key: "feed", pkg: "./hub/api/", name: "BenchmarkFeedVsStaticFile", short: true,
	},
	{
		key: "catalog", pkg: "./bench/", name: "BenchmarkCatalog",
		full:  []string{"BENCH_CATALOG_SIZES=10000,250000"},
		quick: []string{"BENCH_CATALOG_SIZES=1000,10000"},
	},
}

// outcome is how one benchmark's run went.
type outcome struct {
	bench      benchmark
	env        []string // the BENCH_* it ran with
	took       time.Duration
	loadBefore string
	loadAfter  string
	status     string // ok, skipped: …, failed: …
	results    []result
}

func main() {
	quick := flag.Bool("quick", false, "smaller sizes, for trying it (see -help for both)")
	only := flag.String("only", "", "comma-separated benchmarks to run, of: "+keys())
	flag.Usage = usage
	flag.Parse()
	if err := run(*quick, *only); err != nil {
		slog.Error("bench table", "err", err)
		os.Exit(1)
	}
}

func usage() {
	w := flag.CommandLine.Output()
	fmt.Fprintf(w, "usage: go run ./bench/table [-quick] [-only %s]\n\n", keys())
	flag.PrintDefaults()
	fmt.Fprintf(w, "\nsizes (BENCH_* set in the environment win):\n")
	for _, b := range benchmarks {
		fmt.Fprintf(w, "  %-11s full: %s\n  %-11s quick: %s\n", b.key, envText(b.full, false), "", envText(b.quick, b.short))
	}
}

func keys() string {
	var k []string
	for _, b := range benchmarks {
		k = append(k, b.key)
	}
	return strings.Join(k, ",")
}

func envText(env []string, short bool) string {
	s := strings.Join(env, " ")
	if short {
		s = strings.TrimSpace(s + " -short")
	}
	if s == "" {
		return "(defaults)"
	}
	return s
}

func run(quick bool, only string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	root, err := moduleRoot(ctx)
	if err != nil {
		return err
	}
	selected := benchmarks
	if only != "" {
		want := strings.Split(only, ",")
		selected = slices.DeleteFunc(slices.Clone(benchmarks), func(b benchmark) bool { return !slices.Contains(want, b.key) })
		if len(selected) != len(want) {
			return fmt.Errorf("-only %q: the benchmarks are %s", only, keys())
		}
	}

	m := machine{started: time.Now(), loadStart: loadAverage()}
	m.describe(ctx, root)
	var outcomes []outcome
	for _, b := range selected {
		o := runBenchmark(ctx, root, b, quick)
		outcomes = append(outcomes, o)
		if ctx.Err() != nil {
			break
		}
	}
	m.loadEnd = loadAverage()
	m.took = time.Since(m.started)

	var all []result
	for _, o := range outcomes {
		all = append(all, o.results...)
	}
	printReport(os.Stdout, quick, m, outcomes, all)
	return nil
}

// runBenchmark runs one benchmark with the sizes of its mode, its output
// going to stderr as it comes, and reads its result lines.
func runBenchmark(ctx context.Context, root string, b benchmark, quick bool) outcome {
	env := sizesFor(b, quick)
	args := []string{"test", "-run", "^$", "-bench", "^" + b.name + "$", "-benchtime", "1x", "-count", "1", "-timeout", "180m"}
	if quick && b.short {
		args = append(args, "-short")
	}
	args = append(args, b.pkg)
	o := outcome{bench: b, env: env, loadBefore: loadAverage()}
	fmt.Fprintf(os.Stderr, "== %s (%s) %s\n", b.name, b.pkg, strings.Join(env, " "))

	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout = io.MultiWriter(&out, os.Stderr)
	cmd.Stderr = os.Stderr
	start := time.Now()
	err := cmd.Run()
	o.took = time.Since(start).Round(time.Second)
	o.loadAfter = loadAverage()

	o.results, _ = parseResults(bytes.NewReader(out.Bytes())) // a line too long to scan is a metric not measured
	var exit *exec.ExitError
	switch {
	case err == nil && len(o.results) > 0:
		o.status = "ok"
	case err == nil && strings.Contains(out.String(), "--- SKIP"):
		o.status = "skipped: " + skipReason(out.String())
	case err == nil:
		o.status = "no result line"
	case errors.As(err, &exit):
		o.status = fmt.Sprintf("failed (%v)", err)
	default:
		o.status = fmt.Sprintf("did not run (%v)", err)
	}
	return o
}

// sizesFor is the BENCH_* a benchmark runs with in a mode: the mode's,
// but where the caller's environment sets one, its.
func sizesFor(b benchmark, quick bool) []string {
	sizes := b.full
	if quick {
		sizes = b.quick
	}
	var env []string
	for _, kv := range sizes {
		name, _, _ := strings.Cut(kv, "=")
		if v, ok := os.LookupEnv(name); ok {
			kv = name + "=" + v
		}
		env = append(env, kv)
	}
	return env
}

// skipReason is the first line logged after "--- SKIP", if any.
func skipReason(out string) string {
	_, after, _ := strings.Cut(out, "--- SKIP")
	lines := strings.Split(after, "\n")
	if len(lines) > 1 {
		if r := strings.TrimSpace(lines[1]); r != "" {
			return r
		}
	}
	return "see its output"
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		return "", fmt.Errorf("finding the module's root (go list -m): %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}
