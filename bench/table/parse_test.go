package main

import (
	"maps"
	"strings"
	"testing"
)

// The lines are copied from real runs of this repository's benchmarks,
// but for the one whose output was glued to the result line, and the one
// with a unit missing.
func TestParseLine(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		ok      bool
		bench   string
		n       int64
		metrics map[string]float64
	}{
		{
			name:  "reported metrics, ns/op suppressed",
			line:  "BenchmarkConcurrentTransfer-2   \t       1\t       217.9 direct-down-MiB/s\t        39.51 direct-up-MiB/s\t         0.8788 down-ratio\t       191.5 hub-down-MiB/s\t       141.8 hub-peak-RSS-MiB\t        27.18 hub-up-MiB/s\t         0.6879 up-ratio",
			ok:    true,
			bench: "BenchmarkConcurrentTransfer-2", n: 1,
			metrics: map[string]float64{
				"direct-down-MiB/s": 217.9, "direct-up-MiB/s": 39.51, "down-ratio": 0.8788, "hub-down-MiB/s": 191.5,
				"hub-peak-RSS-MiB": 141.8, "hub-up-MiB/s": 27.18, "up-ratio": 0.6879,
			},
		},
		{
			name:  "ns/op kept",
			line:  "BenchmarkReleaseToSubscriber-2   \t       1\t1551991918 ns/op\t         1.697 p99-ratio\t         0.7970 raw-p50-ms\t         9.142 raw-p99-ms\t         3.203 release-p50-ms\t        15.51 release-p99-ms",
			ok:    true,
			bench: "BenchmarkReleaseToSubscriber-2", n: 1,
			metrics: map[string]float64{
				"ns/op": 1551991918, "p99-ratio": 1.697, "raw-p50-ms": 0.797, "raw-p99-ms": 9.142, "release-p50-ms": 3.203, "release-p99-ms": 15.51,
			},
		},
		{
			name:  "b.N above one, throughput and allocations",
			line:  "BenchmarkScrubJPEG-2   \t       3\t   3448087 ns/op\t2118.27 MB/s\t  357954 B/op\t     319 allocs/op",
			ok:    true,
			bench: "BenchmarkScrubJPEG-2", n: 3,
			metrics: map[string]float64{"ns/op": 3448087, "MB/s": 2118.27, "B/op": 357954, "allocs/op": 319},
		},
		{
			name:  "a sub-benchmark",
			line:  "BenchmarkScrubMP4/surgery-2         \t       3\t  10837434 ns/op\t4658.67 MB/s\t   64245 B/op\t     166 allocs/op",
			ok:    true,
			bench: "BenchmarkScrubMP4/surgery-2", n: 3,
			metrics: map[string]float64{"ns/op": 10837434, "MB/s": 4658.67, "B/op": 64245, "allocs/op": 166},
		},
		{
			name:  "no GOMAXPROCS suffix (-cpu 1)",
			line:  "BenchmarkCopyMP4/io.Copy         \t       3\t  29215829 ns/op\t1728.10 MB/s",
			ok:    true,
			bench: "BenchmarkCopyMP4/io.Copy", n: 3,
			metrics: map[string]float64{"ns/op": 29215829, "MB/s": 1728.1},
		},
		{
			name:  "after a benchmark's output left without a newline",
			line:  "hub peak RSS: 141.8 MiBBenchmarkConcurrentTransfer-2   \t       1\t         0.8788 down-ratio",
			ok:    true,
			bench: "BenchmarkConcurrentTransfer-2", n: 1,
			metrics: map[string]float64{"down-ratio": 0.8788},
		},
		{name: "the name printed before the body runs", line: "BenchmarkCatalog-2   \t"},
		{name: "a log line", line: "    latency_bench_test.go:61: release->receive p50 3.203145ms p99 15.514959ms; raw publish->receive p50 797.893µs p99 9.142496ms; p99 ratio 1.70 (n=200)"},
		{name: "the BENCH header", line: "--- BENCH: BenchmarkReleaseToSubscriber-2"},
		{name: "a skip", line: "--- SKIP: BenchmarkScrubbedUpload-2"},
		{name: "a table of the benchmark's own", line: "BenchmarkTransfer: asset 1024 MiB; best of 3 rounds (MiB/s of every round in brackets); generator 4437 MiB/s"},
		{name: "a unit without its value", line: "BenchmarkX-2 \t 1 \t 0.5 up-ratio down-ratio"},
		{name: "ok line", line: "ok  \tgithub.com/syndication-hub/hub/bench\t28.579s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, ok := parseLine(tt.line)
			if ok != tt.ok {
				t.Fatalf("parseLine(%q): ok %v, want %v (%+v)", tt.line, ok, tt.ok, res)
			}
			if !ok {
				return
			}
			if res.name != tt.bench || res.n != tt.n || !maps.Equal(res.metrics, tt.metrics) {
				t.Errorf("parseLine(%q) = %+v, want %s %d %v", tt.line, res, tt.bench, tt.n, tt.metrics)
			}
		})
	}
}

// TestParseResults reads output shaped as BenchmarkTransfer's, shortened.
func TestParseResults(t *testing.T) {
	out := `goos: linux
goarch: amd64
pkg: github.com/syndication-hub/hub/bench
cpu: Intel(R) Xeon(R) Processor
BenchmarkTransfer-2   	
BenchmarkTransfer: asset 64 MiB; best of 1 rounds (MiB/s of every round in brackets); generator 4437 MiB/s
           direct MiB/s      hub MiB/s hub/direct   target
upload                256            220       0.86   >= 0.90 MISSED   [direct 256] [hub 220]
BenchmarkTransfer-2   	       1	       256.0 direct-up-MiB/s	       220.0 hub-up-MiB/s	         0.8600 up-ratio
BenchmarkTransferSmall-2   	       1	         0.5000 up-ratio
PASS
ok  	github.com/syndication-hub/hub/bench	28.579s
`
	results, err := parseResults(strings.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 2 {
		t.Fatalf("%d results, want 2: %+v", len(results), results)
	}
	if !results[0].is("BenchmarkTransfer") || results[1].is("BenchmarkTransfer") {
		t.Errorf("is: %s and %s against BenchmarkTransfer", results[0].name, results[1].name)
	}
	if got := results[0].metrics["up-ratio"]; got != 0.86 {
		t.Errorf("up-ratio %v, want 0.86", got)
	}
}

func TestResultIs(t *testing.T) {
	tests := []struct {
		name, bench string
		want        bool
	}{
		{"BenchmarkTransfer-2", "BenchmarkTransfer", true},
		{"BenchmarkTransfer", "BenchmarkTransfer", true},
		{"BenchmarkTransfer-16", "BenchmarkTransfer", true},
		{"BenchmarkTransferSmall-2", "BenchmarkTransfer", false},
		{"BenchmarkTransfer-x", "BenchmarkTransfer", false},
		{"BenchmarkConcurrentTransfer-2", "BenchmarkTransfer", false},
		{"BenchmarkScrubMP4/surgery-2", "BenchmarkScrubMP4/surgery", true},
	}
	for _, tt := range tests {
		if got := (result{name: tt.name}).is(tt.bench); got != tt.want {
			t.Errorf("%s is %s: %v, want %v", tt.name, tt.bench, got, tt.want)
		}
	}
}
