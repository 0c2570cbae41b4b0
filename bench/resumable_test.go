package bench

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// resumableChunk is what each PATCH of the benchmark's resumable upload
// carries: hub push's default chunk (push.DefaultChunkSize).
const resumableChunk = 16 << 20

// BenchmarkResumableUpload measures a resumable (tus) upload beside a
// plain PUT of the same size, to the same hub on MinIO: the staging on
// the scratch disk and the chunked requests against one stream. It
// reports the best of BENCH_ROUNDS rounds of each, and their ratio.
func BenchmarkResumableUpload(b *testing.B) {
	size := envInt(b, "BENCH_ASSET_BYTES", defaultAssetBytes, minAssetBytes)
	rounds := int(envInt(b, "BENCH_ROUNDS", defaultRounds, 1))
	hubBucket := minioServer.Options(b) // skips without MinIO
	ctx := b.Context()
	bin := buildHub(b)
	h := startHub(b, bin, hubBucket, size)
	producer := h.mustJSON(b, "POST", "/v1/keys", adminKey, `{"role":"producer","name":"bench"}`, http.StatusCreated)["key"].(string)
	pkg := h.mustJSON(b, "POST", "/v1/packages", producer,
		`{"campaign":"bench","language":"en","headlines":[{"value":"resumable upload benchmark"}]}`, http.StatusCreated)["id"].(string)
	b.Cleanup(func() {
		h.call(context.Background(), "DELETE", "/v1/packages/"+pkg, producer, "", http.StatusNoContent)
	})

	var put, tus []time.Duration
	for round := range rounds {
		ways := []func() error{
			func() error {
				name := fmt.Sprintf("put-%d.png", round)
				d, info, err := h.upload(ctx, producer, pkg, name, newPayload(size, uint64(2*round+1)), size)
				if err == nil && info.Size != size {
					err = fmt.Errorf("PUT stored %d bytes of %d", info.Size, size)
				}
				put = append(put, d)
				return err
			},
			func() error {
				name := fmt.Sprintf("tus-%d.png", round)
				d, info, err := h.resumableUpload(ctx, producer, pkg, name, newPayload(size, uint64(2*round+2)), size)
				if err == nil && info.Size != size {
					err = fmt.Errorf("the resumable upload stored %d bytes of %d", info.Size, size)
				}
				tus = append(tus, d)
				return err
			},
		}
		if round%2 == 1 {
			slices.Reverse(ways) // each goes first in turn
		}
		for _, way := range ways {
			if err := way(); err != nil {
				b.Fatal(err)
			}
		}
		// Off the clock: the round's assets go, so the next round's bytes
		// are the only ones stored.
		for _, prefix := range []string{"put", "tus"} {
			if _, err := h.call(ctx, "DELETE", fmt.Sprintf("/v1/packages/%s/assets/%s-%d.png", pkg, prefix, round), producer, "", http.StatusNoContent); err != nil {
				b.Fatal(err)
			}
		}
	}
	rate := func(d time.Duration) float64 { return float64(size) / (1 << 20) / d.Seconds() }
	putRate, tusRate := rate(slices.Min(put)), rate(slices.Min(tus))
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(putRate, "put-MiB/s")
	b.ReportMetric(tusRate, "tus-MiB/s")
	b.ReportMetric(tusRate/putRate, "tus-ratio")
	b.Logf("%d MiB, %d rounds: PUT %v, resumable (%d MiB PATCHes) %v", size>>20, rounds, put, resumableChunk>>20, tus)
}

// resumableUpload sends body, size bytes, as asset name of package id by
// the tus protocol: POST, then PATCHes of resumableChunk; the last one's
// answer is the stored asset.
func (h *hubProcess) resumableUpload(ctx context.Context, key, id, name string, body io.Reader, size int64) (time.Duration, assetInfo, error) {
	var info assetInfo
	start := time.Now()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	resp, err := h.tusRequest(ctx, "POST", "/v1/uploads", key, nil, 0, http.Header{
		"Upload-Length": {strconv.FormatInt(size, 10)}, "Upload-Metadata": {"package " + b64(id) + ",name " + b64(name)},
	}, http.StatusCreated)
	if err != nil {
		return 0, info, err
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		return 0, info, err
	}
	for offset := int64(0); offset < size; {
		n := min(resumableChunk, size-offset)
		want := http.StatusNoContent
		if offset+n == size {
			want = http.StatusCreated
		}
		resp, err := h.tusRequest(ctx, "PATCH", loc.Path, key, io.LimitReader(body, n), n, http.Header{
			"Upload-Offset": {strconv.FormatInt(offset, 10)}, "Content-Type": {"application/offset+octet-stream"},
		}, want)
		if err != nil {
			return 0, info, err
		}
		if want == http.StatusCreated {
			if err := json.Unmarshal(resp.body, &info); err != nil {
				return 0, info, fmt.Errorf("PATCH %s: %v: %s", name, err, resp.body)
			}
		}
		offset += n
	}
	return time.Since(start), info, nil
}

type tusResponse struct {
	*http.Response
	body []byte
}

func (h *hubProcess) tusRequest(ctx context.Context, method, path, key string, body io.Reader, size int64, header http.Header, want int) (tusResponse, error) {
	req, err := http.NewRequestWithContext(ctx, method, h.url+path, body)
	if err != nil {
		return tusResponse{}, err
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	req.Header = header
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := h.client.Do(req)
	if err != nil {
		return tusResponse{}, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return tusResponse{}, err
	}
	if resp.StatusCode != want {
		return tusResponse{}, fmt.Errorf("%s %s: %s, want %d: %s", method, strings.TrimPrefix(path, "/v1/uploads/"), resp.Status, want, out)
	}
	return tusResponse{resp, out}, nil
}
