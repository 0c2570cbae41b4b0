package api_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// assetAnswer is what an upload answers, in the fields tests look at.
type assetAnswer struct {
	Name, Type, ContentType, SHA256, URI string
	Size                                 int64
	Caption, Credit, Language            string
	Primary                              bool
}

func TestAssetRoundTrip(t *testing.T) {
	forEachStore(t, hubOptions{}, func(t *testing.T, h *testHub) {
		producer := h.key("producer")
		id := h.createPackage(producer, "korgau123")
		poster := pngBytes(t, 64, 48, 7)
		name := "Плакат кампании.png"
		path := "/v1/packages/" + id + "/assets/" + url.PathEscape(name)

		r := h.do("PUT", path, producer, poster, "Content-Type", "application/octet-stream").expect(t, http.StatusCreated)
		var a assetAnswer
		r.json(t, &a)
		if a.Name != name || a.Type != "picture" || a.ContentType != "image/png" || a.Size != int64(len(poster)) || a.SHA256 != sha(poster) {
			t.Fatalf("upload answered %+v", a)
		}
		if !strings.HasPrefix(a.URI, "https://hub.example.org/v1/packages/"+id+"/assets/") {
			t.Errorf("uri %q is not absolute under the public URL", a.URI)
		}

		r = h.do("GET", path, producer, nil).expect(t, http.StatusOK)
		if !bytes.Equal(r.body, poster) {
			t.Fatal("downloaded bytes differ")
		}
		for header, want := range map[string]string{
			"Content-Type":           "image/png",
			"Content-Disposition":    `inline; filename="______ ________.png"; filename*=UTF-8''%D0%9F%D0%BB%D0%B0%D0%BA%D0%B0%D1%82%20%D0%BA%D0%B0%D0%BC%D0%BF%D0%B0%D0%BD%D0%B8%D0%B8.png`,
			"ETag":                   `"` + sha(poster) + `"`,
			"X-Content-Type-Options": "nosniff",
			"Accept-Ranges":          "bytes",
		} {
			if got := r.Header.Get(header); got != want {
				t.Errorf("%s = %q, want %q", header, got, want)
			}
		}

		// Ranges, as a resuming downloader sends them.
		r = h.do("GET", path, producer, nil, "Range", "bytes=10-19").expect(t, http.StatusPartialContent)
		if !bytes.Equal(r.body, poster[10:20]) {
			t.Error("range 10-19 differs")
		}
		r = h.do("GET", path, producer, nil, "Range", "bytes=-5").expect(t, http.StatusPartialContent)
		if !bytes.Equal(r.body, poster[len(poster)-5:]) {
			t.Error("suffix range differs")
		}
		h.do("GET", path, producer, nil, "Range", fmt.Sprintf("bytes=%d-", len(poster)+10)).expect(t, http.StatusRequestedRangeNotSatisfiable)
		// If-Range with the current ETag resumes; with an old one the whole
		// new file comes back, so a correction is never spliced into old bytes.
		r = h.do("GET", path, producer, nil, "Range", "bytes=5-", "If-Range", `"`+sha(poster)+`"`).expect(t, http.StatusPartialContent)
		if !bytes.Equal(r.body, poster[5:]) {
			t.Error("If-Range resume differs")
		}
		r = h.do("GET", path, producer, nil, "Range", "bytes=5-", "If-Range", `"stale"`).expect(t, http.StatusOK)
		if !bytes.Equal(r.body, poster) {
			t.Error("If-Range with a stale ETag did not send the whole file")
		}
		h.do("HEAD", path, producer, nil).expect(t, http.StatusOK)

		// PATCH sets the descriptive fields; marking one primary unmarks others.
		h.do("PUT", "/v1/packages/"+id+"/assets/leaflet.pdf", producer, pdfBytes).expect(t, http.StatusCreated)
		h.do("PATCH", "/v1/packages/"+id+"/assets/leaflet.pdf", producer, map[string]any{"primary": true}).expect(t, http.StatusOK)
		h.do("PATCH", path, producer, map[string]any{"caption": "Постер", "credit": "Dobrye Vesti", "language": "kk", "primary": true}).
			expect(t, http.StatusOK).json(t, &a)
		if a.Caption != "Постер" || a.Credit != "Dobrye Vesti" || a.Language != "kk" || !a.Primary {
			t.Errorf("after PATCH: %+v", a)
		}
		var item struct{ Associations []assetAnswer }
		h.do("GET", "/v1/packages/"+id, producer, nil).expect(t, http.StatusOK).json(t, &item)
		for _, as := range item.Associations {
			if as.Primary != (as.Name == name) {
				t.Errorf("%s primary=%v", as.Name, as.Primary)
			}
		}
		if len(item.Associations) != 2 || item.Associations[1].Type != "graphic" {
			t.Errorf("associations %+v", item.Associations)
		}

		// Replacing keeps the descriptive fields and answers 200.
		newPoster := pngBytes(t, 64, 48, 9)
		h.do("PUT", path, producer, newPoster).expect(t, http.StatusOK).json(t, &a)
		if a.SHA256 != sha(newPoster) || a.Caption != "Постер" {
			t.Errorf("after replace: %+v", a)
		}
		if r := h.do("GET", path, producer, nil).expect(t, http.StatusOK); !bytes.Equal(r.body, newPoster) {
			t.Error("the replaced asset serves old bytes")
		}

		h.do("DELETE", path, producer, nil).expect(t, http.StatusNoContent)
		h.do("GET", path, producer, nil).expect(t, http.StatusNotFound).problem(t)
		h.do("DELETE", path, producer, nil).expect(t, http.StatusNotFound).problem(t)
	})
}

