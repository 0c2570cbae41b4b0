package main

import (
	"strings"
	"testing"
)

func quickEnv(key, name string) string {
	for _, b := range benchmarks {
		if b.key == key {
			for _, kv := range b.quick {
				if v, ok := strings.CutPrefix(kv, name+"="); ok {
					return v
				}
			}
		}
	}
	return "?"
}

// TestRows: a metric no benchmark reported prints as "not measured", in
// its cell and in the verdict, and never as a figure; a reported one
// prints beside its limit, with the verdict of its target.
func TestRows(t *testing.T) {
	lines := []string{
		// From a real run (-quick).
		"BenchmarkConcurrentTransfer-2   \t       1\t       217.9 direct-down-MiB/s\t        39.51 direct-up-MiB/s\t         0.8788 down-ratio\t       191.5 hub-down-MiB/s\t       141.8 hub-peak-RSS-MiB\t        27.18 hub-up-MiB/s\t         0.6879 up-ratio",
		// Shaped as BenchmarkCatalog's, without the search metrics.
		"BenchmarkCatalog-2 \t 1 \t 0 ns/op \t 1000 first-packages \t 10000 last-packages \t 0.95 write-ratio \t 1500 anon-B/pkg \t 2100 rss-B/pkg \t 1.2 start-s \t 3.4 whole-bucket-start-s \t 4.5 listing-p99-ms \t 1.8 listing-p99-ratio \t 2.5 first-listing-p99-ms \t 150 first-writes/s \t 142.5 last-writes/s",
	}
	var m metrics
	for _, l := range lines {
		r, ok := parseLine(l)
		if !ok {
			t.Fatalf("parseLine(%q) failed", l)
		}
		m = append(m, r)
	}
	rows := map[string]row{}
	for _, r := range buildRows(m, quickEnv) {
		rows[r.measurement] = r
	}
	tests := []struct {
		measurement string
		want        row
	}{
		{"upload, 100 × 1 MiB at once", row{hub: "27.2 MiB/s", limit: "minio-go direct: 39.5 MiB/s", ratio: "0.69", target: "≥ 0.9", met: "**no**"}},
		{"download, 100 × 1 MiB at once", row{hub: "192 MiB/s", limit: "minio-go direct: 218 MiB/s", ratio: "0.88", target: "≥ 0.9", met: "**no**"}},
		{"upload, 1 × 64 MiB", row{hub: notMeasured, limit: notMeasured, ratio: notMeasured, target: "≥ 0.9", met: notMeasured}},
		{"release → subscriber p99, run 2 of 500 releases", row{hub: notMeasured, limit: notMeasured, ratio: notMeasured, target: "(the median's)", met: notMeasured}},
		{"listing p99 at 10,000 packages (worst filtered listing)", row{hub: "4.50 ms", limit: "–", ratio: "–", target: "< 10 ms", met: "yes"}},
		{"listing p99 at 10,000 / at 1,000 packages (largest of the listings' ratios)", row{hub: "4.50 ms", limit: "p99 at 1,000: 2.50 ms", ratio: "1.80", target: "≤ 2", met: "yes"}},
		{"search p99 at 10,000 packages", row{hub: notMeasured, limit: "–", ratio: "–", target: "< 10 ms", met: notMeasured}},
		{"write rate (create + upload + release) at 10,000 / at 1,000 packages", row{hub: "142 /s", limit: "rate at 1,000: 150 /s", ratio: "0.95", target: "≥ 0.8", met: "yes"}},
		{"RSS above the empty hub, per package", row{hub: "2100 B", limit: "–", ratio: "–", target: "< 2048 B", met: "**no**"}},
		{"RssAnon per 100,000 packages", row{hub: "143 MiB", limit: "–", ratio: "–", target: "–", met: "–"}},
	}
	for _, tt := range tests {
		got, ok := rows[tt.measurement]
		if !ok {
			t.Errorf("no row %q", tt.measurement)
			continue
		}
		tt.want.measurement = tt.measurement
		if got != tt.want {
			t.Errorf("row %q:\n got %+v\nwant %+v", tt.measurement, got, tt.want)
		}
	}
}
