package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

const (
	defaultConcurrentTransfers = 100
	defaultConcurrentBytes     = 10 << 20
)

// BenchmarkConcurrentTransfer measures what the hub costs many small
// transfers at once, where BenchmarkTransfer measures one large one:
// BENCH_CONCURRENT (default 100) assets of BENCH_CONCURRENT_BYTES (default
// 10 MiB) each, all started together, uploaded to and downloaded from the
// same MinIO server once directly with minio-go and once through `hub
// serve` as its own process. Each hub upload goes into a package of its
// own, as many producers' uploads would (one package's uploads would also
// measure its record's contention). The rate is all the bytes over the
// time from the start until the last transfer ended.
//
// The hub runs with its admission caps lifted (--max-uploads,
// --max-uploads-per-key and --rate-limit-per-key 0): they turn away what
// is above them with a 503 or 429, and this measures the data path, not
// the caps. Like BenchmarkTransfer it reports the best of BENCH_ROUNDS
// rounds (default 3), direct and hub taking turns going first, and
// ignores b.N: run it with -benchtime 1x.
func BenchmarkConcurrentTransfer(b *testing.B) {
	n := int(envInt(b, "BENCH_CONCURRENT", defaultConcurrentTransfers, 1))
	size := envInt(b, "BENCH_CONCURRENT_BYTES", defaultConcurrentBytes, minAssetBytes)
	rounds := int(envInt(b, "BENCH_ROUNDS", defaultRounds, 1))
	direct := minioServer.Bucket(b) // skips without MinIO
	hubBucket := minioServer.Options(b)
	ctx := b.Context()

	mc := directClient(b, direct)

	bin := hubBinary(b)
	h := startHub(b, bin, hubBucket, size,
		"--max-uploads", "0", "--max-uploads-per-key", "0", "--rate-limit-per-key", "0")
	// One keep-alive connection per transfer, as minio-go keeps its own.
	h.client = &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: n}}
	producer := h.mustJSON(b, "POST", "/v1/keys", adminKey, `{"role":"producer","name":"bench"}`, http.StatusCreated)["key"].(string)
	pkgs := make([]string, n)
	for i := range pkgs {
		pkgs[i] = h.mustJSON(b, "POST", "/v1/packages", producer,
			fmt.Sprintf(`{"campaign":"bench","language":"en","headlines":[{"value":"concurrent transfer %d"}]}`, i),
			http.StatusCreated)["id"].(string)
	}
	b.Cleanup(func() {
		for _, p := range pkgs {
			h.call(context.Background(), "DELETE", "/v1/packages/"+p, producer, "", http.StatusNoContent)
		}
	})

	res := concurrentResults{n: n, size: size}
	var peakUp, peakDown int64
	// seed gives every transfer of every round bytes of its own.
	seed := func(round, i int) uint64 { return uint64(round*n + i + 1) }
	object := func(round, i int) string { return fmt.Sprintf("direct-%d-%d.png", round, i) }
	asset := func(round, i int) string { return fmt.Sprintf("bench-%d-%d.png", round, i) }
	infos := make([]assetInfo, n)
	b.ResetTimer()

	for r := 1; r <= rounds; r++ {
		upDirect := func() {
			d, err := together(n, func(i int) error {
				_, err := directUpload(ctx, mc, direct.Bucket, object(r, i), size, seed(r, i))
				return err
			})
			if err != nil {
				b.Fatalf("direct uploads, round %d: %v", r, err)
			}
			res.directUp = append(res.directUp, d)
		}
		upHub := func() {
			s := sampleRSS(h.pid())
			d, err := together(n, func(i int) error {
				_, info, err := h.upload(ctx, producer, pkgs[i], asset(r, i), newPayload(size, seed(r, i)), size)
				if err == nil && info.Size != size {
					err = fmt.Errorf("the hub stored %d bytes, want %d", info.Size, size)
				}
				infos[i] = info
				return err
			})
			peakUp = max(peakUp, s.Stop())
			if err != nil {
				b.Fatalf("hub uploads, round %d: %v\nhub output:\n%s", r, err, h.out.String())
			}
			res.hubUp = append(res.hubUp, d)
		}
		if r%2 == 1 {
			upDirect()
			upHub()
		} else {
			upHub()
			upDirect()
		}
		if r > 1 { // the round before, off the clock
			for i := range n {
				if err := mc.RemoveObject(ctx, direct.Bucket, object(r-1, i), minio.RemoveObjectOptions{}); err != nil {
					b.Fatal(err)
				}
				h.mustJSON(b, "DELETE", "/v1/packages/"+pkgs[i]+"/assets/"+asset(r-1, i), producer, "", http.StatusNoContent)
			}
		}
	}

	// Downloads of the last round's objects and assets.
	for r := 1; r <= rounds; r++ {
		downDirect := func() {
			d, err := together(n, func(i int) error {
				_, err := directDownload(ctx, mc, direct.Bucket, object(rounds, i), size, make([]byte, copyBufSize))
				return err
			})
			if err != nil {
				b.Fatalf("direct downloads, round %d: %v", r, err)
			}
			res.directDown = append(res.directDown, d)
		}
		downHub := func() {
			s := sampleRSS(h.pid())
			d, err := together(n, func(i int) error {
				_, got, err := h.download(ctx, producer, pkgs[i], asset(rounds, i), discard{}, make([]byte, copyBufSize))
				if err == nil && got != size {
					err = fmt.Errorf("%d bytes, want %d", got, size)
				}
				return err
			})
			peakDown = max(peakDown, s.Stop())
			if err != nil {
				b.Fatalf("hub downloads, round %d: %v\nhub output:\n%s", r, err, h.out.String())
			}
			res.hubDown = append(res.hubDown, d)
		}
		if r%2 == 1 {
			downDirect()
			downHub()
		} else {
			downHub()
			downDirect()
		}
	}
	b.StopTimer()

	// Integrity, off the clock: every asset of the last round has the
	// generated SHA-256, and the first one is served with it.
	buf := make([]byte, copyBufSize)
	sum := func(r io.Reader) string {
		d := sha256.New()
		if _, err := io.CopyBuffer(d, r, buf); err != nil {
			b.Fatal(err)
		}
		return hex.EncodeToString(d.Sum(nil))
	}
	for i, info := range infos {
		if want := sum(newPayload(size, seed(rounds, i))); info.SHA256 != want {
			b.Fatalf("asset %d: the hub reported SHA-256 %s, generated %s", i, info.SHA256, want)
		}
	}
	got := sha256.New()
	if _, _, err := h.download(ctx, producer, pkgs[0], asset(rounds, 0), got, buf); err != nil {
		b.Fatal(err)
	}
	if s := hex.EncodeToString(got.Sum(nil)); s != infos[0].SHA256 {
		b.Fatalf("asset 0: the hub served SHA-256 %s, reported %s", s, infos[0].SHA256)
	}

	res.report(b, peakUp, peakDown)
}