func TestIdenticalUploadsShareOneBlob(t *testing.T) {
	forEachStore(t, hubOptions{}, func(t *testing.T, h *testHub) {
		producer := h.key("producer")
		a, b := h.createPackage(producer, "korgau123"), h.createPackage(producer, "korgau123")
		poster := pngBytes(t, 32, 32, 3)
		h.do("PUT", "/v1/packages/"+a+"/assets/poster.png", producer, poster).expect(t, http.StatusCreated)
		h.do("PUT", "/v1/packages/"+b+"/assets/плакат.png", producer, poster).expect(t, http.StatusCreated)
		h.settled()
		if n := len(h.listBlobs()) - h.renditionBlobs(); n != 1 {
			t.Fatalf("%d blobs for one content (besides its renditions)", n)
		}
		h.do("DELETE", "/v1/packages/"+a, producer, nil).expect(t, http.StatusNoContent)
		if r := h.do("GET", "/v1/packages/"+b+"/assets/"+url.PathEscape("плакат.png"), producer, nil).expect(t, http.StatusOK); !bytes.Equal(r.body, poster) {
			t.Fatal("the shared blob went with the first package")
		}
		h.do("DELETE", "/v1/packages/"+b+"/assets/"+url.PathEscape("плакат.png"), producer, nil).expect(t, http.StatusNoContent)
		if left := h.listBlobs(); len(left) != 0 {
			t.Fatalf("blob left after its last asset went: %v", left)
		}
	})
}

func TestMultipartFormUpload(t *testing.T) {
	forEachStore(t, hubOptions{}, func(t *testing.T, h *testHub) {
		producer := h.key("producer")
		id := h.createPackage(producer, "korgau123")
		poster, leaflet := pngBytes(t, 16, 16, 1), pdfBytes
		var body bytes.Buffer
		w := multipart.NewWriter(&body)
		fw, _ := w.CreateFormFile("file", "Плакат.png")
		fw.Write(poster)
		w.WriteField("type", "graphic")
		w.WriteField("name", "листовка.pdf")
		fw, _ = w.CreateFormFile("file", "ignored.pdf")
		fw.Write(leaflet)
		w.Close()
		var out struct{ Assets []assetAnswer }
		h.do("POST", "/v1/packages/"+id+"/assets", producer, body.Bytes(), "Content-Type", w.FormDataContentType()).
			expect(t, http.StatusCreated).json(t, &out)
		if len(out.Assets) != 2 || out.Assets[0].Name != "Плакат.png" || out.Assets[0].SHA256 != sha(poster) ||
			out.Assets[1].Name != "листовка.pdf" || out.Assets[1].Type != "graphic" {
			t.Fatalf("form upload answered %+v", out.Assets)
		}
		// curl -X PUT -F file=@x stores the file, not the form around it.
		body.Reset()
		w = multipart.NewWriter(&body)
		fw, _ = w.CreateFormFile("file", "whatever.png")
		fw.Write(poster)
		w.Close()
		var a assetAnswer
		h.do("PUT", "/v1/packages/"+id+"/assets/second.png", producer, body.Bytes(), "Content-Type", w.FormDataContentType()).
			expect(t, http.StatusCreated).json(t, &a)
		if a.Name != "second.png" || a.SHA256 != sha(poster) {
			t.Fatalf("PUT form answered %+v", a)
		}
		// A path in a form's file name is refused, not silently stripped.
		body.Reset()
		w = multipart.NewWriter(&body)
		fw, _ = w.CreateFormFile("file", "../../etc/passwd.png")
		fw.Write(poster)
		w.Close()
		before := h.state()
		h.do("POST", "/v1/packages/"+id+"/assets", producer, body.Bytes(), "Content-Type", w.FormDataContentType()).
			expect(t, http.StatusBadRequest).problem(t)
		h.assertUnchanged(before)
	})
}

