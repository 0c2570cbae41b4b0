package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

const notMeasured = "not measured"

// row is one line of the table.
type row struct {
	measurement, hub, limit, ratio, target, met string
}

// metrics finds a benchmark's metrics among the results.
type metrics []result

// get returns the unit's value in the last result of bench.
func (m metrics) get(bench, unit string) (float64, bool) {
	for i := len(m) - 1; i >= 0; i-- {
		if m[i].is(bench) {
			v, ok := m[i].metrics[unit]
			return v, ok
		}
	}
	return 0, false
}

// target is a bound on a ratio or on a figure.
type target struct {
	kind  string // ">=", "<=" or "<"
	bound float64
	text  string
}

func atLeast(x float64) target { return target{">=", x, "≥ " + bound(x)} }
func atMost(x float64) target  { return target{"<=", x, "≤ " + bound(x)} }
func below(x float64, unit string) target {
	return target{"<", x, "< " + bound(x) + " " + unit}
}

// none is no target of the row's own (another row's holds it).
func none(why string) target { return target{text: why} }

func bound(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func (t target) met(v float64) string {
	if t.kind == "" {
		return "–"
	}
	ok := map[string]bool{">=": v >= t.bound, "<=": v <= t.bound, "<": v < t.bound}[t.kind]
	if ok {
		return "yes"
	}
	return "**no**"
}

// num prints a figure with two decimals below 10, one below 100, none
// from 100 on: as precise as one run on a shared machine is.
func num(v float64) string {
	switch {
	case v >= 100 || v <= -100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10 || v <= -10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// rowBuilder builds rows from the metrics; every figure it cannot find
// prints as "not measured", and so does the verdict that needs it.
type rowBuilder struct {
	m    metrics
	rows []row
}

// figure is a metric of a benchmark with how it prints: "%s MiB/s".
type figure struct {
	bench, unit, format string
	scale               float64 // 0 is 1
}

func (b *rowBuilder) value(f figure) (float64, string) {
	if f.bench == "" { // not a metric: the format is the text
		if f.format == "" {
			return 0, "–"
		}
		return 0, f.format
	}
	v, ok := b.m.get(f.bench, f.unit)
	if !ok {
		return 0, notMeasured
	}
	if f.scale != 0 {
		v *= f.scale
	}
	return v, fmt.Sprintf(f.format, num(v))
}

// ratioRow is a measurement beside its limit, their ratio (as the
// benchmark reports it) held to a target.
func (b *rowBuilder) ratioRow(name string, hub, limit figure, ratio figure, t target) {
	_, h := b.value(hub)
	_, l := b.value(limit)
	r, rs := b.value(ratio)
	met := notMeasured
	if rs != notMeasured {
		met = t.met(r)
	}
	b.rows = append(b.rows, row{name, h, l, rs, t.text, met})
}

// boundRow is a figure held to a bound of its own (no ratio).
func (b *rowBuilder) boundRow(name string, hub figure, limit string, t target) {
	v, h := b.value(hub)
	met := notMeasured
	if h != notMeasured {
		met = t.met(v)
	}
	b.rows = append(b.rows, row{name, h, limit, "–", t.text, met})
}

// infoRow is a figure shown for what it says, with no target.
func (b *rowBuilder) infoRow(name string, hub figure, limit string) {
	_, h := b.value(hub)
	b.rows = append(b.rows, row{name, h, limit, "–", "–", "–"})
}

// buildRows makes the table's rows from the metrics; env gives the
// BENCH_* values each benchmark ran (or would have run) with.
func buildRows(m metrics, env func(key, name string) string) []row {
	b := &rowBuilder{m: m}
	size := func(key, name string) string { return sizeText(env(key, name)) }

	const tr, ct = "BenchmarkTransfer", "BenchmarkConcurrentTransfer"
	one := "1 × " + size("transfer", "BENCH_ASSET_BYTES")
	many := env("concurrent", "BENCH_CONCURRENT") + " × " + size("concurrent", "BENCH_CONCURRENT_BYTES") + " at once"
	for _, t := range []struct{ label, bench string }{{one, tr}, {many, ct}} {
		for _, dir := range []string{"up", "down"} {
			word := map[string]string{"up": "upload", "down": "download"}[dir]
			b.ratioRow(fmt.Sprintf("%s, %s", word, t.label),
				figure{t.bench, "hub-" + dir + "-MiB/s", "%s MiB/s", 0},
				figure{t.bench, "direct-" + dir + "-MiB/s", "minio-go direct: %s MiB/s", 0},
				figure{t.bench, dir + "-ratio", "%s", 0}, atLeast(0.9))
		}
	}

	const sc = "BenchmarkScrubbedUpload"
	b.ratioRow("scrubbed video upload, "+size("scrub", "BENCH_VIDEO_BYTES"),
		figure{sc, "hub-scrubbed-MiB/s", "%s MiB/s", 0},
		figure{sc, "hub-baseline-MiB/s", "hub before scrubbing: %s MiB/s", 0},
		figure{sc, "scrub-ratio", "%s", 0}, atLeast(0.8))

	const rl = "BenchmarkReleaseToSubscriber"
	releases := env("release", "BENCH_RELEASES")
	runs, _ := strconv.Atoi(env("release", "BENCH_RELEASE_RUNS"))
	for i := 1; i <= runs; i++ {
		r := fmt.Sprintf("run%d-", i)
		b.ratioRow(fmt.Sprintf("release → subscriber p99, run %d of %s releases", i, releases),
			figure{rl, r + "release-p99-ms", "%s ms", 0},
			figure{rl, r + "raw-p99-ms", "raw JetStream: %s ms", 0},
			figure{rl, r + "p99-ratio", "%s", 0}, none("(the median's)"))
	}
	b.ratioRow(fmt.Sprintf("**release → subscriber p99, median of %d runs**", runs),
		figure{rl, "release-p99-ms", "%s ms", 0},
		figure{rl, "raw-p99-ms", "raw JetStream: %s ms", 0},
		figure{rl, "p99-ratio", "%s", 0}, atMost(2))

	const fd = "BenchmarkFeedVsStaticFile"
	b.ratioRow("cached feed (50-item RSS), 200",
		figure{fd, "hub-200-req/s", "%s req/s", 0},
		figure{fd, "static-200-req/s", "static file server: %s req/s", 0},
		figure{fd, "ratio-200", "%s", 0}, atLeast(0.5))
	b.ratioRow("cached feed (50-item RSS), 304",
		figure{fd, "hub-304-req/s", "%s req/s", 0},
		figure{fd, "static-304-req/s", "static file server: %s req/s", 0},
		figure{fd, "ratio-304", "%s", 0}, atLeast(1))

	const cg = "BenchmarkCatalog"
	sizes := strings.Split(env("catalog", "BENCH_CATALOG_SIZES"), ",")
	first, last := catalogSize(m, "first-packages", sizes[0]), catalogSize(m, "last-packages", sizes[len(sizes)-1])
	b.boundRow("listing p99 at "+last+" packages (worst filtered listing)",
		figure{cg, "listing-p99-ms", "%s ms", 0}, "–", below(10, "ms"))
	b.ratioRow("listing p99 at "+last+" / at "+first+" packages (largest of the listings' ratios)",
		figure{cg, "listing-p99-ms", "%s ms", 0}, figure{cg, "first-listing-p99-ms", "p99 at " + first + ": %s ms", 0},
		figure{cg, "listing-p99-ratio", "%s", 0}, atMost(2))
	b.boundRow("search p99 at "+last+" packages",
		figure{cg, "search-p99-ms", "%s ms", 0}, "–", below(10, "ms"))
	b.ratioRow("search p99 at "+last+" / at "+first+" packages",
		figure{}, figure{format: "p99 at " + first + ": not reported alone"},
		figure{cg, "search-p99-ratio", "%s", 0}, atMost(2))
	b.ratioRow("write rate (create + upload + release) at "+last+" / at "+first+" packages",
		figure{cg, "last-writes/s", "%s /s", 0}, figure{cg, "first-writes/s", "rate at " + first + ": %s /s", 0}, figure{cg, "write-ratio", "%s", 0}, atLeast(0.8))
	b.boundRow("start until /readyz 200 at "+last+" packages",
		figure{cg, "start-s", "%s s", 0}, "–", below(5, "s"))
	b.infoRow("start without the listing snapshot at "+last+" packages",
		figure{cg, "whole-bucket-start-s", "%s s", 0}, "–")
	b.boundRow("RssAnon above the empty hub, per package",
		figure{cg, "anon-B/pkg", "%s B", 0}, "–", below(2048, "B"))
	b.infoRow("RssAnon per 100,000 packages",
		figure{cg, "anon-B/pkg", "%s MiB", 1e5 / (1 << 20)}, "–")
	b.boundRow("RSS above the empty hub, per package",
		figure{cg, "rss-B/pkg", "%s B", 0}, "–", below(2048, "B"))
	b.infoRow("RSS per 100,000 packages",
		figure{cg, "rss-B/pkg", "%s MiB", 1e5 / (1 << 20)}, "–")
	return b.rows
}

// catalogSize is a catalog size as the benchmark reports it, else as it
// was asked for.
func catalogSize(m metrics, unit, asked string) string {
	if v, ok := m.get("BenchmarkCatalog", unit); ok {
		return thousands(int64(v))
	}
	n, err := strconv.ParseInt(strings.TrimSpace(asked), 10, 64)
	if err != nil {
		return asked
	}
	return thousands(n)
}

func sizeText(bytes string) string {
	n, err := strconv.ParseInt(bytes, 10, 64)
	switch {
	case err != nil:
		return bytes + " B"
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	default:
		return fmt.Sprintf("%d B", n)
	}
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func printReport(w io.Writer, quick bool, m machine, outcomes []outcome, all []result) {
	env := func(key, name string) string {
		for _, b := range benchmarks {
			if b.key != key {
				continue
			}
			for _, kv := range sizesFor(b, quick) {
				if v, ok := strings.CutPrefix(kv, name+"="); ok {
					return v
				}
			}
		}
		return "?"
	}
	mode := "full sizes"
	if quick {
		mode = "**quick mode** (smaller sizes: not the targets' conditions)"
	}
	fmt.Fprintf(w, "\n## Benchmark table, %s, %s\n\n", m.started.UTC().Format("2006-01-02 15:04 MST"), mode)
	fmt.Fprintln(w, "| measurement | hub | limit (what it is beside) | ratio | target | met? |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|---|")
	for _, r := range buildRows(all, env) {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.measurement, r.hub, r.limit, r.ratio, r.target, r.met)
	}

	fmt.Fprintf(w, "\nMachine: %s, %d logical CPUs, %s memory, %s, %s; commit %s.\n",
		m.cpu, m.cores, m.memory, m.kernel, m.goVersion, m.commit)
	fmt.Fprintf(w, "Load average (1, 5, 15 min): %s at the start, %s at the end; %v in all.\n\n",
		m.loadStart, m.loadEnd, m.took.Round(time.Second))
	fmt.Fprintln(w, "| benchmark | package | sizes | took | load before → after | result |")
	fmt.Fprintln(w, "|---|---|---|---:|---|---|")
	for _, o := range outcomes {
		fmt.Fprintf(w, "| %s | `%s` | %s | %v | %s → %s | %s |\n", o.bench.name, o.bench.pkg,
			envText(o.env, quick && o.bench.short), o.took, o.loadBefore, o.loadAfter, o.status)
	}
}
