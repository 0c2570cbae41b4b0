package bench

import (
	"archive/zip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
)

// mp4Head is an MP4 'ftyp' box: the hub sniffs the asset as video/mp4,
// as a broadcast interview would be. The generator's bytes follow it.
var mp4Head = []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2mp41")

// newVideo is newPayload behind an MP4 head instead of a PNG one.
func newVideo(size int64, seed uint64) *payload {
	p := newPayload(size, seed)
	p.head = mp4Head[:min(int64(len(mp4Head)), size)]
	return p
}

// BenchmarkArchive measures the whole-package zip against the raw download
// of the same bytes: one package with one video of BENCH_ASSET_BYTES
// (default 1 GiB), released, fetched by a partner key three ways per
// round, in turns:
//
//	direct  minio-go GetObject of an object with the same bytes
//	hub     GET /v1/packages/{id}/assets/{name} through the hub
//	zip     GET /v1/packages/{id}/archive.zip through the hub
//
// and the hub's RSS sampled during each. It reports the best of
// BENCH_ROUNDS rounds (default 3), as BenchmarkTransfer does, and ignores
// b.N: run it with -benchtime 1x.
func BenchmarkArchive(b *testing.B) {
	size := envInt(b, "BENCH_ASSET_BYTES", defaultAssetBytes, minAssetBytes)
	rounds := int(envInt(b, "BENCH_ROUNDS", defaultRounds, 1))
	direct := minioServer.Bucket(b) // skips without MinIO
	hubBucket := minioServer.Options(b)
	ctx := b.Context()

	mc := directClient(b, direct)

	bin := hubBinary(b)
	h := startHub(b, bin, hubBucket, size)

	// Off the clock: the video into the hub and, the same bytes, straight
	// into MinIO; a partner outlet to fetch it.
	const seed = 7
	const object, asset = "direct.mp4", "interview.mp4"
	producer := h.mustJSON(b, "POST", "/v1/keys", adminKey, `{"role":"producer","name":"bench"}`, http.StatusCreated)["key"].(string)
	outlet := h.mustJSON(b, "POST", "/v1/partners", adminKey, `{"name":"Bench TV","region":"Almaty","medium":"tv"}`, http.StatusCreated)["id"].(string)
	partner := h.mustJSON(b, "POST", "/v1/keys", adminKey,
		`{"role":"partner","name":"bench","partner":"`+outlet+`"}`, http.StatusCreated)["key"].(string)
	pkg := h.mustJSON(b, "POST", "/v1/packages", producer,
		`{"campaign":"bench","language":"kk","headlines":[{"value":"Архив сынағы"}],"by":"bench","usageterms":"none"}`, http.StatusCreated)["id"].(string)
	b.Cleanup(func() {
		h.call(context.Background(), "POST", "/v1/packages/"+pkg+"/purge", producer, "", http.StatusOK)
	})
	_, info, err := h.upload(ctx, producer, pkg, asset, newVideo(size, seed), size)
	if err != nil {
		b.Fatalf("hub upload: %v\nhub output:\n%s", err, h.out.String())
	}
	if _, err := mc.PutObject(ctx, direct.Bucket, object, newVideo(size, seed), size, minio.PutObjectOptions{
		PartSize: partSize(size), ContentType: "video/mp4",
	}); err != nil {
		b.Fatal(err)
	}
	h.mustJSON(b, "POST", "/v1/packages/"+pkg+"/release", producer, "", http.StatusOK)

	res := archiveResults{size: size, rounds: rounds, cpu: map[string]*cpuUse{}}
	procs := cpuProcs{"bench": os.Getpid(), "hub": h.pid(), "minio": findMinIO(direct.Endpoint)}
	if st, err := readStatus(h.pid()); err == nil {
		res.rssBase = st.rss
	} else {
		b.Logf("hub memory cannot be read (%v); RSS figures are left out", err)
		res.rssBase = -1
	}
	buf := make([]byte, copyBufSize)
	measure := func(name string, f func() (time.Duration, int64, error)) {
		u := res.cpu[name]
		if u == nil {
			u = &cpuUse{}
			res.cpu[name] = u
		}
		before := procs.times()
		s := sampleRSS(h.pid())
		d, n, err := f()
		peak := s.Stop()
		u.add(before, procs.times())
		if err != nil {
			b.Fatalf("%s: %v\nhub output:\n%s", name, err, h.out.String())
		}
		res.times[name] = append(res.times[name], d)
		res.bytes[name] = n
		res.rss[name] = max(res.rss[name], peak)
	}
	res.times, res.bytes, res.rss = map[string][]time.Duration{}, map[string]int64{}, map[string]int64{}
	kinds := []struct {
		name string
		f    func() (time.Duration, int64, error)
	}{
		{"direct", func() (time.Duration, int64, error) {
			d, err := directDownload(ctx, mc, direct.Bucket, object, size, buf)
			return d, size, err
		}},
		{"hub", func() (time.Duration, int64, error) {
			return h.get(ctx, partner, "/v1/packages/"+pkg+"/assets/"+asset, discard{}, buf)
		}},
		{"zip", func() (time.Duration, int64, error) {
			return h.get(ctx, partner, "/v1/packages/"+pkg+"/archive.zip", discard{}, buf)
		}},
	}
	b.ResetTimer()
	for i := range rounds {
		// Each kind goes first in turn.
		for j := range kinds {
			k := kinds[(i+j)%len(kinds)]
			measure(k.name, k.f)
		}
	}
	b.StopTimer()
	if st, err := readStatus(h.pid()); err == nil {
		res.hwm = st.hwm
	}
	if res.bytes["hub"] != size || res.bytes["zip"] <= size {
		b.Fatalf("the hub served %d bytes of the asset and a zip of %d; the asset has %d", res.bytes["hub"], res.bytes["zip"], size)
	}

	// Integrity, off the clock: the video in the zip is the one generated.
	want := sha256.New()
	if _, err := io.CopyBuffer(want, newVideo(size, seed), buf); err != nil {
		b.Fatal(err)
	}
	wantSum := hex.EncodeToString(want.Sum(nil))
	if info.SHA256 != wantSum {
		b.Fatalf("the hub recorded sha256 %s, the generator made %s", info.SHA256, wantSum)
	}
	file := filepath.Join(b.TempDir(), "package.zip")
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := h.get(ctx, partner, "/v1/packages/"+pkg+"/archive.zip", f, buf); err != nil {
		b.Fatal(err)
	}
	f.Close()
	if sum, err := zippedSHA256(file, asset, buf); err != nil || sum != wantSum {
		b.Fatalf("the video in the zip: sha256 %s (%v), want %s", sum, err, wantSum)
	}

	res.report(b)
}