func TestAssetUploadsRefusedWithNothingStored(t *testing.T) {
	forEachStore(t, hubOptions{maxAssetBytes: 1 << 20}, func(t *testing.T, h *testHub) {
		producer := h.key("producer")
		id := h.createPackage(producer, "korgau123")
		h.do("PUT", "/v1/packages/"+id+"/assets/existing.png", producer, pngBytes(t, 8, 8, 1)).expect(t, http.StatusCreated)
		poster := pngBytes(t, 8, 8, 2)
		big := append(pngBytes(t, 8, 8, 3), make([]byte, 1<<20)...)
		zip := []byte("PK\x03\x04\x14\x00\x00\x00\x00\x00" + strings.Repeat("\x00", 40))
		base := "/v1/packages/" + id + "/assets/"
		for _, tc := range []struct {
			name    string
			path    string
			body    any
			status  int
			headers []string
		}{
			{"dot-dot slash", base + "..%2Fposter.png", poster, 400, nil},
			{"dot-dot", base + "..", poster, 400, nil},
			{"encoded dot-dot", base + "%2E%2E", poster, 400, nil},
			{"encoded slash", base + "a%2Fb.png", poster, 400, nil},
			{"backslash", base + "a%5Cb.png", poster, 400, nil},
			{"NUL", base + "poster%00.png", poster, 400, nil},
			{"control character", base + "poster%01.png", poster, 400, nil},
			{"newline", base + "poster%0A.png", poster, 400, nil},
			{"DEL", base + "poster%7F.png", poster, 400, nil},
			{"leading space", base + "%20poster.png", poster, 400, nil},
			{"invalid UTF-8", base + "poster%FF.png", poster, 400, nil},
			{"too long", base + strings.Repeat("a", 256), poster, 400, nil},
			{"unknown type", base + "poster.png?type=meme", poster, 400, nil},
			{"empty", base + "empty.png", []byte{}, 400, nil},
			{"PDF as a picture", base + "leaflet.pdf?type=picture", pdfBytes, 415, nil},
			{"PNG as video", base + "poster.png?type=video", poster, 415, nil},
			{"zip archive", base + "bundle.zip", zip, 415, nil},
			{"HTML page", base + "page.html", []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), 415, nil},
			{"over the limit by Content-Length", base + "big.png", big, 413, nil},
			{"over the limit, chunked", base + "big.png", io.MultiReader(bytes.NewReader(big)), 413, nil},
			{"unknown package", "/v1/packages/01ARZ3NDEKTSV4RRFFQ69G5FAV/assets/poster.png", poster, 404, nil},
			{"malformed package id", "/v1/packages/nope/assets/poster.png", poster, 404, nil},
			{"partner key", base + "poster.png", poster, 404, []string{"partner"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				h := h.with(t)
				key := producer
				if tc.headers != nil {
					key = h.key("partner")
				}
				before := h.state()
				r := h.do("PUT", tc.path, key, tc.body)
				r.expect(t, tc.status).problem(t)
				h.assertUnchanged(before)
			})
		}
		// Cyrillic, spaces and punctuation are fine.
		h.do("PUT", base+url.PathEscape("Интервью (полное) — 2026.png"), producer, poster).expect(t, http.StatusCreated)
	})
}