// together runs f(0) … f(n-1) each in a goroutine of its own, started at
// once, and returns the time until the last one returned and the first
// error.
func together(n int, f func(i int) error) (time.Duration, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	gate := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			if err := f(i); err != nil {
				mu.Lock()
				if first == nil {
					first = fmt.Errorf("transfer %d: %w", i, err)
				}
				mu.Unlock()
			}
		}()
	}
	start := time.Now()
	close(gate)
	wg.Wait()
	return time.Since(start), first
}

// concurrentResults are every round's wall time of all n transfers.
type concurrentResults struct {
	n    int
	size int64

	directUp, hubUp, directDown, hubDown []time.Duration
}

func (r *concurrentResults) rate(d time.Duration) float64 {
	return float64(r.size) * float64(r.n) / (1 << 20) / d.Seconds()
}

func (r *concurrentResults) rates(ds []time.Duration) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = strconv.FormatFloat(r.rate(d), 'f', 0, 64)
	}
	return strings.Join(s, " ")
}

func (r *concurrentResults) report(b *testing.B, peakUp, peakDown int64) {
	dUp, hUp := r.rate(slices.Min(r.directUp)), r.rate(slices.Min(r.hubUp))
	dDown, hDown := r.rate(slices.Min(r.directDown)), r.rate(slices.Min(r.hubDown))
	b.ReportMetric(0, "ns/op") // the wall time of all rounds means nothing
	b.ReportMetric(dUp, "direct-up-MiB/s")
	b.ReportMetric(hUp, "hub-up-MiB/s")
	b.ReportMetric(hUp/dUp, "up-ratio")
	b.ReportMetric(dDown, "direct-down-MiB/s")
	b.ReportMetric(hDown, "hub-down-MiB/s")
	b.ReportMetric(hDown/dDown, "down-ratio")
	b.ReportMetric(mib(max(peakUp, peakDown)), "hub-peak-RSS-MiB")

	var t strings.Builder
	fmt.Fprintf(&t, "\nBenchmarkConcurrentTransfer: %d transfers of %.1f MiB at once; best of %d rounds (MiB/s of every round in brackets)\n",
		r.n, float64(r.size)/(1<<20), len(r.hubUp))
	fmt.Fprintf(&t, "%-10s %14s %14s %10s\n", "", "direct MiB/s", "hub MiB/s", "hub/direct")
	fmt.Fprintf(&t, "%-10s %14.0f %14.0f %10.2f   [direct %s] [hub %s]\n", "upload", dUp, hUp, hUp/dUp, r.rates(r.directUp), r.rates(r.hubUp))
	fmt.Fprintf(&t, "%-10s %14.0f %14.0f %10.2f   [direct %s] [hub %s]\n", "download", dDown, hDown, hDown/dDown, r.rates(r.directDown), r.rates(r.hubDown))
	fmt.Fprintf(&t, "hub peak RSS: %.1f MiB during uploads, %.1f MiB during downloads\n", mib(peakUp), mib(peakDown))
	// To stdout, as BenchmarkTransfer does: above the result line, whole.
	fmt.Print(t.String())
}
