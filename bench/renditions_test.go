package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
)

const (
	defaultPictures = 12

	// pollInterval is how often a rendition is asked for until it is there.
	pollInterval = 50 * time.Millisecond

	// pictureWait bounds the wait for one picture's renditions.
	pictureWait = 10 * time.Minute

	pictureQuality = 90
)

// pictureSize is one size of BenchmarkRenditions' pictures.
type pictureSize struct {
	label  string // "12 MP"
	w, h   int
	suffix string // of its metrics: "" for 12 MP, "-1mp"
}

var pictureSizes = []pictureSize{
	{"12 MP", 4000, 3000, ""},
	{"1 MP", 1152, 864, "-1mp"},
}

// BenchmarkRenditions measures how soon the renditions of pictures are
// there after their uploads: BENCH_PICTURES (default 12) distinct JPEGs of
// 12 megapixels (4000x3000) uploaded one after the other to `hub serve`
// (this tree's, default rendition workers: half the CPUs), each polled
// from its 201 every 50 ms at ?rendition=thumbnail until it answers 200,
// then at ?rendition=web. The same again with 1-megapixel (1152x864)
// pictures, the sizes taking turns going first, BENCH_ROUNDS rounds
// (default 3) of each. It ignores b.N: run it with -benchtime 1x.
func BenchmarkRenditions(b *testing.B) {
	n := int(envInt(b, "BENCH_PICTURES", defaultPictures, 1))
	rounds := int(envInt(b, "BENCH_ROUNDS", defaultRounds, 1))
	store := minioServer.Options(b) // skips without MinIO
	ctx := b.Context()
	bin := hubBinary(b)
	// Without a per-key rate limit: the pollers ask 20 times a second
	// each, which the default limit (20/s a key) would refuse.
	h := startHub(b, bin, store, hub.DefaultMaxAssetBytes, "--rate-limit-per-key", "0")
	producer := h.mustJSON(b, "POST", "/v1/keys", adminKey, `{"role":"producer","name":"bench"}`, http.StatusCreated)["key"].(string)
	// The hub's default, as server.renditionWorkers picks it.
	workers := fmt.Sprintf("half the CPUs: %d of %d", max(1, runtime.NumCPU()/2), runtime.NumCPU())

	res := make([]*renditionResults, len(pictureSizes))
	for i := range res {
		res[i] = &renditionResults{size: pictureSizes[i]}
	}
	load := loadAvg()
	b.ResetTimer()
	for round := 1; round <= rounds; round++ {
		for j := range pictureSizes {
			k := (round - 1 + j) % len(pictureSizes) // the sizes take turns going first
			pics, err := makePictures(pictureSizes[k], n, uint64(round*1000+k*100))
			if err != nil {
				b.Fatal(err)
			}
			pkg := h.mustJSON(b, "POST", "/v1/packages", producer,
				`{"campaign":"bench","language":"en","headlines":[{"value":"renditions benchmark"}]}`, http.StatusCreated)["id"].(string)
			if err := res[k].round(ctx, h, producer, pkg, pics); err != nil {
				b.Fatalf("%s, round %d: %v\nhub output:\n%s", pictureSizes[k].label, round, err, h.out.String())
			}
			// Off the clock: the package goes, with its blobs and renditions.
			if _, err := h.call(ctx, "DELETE", "/v1/packages/"+pkg, producer, "", http.StatusNoContent); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	reportRenditions(b, res, n, rounds, workers, load, loadAvg())
}

// picture is one generated JPEG to upload.
type picture struct {
	name string
	data []byte
}

// makePictures encodes n distinct JPEGs of size s, seeds from seed on.
func makePictures(s pictureSize, n int, seed uint64) ([]picture, error) {
	pics := make([]picture, n)
	for i := range pics {
		data, err := makeJPEG(s.w, s.h, seed+uint64(i))
		if err != nil {
			return nil, err
		}
		pics[i] = picture{name: fmt.Sprintf("photo-%02d.jpg", i+1), data: data}
	}
	return pics, nil
}

// makeJPEG encodes a w x h picture of seed's own: a gradient in its own
// direction, a pattern of soft blocks, a tint and grain, so that it costs
// about what a photograph does to encode and decode (a 12-megapixel one
// is about 4 MB at quality 90) and no two seeds give the same pixels.
func makeJPEG(w, h int, seed uint64) ([]byte, error) {
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	var g xorshift
	g.seed(seed)
	var param [8]byte
	g.fill(param[:])
	ax, ay := int(param[0]%7)+1, int(param[1]%7)+1
	block := 40 + int(param[2]%80)
	grain := make([]byte, w)
	for y := range h {
		g.fill(grain)
		row := img.Y[y*img.YStride : y*img.YStride+w]
		for x := range row {
			v := 24 + (x*ax+y*ay)*140/((w*ax)+(h*ay))
			v += ((x/block + y/block + int(param[3])) % 4) * 12
			row[x] = uint8(v + int(grain[x]%24))
		}
	}
	cw, ch := (w+1)/2, (h+1)/2
	chroma := make([]byte, 2*cw)
	for y := range ch {
		g.fill(chroma)
		cb := img.Cb[y*img.CStride : y*img.CStride+cw]
		cr := img.Cr[y*img.CStride : y*img.CStride+cw]
		for x := range cb {
			cb[x] = 112 + param[4]%32 + chroma[2*x]%12
			cr[x] = 112 + param[5]%32 + chroma[2*x+1]%12
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: pictureQuality}); err != nil {
		return nil, fmt.Errorf("encode a %dx%d JPEG: %w", w, h, err)
	}
	return buf.Bytes(), nil
}

// renditionResults are every round's figures for one picture size.
type renditionResults struct {
	size     pictureSize
	thumbMS  []float64 // each picture's 201 to thumbnail, all rounds
	uploadMS []float64 // each upload's time
	rates    []float64 // per round: pictures / (first upload to last ready)
	bytes    int64     // uploaded, all rounds
	pictures int
	hubCPU   float64 // seconds, all rounds
	cpuOK    bool
	rss      int64 // the hub tree's largest sample
}

// round uploads pics into package pkg one after the other and, from each
// 201, polls its thumbnail and then its web rendition.
func (r *renditionResults) round(ctx context.Context, h *hubProcess, key, pkg string, pics []picture) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s := sampleTreeRSS(h.pid())
	cpuBefore, cpuErr := cpuSeconds(h.pid())
	type ready struct {
		thumb time.Duration // from the 201
		done  time.Time     // thumbnail and web both there
		err   error
	}
	out := make([]ready, len(pics))
	var wg sync.WaitGroup
	start := time.Now()
	var uploadErr error
	for i, p := range pics {
		d, _, err := h.uploadAs(ctx, key, pkg, p.name, "image/jpeg", bytes.NewReader(p.data), int64(len(p.data)))
		if err != nil {
			uploadErr = fmt.Errorf("upload %s: %w", p.name, err)
			cancel()
			break
		}
		created := time.Now()
		r.uploadMS = append(r.uploadMS, float64(d)/float64(time.Millisecond))
		r.bytes += int64(len(p.data))
		wg.Add(1)
		go func() {
			defer wg.Done()
			deadline := created.Add(pictureWait)
			thumb, err := h.pollRendition(ctx, key, pkg, p.name, "thumbnail", deadline)
			var web time.Time
			if err == nil {
				web, err = h.pollRendition(ctx, key, pkg, p.name, "web", deadline)
			}
			if err != nil {
				cancel() // the others stop polling
			}
			out[i] = ready{thumb: thumb.Sub(created), done: web, err: err}
		}()
	}
	wg.Wait()
	r.rss = max(r.rss, s.Stop())
	if cpuAfter, err := cpuSeconds(h.pid()); err == nil && cpuErr == nil {
		r.hubCPU += cpuAfter - cpuBefore
		r.cpuOK = true
	}
	// The error that stopped the others: a poller's, else the upload's
	// (which a failed poller's cancel may have caused).
	var first error
	for i, o := range out {
		if o.err != nil && (first == nil || errors.Is(first, context.Canceled)) {
			first = fmt.Errorf("%s: %w", pics[i].name, o.err)
		}
	}
	if first == nil || errors.Is(first, context.Canceled) && uploadErr != nil {
		first = uploadErr
	}
	if first != nil {
		return first
	}
	var last time.Time
	for _, o := range out {
		r.thumbMS = append(r.thumbMS, float64(o.thumb)/float64(time.Millisecond))
		if o.done.After(last) {
			last = o.done
		}
	}
	r.pictures += len(pics)
	r.rates = append(r.rates, float64(len(pics))/last.Sub(start).Seconds())
	return nil
}

// pollRendition asks for rendition name of an asset every pollInterval
// until it answers 200, and returns when it did. A 404 saying it is still
// being made is asked again; any other answer is an error (a failed
// rendition among them).
func (h *hubProcess) pollRendition(ctx context.Context, key, pkg, asset, name string, deadline time.Time) (time.Time, error) {
	path := "/v1/packages/" + pkg + "/assets/" + asset + "?rendition=" + name
	for {
		req, err := http.NewRequestWithContext(ctx, "GET", h.url+path, nil)
		if err != nil {
			return time.Time{}, err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := h.client.Do(req)
		if err != nil {
			return time.Time{}, fmt.Errorf("GET %s: %w", path, err)
		}
		at := time.Now()
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return time.Time{}, fmt.Errorf("GET %s: %w", path, err)
		}
		if resp.StatusCode == http.StatusOK {
			if len(body) == 0 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "image/") {
				return time.Time{}, fmt.Errorf("GET %s: %d bytes of %q", path, len(body), resp.Header.Get("Content-Type"))
			}
			return at, nil
		}
		var problem struct {
			Detail string `json:"detail"`
		}
		if resp.StatusCode != http.StatusNotFound || json.Unmarshal(body, &problem) != nil || !strings.Contains(problem.Detail, "still being made") {
			return time.Time{}, fmt.Errorf("GET %s: %s: %.300s", path, resp.Status, body)
		}
		if at.After(deadline) {
			return time.Time{}, fmt.Errorf("GET %s: still being made after %v", path, pictureWait)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(pollInterval):
		}
	}
}