// TestClientDisconnectMidUpload cuts the connection halfway through a
// body whose length was declared: nothing may be recorded or stored.
func TestClientDisconnectMidUpload(t *testing.T) {
	forEachStore(t, hubOptions{}, func(t *testing.T, h *testHub) {
		producer := h.key("producer")
		id := h.createPackage(producer, "korgau123")
		before := h.state()

		u, _ := url.Parse(h.URL)
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		head := pngBytes(t, 64, 64, 5)
		fmt.Fprintf(conn, "PUT /v1/packages/%s/assets/interview.png HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n",
			id, u.Host, producer, 10<<20)
		conn.Write(head)
		conn.Write(make([]byte, 3<<20))
		conn.Close()

		// The handler notices the broken body and cleans up; wait for it.
		deadline := time.Now().Add(10 * time.Second)
		for {
			after := h.state()
			if after.packages == before.packages && len(after.blobs) == len(before.blobs) {
				break
			}
			if time.Now().After(deadline) {
				h.assertUnchanged(before)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		// And it stays that way.
		time.Sleep(200 * time.Millisecond)
		h.assertUnchanged(before)
	})
}

// TestPresignedDownloadOfReleasedAsset checks the S3 redirect: only for a
// released package, with the file name set on the signed URL.
func TestPresignedDownloadOfReleasedAsset(t *testing.T) {
	h := newTestHub(t, "s3", hubOptions{presign: true})
	producer := h.key("producer")
	id := h.createPackage(producer, "korgau123")
	poster := pngBytes(t, 16, 16, 4)
	path := "/v1/packages/" + id + "/assets/" + url.PathEscape("плакат.png")
	h.do("PUT", path, producer, poster).expect(t, http.StatusCreated)

	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(key string) *http.Response {
		req, _ := http.NewRequest("GET", h.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get(producer); resp.StatusCode != http.StatusOK {
		t.Fatalf("a draft's asset answered %d; drafts are never presigned", resp.StatusCode)
	}

	h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
	partner := h.key("partner")
	resp := get(partner)
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("released asset answered %d, want a redirect", resp.StatusCode)
	}
	signed, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if exp := signed.Query().Get("X-Amz-Expires"); exp != "60" {
		t.Errorf("presigned URL lives %s s, want 60", exp)
	}
	direct, err := http.Get(signed.String())
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Body.Close()
	b, _ := io.ReadAll(direct.Body)
	if direct.StatusCode != 200 || !bytes.Equal(b, creditedAs(t, "image/png", poster, harnessCredit)) {
		t.Fatalf("presigned URL answered %d with %d bytes", direct.StatusCode, len(b))
	}
	if cd := direct.Header.Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''%D0%BF") {
		t.Errorf("presigned download Content-Disposition %q", cd)
	}
}

// TestStalledUploadIsAbortedAndReleaseGoesOn: a client that sends part of
// an upload and then nothing holds it open only for the idle timeout; it
// gets 408, nothing is recorded, and the package's release, refused with
// 409 while the upload runs, goes through once it is aborted (issue 9).
func TestStalledUploadIsAbortedAndReleaseGoesOn(t *testing.T) {
	const idle = 400 * time.Millisecond
	forEachStore(t, hubOptions{uploadIdle: idle}, func(t *testing.T, h *testHub) {
		producer := h.key("producer")
		id := h.readyPackage(producer, "korgau123")
		before := h.state()

		conn, err := net.Dial("tcp", strings.TrimPrefix(h.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		head := append(pngBytes(t, 4, 4, 4)[:40], bytes.Repeat([]byte{7}, 2000)...) // sniffs as PNG
		fmt.Fprintf(conn, "PUT /v1/packages/%s/assets/stalled.png HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: image/png\r\nContent-Length: 100000\r\n\r\n", id, producer)
		start := time.Now()
		conn.Write(head) // and then nothing

		eventually(t, 5*time.Second, "the upload to show as running", func() bool {
			p, err := h.catalog.Package(context.Background(), id)
			return err == nil && len(p.Uploads) > 0
		})
		h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusConflict)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("the stalled upload got no answer: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		waited := time.Since(start)
		if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "nothing was stored") {
			t.Fatalf("the stalled upload answered %d: %s", resp.StatusCode, body)
		}
		if waited < idle*3/4 || waited > idle+5*time.Second {
			t.Errorf("aborted after %v with an idle timeout of %v", waited, idle)
		}
		h.assertUnchanged(before)
		h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
	})
}

// TestSlowUploadThatKeepsMovingIsNotCutOff: bytes arriving more slowly
// than the idle timeout per whole upload, but never pausing that long,
// keep the upload alive.
func TestSlowUploadThatKeepsMovingIsNotCutOff(t *testing.T) {
	const idle = 400 * time.Millisecond
	h := newTestHub(t, "disk", hubOptions{uploadIdle: idle})
	producer := h.key("producer")
	id := h.createPackage(producer, "korgau123")
	png := pngBytes(t, 64, 64, 5)
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < len(png); i += len(png)/8 + 1 {
			pw.Write(png[i:min(len(png), i+len(png)/8+1)])
			time.Sleep(idle / 3)
		}
		pw.Close()
	}()
	req, _ := http.NewRequest("PUT", h.URL+"/v1/packages/"+id+"/assets/slow.png", pr)
	req.ContentLength = int64(len(png))
	req.Header.Set("Authorization", "Bearer "+producer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("a slow but moving upload answered %d", resp.StatusCode)
	}
}
