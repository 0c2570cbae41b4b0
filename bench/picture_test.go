package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/media/renditions"
)

// heapInterval is how often BenchmarkPictureRenditions samples the Go heap.
const heapInterval = time.Millisecond

// BenchmarkPictureRenditions measures the picture path of the renditions
// alone, in this process: renditions.Maker.Make on BENCH_PICTURES JPEGs
// of each of BenchmarkRenditions' sizes (the same generator), one after
// the other as the hub's one default worker does, from files on disk.
// Without the hub, MinIO and the polling around it, what it reports is
// the maker's own: pictures a second, the Go heap's peak (sampled every
// heapInterval) and the process's peak RSS (VmHWM, reset before each
// size, after the generated pictures were written out and freed). It
// needs no MinIO and ignores b.N: run it with -benchtime 1x. Profiles
// (-memprofile, -cpuprofile) cover only the makers' work: the pictures
// are made before the timer starts.
func BenchmarkPictureRenditions(b *testing.B) {
	n := int(envInt(b, "BENCH_PICTURES", defaultPictures, 1))
	dir := b.TempDir()
	files := make([][]string, len(pictureSizes))
	bytesEach := make([]float64, len(pictureSizes)) // MB, on average
	for k, s := range pictureSizes {
		for i := range n {
			data, err := makeJPEG(s.w, s.h, uint64(k*100+i))
			if err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(dir, fmt.Sprintf("%d-%02d.jpg", k, i))
			if err := os.WriteFile(path, data, 0o600); err != nil {
				b.Fatal(err)
			}
			files[k] = append(files[k], path)
			bytesEach[k] += float64(len(data)) / 1e6 / float64(n)
		}
	}
	m := renditions.New(renditions.Options{})
	ctx := b.Context()
	type result struct {
		rate, heapMiB, hwmMiB float64
		hwmOK                 bool
	}
	res := make([]result, len(pictureSizes))
	b.ResetTimer()
	for k, s := range pictureSizes {
		// What generating the pictures left goes back to the kernel, so
		// the high-water mark that follows is the makers'.
		runtime.GC()
		debug.FreeOSMemory()
		hwmOK := resetHWM() == nil
		heap := sampleHeap()
		start := time.Now()
		for i, src := range files[k] {
			out := filepath.Join(dir, fmt.Sprintf("out-%d-%02d", k, i))
			if err := os.Mkdir(out, 0o700); err != nil {
				b.Fatal(err)
			}
			if err := makeAll(ctx, m, src, out); err != nil {
				b.Fatalf("%s, %s: %v", s.label, filepath.Base(src), err)
			}
		}
		elapsed := time.Since(start)
		r := result{rate: float64(n) / elapsed.Seconds(), heapMiB: float64(heap.Stop()) / (1 << 20)}
		if hwm, err := selfHWM(); err == nil && hwmOK {
			r.hwmMiB, r.hwmOK = float64(hwm)/(1<<20), true
		}
		res[k] = r
	}
	b.StopTimer()

	b.ReportMetric(0, "ns/op")
	var t strings.Builder
	fmt.Fprintf(&t, "\nBenchmarkPictureRenditions: %d JPEGs of each size, made one after the other in this process (GOMAXPROCS %d)\n",
		n, runtime.GOMAXPROCS(0))
	fmt.Fprintf(&t, "%-6s %9s %8s %14s %13s\n", "", "MB each", "pics/s", "heap peak MiB", "VmHWM MiB")
	for k, s := range pictureSizes {
		r := res[k]
		b.ReportMetric(r.rate, "pictures-per-s"+s.suffix)
		b.ReportMetric(r.heapMiB, "heap-peak-MiB"+s.suffix)
		hwm := "-"
		if r.hwmOK {
			b.ReportMetric(r.hwmMiB, "HWM-MiB"+s.suffix)
			hwm = fmt.Sprintf("%.1f", r.hwmMiB)
		}
		fmt.Fprintf(&t, "%-6s %9.1f %8.2f %14.1f %13s\n", s.label, bytesEach[k], r.rate, r.heapMiB, hwm)
	}
	ratio := res[0].rate / res[1].rate
	b.ReportMetric(ratio, "pictures-12mp-1mp-ratio")
	fmt.Fprintf(&t, "heap peak: the Go heap's objects (/memory/classes/heap/objects:bytes), sampled every %v; VmHWM: this process's peak RSS over the size's pictures\n", heapInterval)
	fmt.Fprintf(&t, "12 MP / 1 MP pictures per second: %.3f\n", ratio)
	fmt.Print(t.String())
}

// makeAll makes the renditions of the picture src into dir and checks
// that every one is ready.
func makeAll(ctx context.Context, m *renditions.Maker, src, dir string) error {
	results, _ := m.Make(ctx, src, "image/jpeg", dir)
	for _, r := range results {
		if r.State != renditions.Ready {
			return fmt.Errorf("%s: %s: %s", r.Name, r.State, r.Reason)
		}
	}
	return nil
}

// resetHWM sets this process's VmHWM back to its current RSS (Linux 4.0
// on: "5" written to clear_refs).
func resetHWM() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// selfHWM is this process's VmHWM in bytes.
func selfHWM() (int64, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("read own status: %w", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read own VmHWM %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}

// heapSampler records the largest live-and-dead heap object bytes seen
// every heapInterval until Stop: what the collector has to hold at once.
type heapSampler struct {
	stop chan struct{}
	done chan struct{}
	peak uint64
}

func sampleHeap() *heapSampler {
	s := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(heapInterval)
		defer t.Stop()
		for {
			metrics.Read(sample)
			s.peak = max(s.peak, sample[0].Value.Uint64())
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends the sampling and returns the peak in bytes.
func (s *heapSampler) Stop() uint64 {
	close(s.stop)
	<-s.done
	return s.peak
}