// zippedSHA256 returns the SHA-256 of entry name in the zip file at path.
func zippedSHA256(path, name string, buf []byte) (string, error) {
	z, err := zip.OpenReader(path)
	if err != nil {
		return "", err
	}
	defer z.Close()
	for _, f := range z.File {
		if f.Name != name {
			continue
		}
		if f.Method != zip.Store {
			return "", fmt.Errorf("%s is compressed (method %d); media are stored", name, f.Method)
		}
		rc, err := f.Open()
		if err != nil {
			return "", err
		}
		defer rc.Close()
		h := sha256.New()
		if _, err := io.CopyBuffer(h, rc, buf); err != nil {
			return "", err
		}
		return hex.EncodeToString(h.Sum(nil)), nil
	}
	return "", fmt.Errorf("the zip has no %s", name)
}

// get GETs path into w and returns the time and the length, checked
// against the Content-Length when there is one.
func (h *hubProcess) get(ctx context.Context, key, path string, w io.Writer, buf []byte) (time.Duration, int64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", h.url+path, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	start := time.Now()
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		out, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return 0, 0, fmt.Errorf("GET %s: %s: %s", path, resp.Status, out)
	}
	n, err := io.CopyBuffer(w, resp.Body, buf)
	d := time.Since(start)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("GET %s: %d bytes, Content-Length %d", path, n, resp.ContentLength)
	}
	return d, n, err
}