func reportRenditions(b *testing.B, res []*renditionResults, n, rounds int, workers, loadBefore, loadAfter string) {
	b.ReportMetric(0, "ns/op")
	var t strings.Builder
	fmt.Fprintf(&t, "\nBenchmarkRenditions: %d JPEGs a round, %d rounds a size, uploaded one after the other; rendition workers: the default (%s); MinIO store\n",
		n, rounds, workers)
	fmt.Fprintf(&t, "%-6s %9s %10s %10s %10s %10s %8s %9s   %s\n", "", "MB each", "upload ms", "thumb min", "thumb p50", "thumb p99", "pics/s", "hub CPU s", "rounds pics/s")
	var peak int64
	for _, r := range res {
		p50, p99 := percentile(r.thumbMS, 50), percentile(r.thumbMS, 99)
		rate := median(r.rates)
		b.ReportMetric(p50, "thumbnail-p50-ms"+r.size.suffix)
		b.ReportMetric(p99, "thumbnail-p99-ms"+r.size.suffix)
		b.ReportMetric(rate, "renditions-per-s"+r.size.suffix)
		cpu := "-"
		if r.cpuOK {
			cpu = fmt.Sprintf("%.2f", r.hubCPU/float64(r.pictures))
		}
		fmt.Fprintf(&t, "%-6s %9.1f %10.0f %10.0f %10.0f %10.0f %8.2f %9s   [%s]\n", r.size.label,
			float64(r.bytes)/float64(len(r.uploadMS))/1e6, median(r.uploadMS), slices.Min(r.thumbMS), p50, p99, rate, cpu, fmtRates(r.rates, "%.2f"))
		peak = max(peak, r.rss)
	}
	big, small := res[0], res[1]
	ratio := median(big.rates) / median(small.rates)
	b.ReportMetric(ratio, "renditions-12mp-1mp-ratio")
	b.ReportMetric(float64(peak)/(1<<20), "hub-peak-RSS-MiB")
	pixels := float64(big.size.w*big.size.h) / float64(small.size.w*small.size.h)
	fmt.Fprintf(&t, "thumb: ms from each upload's 201 to the thumbnail's 200 (polled every %v), over all %d pictures of a size; "+
		"p99 is nearest-rank, so the largest when there are fewer than 100; min is a picture that waited for no other\n", pollInterval, len(big.thumbMS))
	fmt.Fprintf(&t, "pics/s: pictures with thumbnail and web ready / time from the first upload to the last ready, median of the rounds\n")
	fmt.Fprintf(&t, "upload ms: median PUT to 201; hub CPU s: the hub's CPU seconds per picture (upload, scrub, renditions, answering the polls)\n")
	fmt.Fprintf(&t, "hub RSS: peak %.1f MiB (the hub and its children, sampled every %v while pictures were uploaded and rendered)\n", float64(peak)/(1<<20), rssInterval)
	fmt.Fprintf(&t, "12 MP / 1 MP pictures per second: %.3f for %.1fx the pixels\n", ratio, pixels)
	fmt.Fprintf(&t, "load average (1, 5, 15 min) before: %s, after: %s\n", loadBefore, loadAfter)
	fmt.Print(t.String())
}