// archiveResults are every round's durations by kind (direct, hub, zip).
type archiveResults struct {
	size   int64
	rounds int
	times  map[string][]time.Duration
	bytes  map[string]int64
	cpu    map[string]*cpuUse
	// rss is the largest VmRSS sample during each kind; rssBase the VmRSS
	// before the first download, hwm the VmHWM at the end (-1: unknown).
	rss          map[string]int64
	rssBase, hwm int64
}

func (r *archiveResults) rate(kind string, d time.Duration) float64 {
	return float64(r.bytes[kind]) / (1 << 20) / d.Seconds()
}

func (r *archiveResults) best(kind string) float64 { return r.rate(kind, slices.Min(r.times[kind])) }

func (r *archiveResults) rates(kind string) string {
	s := make([]string, len(r.times[kind]))
	for i, d := range r.times[kind] {
		s[i] = fmt.Sprintf("%.0f", r.rate(kind, d))
	}
	return strings.Join(s, " ")
}

func (r *archiveResults) report(b *testing.B) {
	dir, hub, zipped := r.best("direct"), r.best("hub"), r.best("zip")
	ratio := zipped / hub
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(dir, "direct-down-MiB/s")
	b.ReportMetric(hub, "hub-down-MiB/s")
	b.ReportMetric(zipped, "zip-MiB/s")
	b.ReportMetric(ratio, "zip-ratio")
	b.ReportMetric(zipped/dir, "zip-direct-ratio")
	verdict := func(ok bool) string {
		if ok {
			return "ok"
		}
		return "MISSED"
	}
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	var t strings.Builder
	fmt.Fprintf(&t, "\nBenchmarkArchive: one video of %.0f MiB, zip of %d bytes; best of %d rounds (MiB/s of every round in brackets)\n",
		mib(r.size), r.bytes["zip"], r.rounds)
	fmt.Fprintf(&t, "%-28s %8s %8s %8s   %s\n", "", "MiB/s", "/hub", "/direct", "rounds")
	for _, k := range []struct{ kind, label string }{
		{"direct", "direct (minio-go GetObject)"}, {"hub", "hub asset download"}, {"zip", "hub archive.zip"},
	} {
		v := r.best(k.kind)
		fmt.Fprintf(&t, "%-28s %8.0f %8.2f %8.2f   [%s]\n", k.label, v, v/hub, v/dir, r.rates(k.kind))
	}
	fmt.Fprintf(&t, "zip/hub download %.2f, target >= %.2f %s\n", ratio, targetRatio, verdict(ratio >= targetRatio))
	if r.rssBase >= 0 {
		b.ReportMetric(mib(r.rss["zip"]), "hub-zip-peak-RSS-MiB")
		fmt.Fprintf(&t, "hub RSS MiB: before %.1f, peak during asset downloads %.1f, during zips %.1f; VmHWM at the end %.1f; target < %d %s\n",
			mib(r.rssBase), mib(r.rss["hub"]), mib(r.rss["zip"]), mib(r.hwm), targetRSSMiB, verdict(mib(r.rss["zip"]) < targetRSSMiB))
	}
	gib := float64(r.size) / (1 << 30) * float64(r.rounds)
	fmt.Fprintf(&t, "CPU seconds per GiB, mean of the rounds (bench = this process, the client):\n")
	fmt.Fprintf(&t, "%-12s %8s %8s %8s %8s\n", "", "bench", "hub", "minio", "total")
	for _, name := range []string{"direct", "hub", "zip"} {
		if u := r.cpu[name]; u != nil && u.ok {
			fmt.Fprintf(&t, "%-12s %8.2f %8s %8.2f %8.2f\n", name, u.bench/gib, cpuCell(u.hub, name, gib), u.minio/gib, u.total()/gib)
		}
	}
	if h, z := r.cpu["hub"], r.cpu["zip"]; h != nil && z != nil && h.ok && z.ok {
		b.ReportMetric(h.total()/z.total(), "zip-cpu-ratio")
		fmt.Fprintf(&t, "total CPU per GiB, hub download/zip: %.2f\n", h.total()/z.total())
	}
	fmt.Print(t.String())
}
