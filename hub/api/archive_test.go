package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
	"github.com/syndication-hub/hub/hub/ninjs/ninjstest"
)

// readZip checks the answer of a zip download and opens its body.
func readZip(t *testing.T, r response) *zip.Reader {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/zip" {
		t.Fatalf("zip answered as %q", ct)
	}
	if cl := r.Header.Get("Content-Length"); cl != strconv.Itoa(len(r.body)) {
		t.Fatalf("Content-Length %s, body %d bytes", cl, len(r.body))
	}
	z, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	return z
}

// zipFile returns the contents of the entry called name, checking its CRC.
func zipFile(t *testing.T, z *zip.Reader, name string) (*zip.File, []byte) {
	t.Helper()
	for _, f := range z.File {
		if f.Name != name {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc) // fails on a CRC mismatch
		if err != nil {
			t.Fatalf("read %s from the zip: %v", name, err)
		}
		if crc32.ChecksumIEEE(b) != f.CRC32 {
			t.Fatalf("%s: CRC-32 in the directory %08x, of the bytes %08x", name, f.CRC32, crc32.ChecksumIEEE(b))
		}
		return f, b
	}
	t.Fatalf("the zip has no %q", name)
	return nil, nil
}

func zipNames(z *zip.Reader) []string {
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
	}
	return names
}

func TestArchiveOfAPackage(t *testing.T) {
	forEachPickupStore(t, hubOptions{}, func(t *testing.T, h *testHub) {
		producer := h.key("producer")
		_, partner := h.outlet("Almaty TV", "Almaty", "tv")
		var created struct{ ID string }
		headline := "Домогательства на работе — это преступление"
		h.do("POST", "/v1/packages", producer, map[string]any{
			"campaign": "korgau123", "language": "kk", "headlines": []map[string]string{{"value": headline}},
			"by": "Dobrye Vesti", "usageterms": "Free to republish with credit", "copyrightnotice": "© 2026 Dobrye Vesti",
			"contentwarning": "Describes harassment at work",
		}).expect(t, http.StatusCreated).json(t, &created)
		id := created.ID
		poster := pngBytes(t, 32, 32, 3)
		kazakh := "Плакат — қазақша нұсқа.png"
		interview := "Сұхбат — Әйгерім.txt"
		text := []byte("Сұхбат мәтіні: Әйгерім жұмыстағы қысым туралы айтады.\n")
		before := time.Now().Add(-time.Second)
		h.do("PUT", "/v1/packages/"+id+"/assets/poster.png", producer, poster).expect(t, http.StatusCreated)
		h.do("PUT", "/v1/packages/"+id+"/assets/"+url.PathEscape(kazakh), producer, pngBytes(t, 8, 8, 5)).expect(t, http.StatusCreated)
		h.do("PUT", "/v1/packages/"+id+"/assets/"+url.PathEscape(interview), producer, text).expect(t, http.StatusCreated)
		h.do("PATCH", "/v1/packages/"+id+"/assets/poster.png", producer, map[string]any{"credit": "Photo: A. Nurlanova", "caption": "Плакат кампании"}).
			expect(t, http.StatusOK)
		path := "/v1/packages/" + id + "/archive.zip"

		// Not for partners before the release; the producer may check its draft.
		h.do("GET", path, partner, nil).expect(t, http.StatusNotFound).problem(t)
		readZip(t, h.do("GET", path, producer, nil).expect(t, http.StatusOK))
		h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)

		r := h.do("GET", path, partner, nil).expect(t, http.StatusOK)
		z := readZip(t, r)
		wantDisposition := `attachment; filename="` + strings.Repeat("_", len([]rune("Домогательства"))) + ` `
		if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, wantDisposition) ||
			!strings.HasSuffix(cd, "filename*=UTF-8''"+url.PathEscape(headline)+".zip") {
			t.Errorf("Content-Disposition %q", cd)
		}
		if got, want := strings.Join(zipNames(z), "|"), "manifest.json|ninjs.json|CREDITS.txt|poster.png|"+kazakh+"|"+interview; got != want {
			t.Errorf("entries %s, want %s", got, want)
		}
		// Released, the poster carries its credit, the package's copyright
		// notice and usage terms.
		posterCredit := hub.Credit{Credit: "Photo: A. Nurlanova", CopyrightNotice: "© 2026 Dobrye Vesti", UsageTerms: "Free to republish with credit"}
		releasedPoster := creditedAs(t, "image/png", poster, posterCredit)
		for name, want := range map[string][]byte{"poster.png": releasedPoster, interview: text} {
			f, got := zipFile(t, z, name)
			if sha(got) != sha(want) {
				t.Errorf("%s differs in the zip", name)
			}
			if f.Method != zip.Store {
				t.Errorf("%s stored with method %d; media are stored as they are", name, f.Method)
			}
			if f.Modified.Before(before) || f.Modified.After(time.Now().Add(time.Second)) {
				t.Errorf("%s modified %v, want its upload time", name, f.Modified)
			}
		}
		// Names in any script survive: the UTF-8 flag is set, and the
		// name reads back exactly.
		f, _ := zipFile(t, z, kazakh)
		if f.Flags&0x800 == 0 || f.NonUTF8 {
			t.Errorf("%s: flags %#x, the UTF-8 flag is not set", kazakh, f.Flags)
		}

		mf, manifest := zipFile(t, z, "manifest.json")
		if mf.Method != zip.Deflate {
			t.Errorf("manifest.json method %d, want deflate", mf.Method)
		}
		var item ninjs.Item
		dec := json.NewDecoder(bytes.NewReader(manifest))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&item); err != nil {
			t.Fatalf("manifest.json is not ninjs: %v\n%s", err, manifest)
		}
		if item.ID != id || item.Version != "1" || item.Type != "composite" || item.PubStatus != "usable" || len(item.Associations) != 3 ||
			item.Associations[0].Name != "poster.png" || item.Associations[0].SHA256 != sha(releasedPoster) || item.Associations[1].Name != kazakh {
			t.Errorf("manifest: %+v", item)
		}
		ninjstest.Profile(t).Assert(t, "manifest.json", manifest)
		sf, strict := zipFile(t, z, "ninjs.json")
		if sf.Method != zip.Deflate {
			t.Errorf("ninjs.json method %d, want deflate", sf.Method)
		}
		ninjstest.AssertStrict(t, "ninjs.json", strict)
		var s ninjs.StrictItem
		if err := json.Unmarshal(strict, &s); err != nil || s.URI != item.URI || s.Version != "1" || s.PubStatus != "usable" ||
			len(s.Associations) != 3 || s.EdNote != "Content warning: Describes harassment at work" {
			t.Errorf("ninjs.json (%v): %s", err, strict)
		}
		_, credits := zipFile(t, z, "CREDITS.txt")
		for _, want := range []string{headline, "Credit:          Dobrye Vesti", "Usage terms:     Free to republish with credit",
			"Copyright:       © 2026 Dobrye Vesti", "Content warning: Describes harassment at work", "Photo: A. Nurlanova", "Плакат кампании", kazakh} {
			if !bytes.Contains(credits, []byte(want)) {
				t.Errorf("CREDITS.txt lacks %q:\n%s", want, credits)
			}
		}

		// HEAD: the same length, no body.
		head := h.do("HEAD", path, partner, nil).expect(t, http.StatusOK)
		if head.Header.Get("Content-Length") != r.Header.Get("Content-Length") {
			t.Errorf("HEAD Content-Length %s, GET %s", head.Header.Get("Content-Length"), r.Header.Get("Content-Length"))
		}

		// A correction in the making: partners keep getting version 1,
		// the producer gets the working copy.
		newPoster := pngBytes(t, 32, 32, 77)
		h.do("PUT", "/v1/packages/"+id+"/assets/poster.png", producer, newPoster).expect(t, http.StatusOK)
		h.do("PATCH", "/v1/packages/"+id, producer, map[string]any{"by": "Dobrye Vesti newsroom"}).expect(t, http.StatusOK)
		for _, c := range []struct {
			key, version string
			poster       []byte
			name         string
		}{{partner, "1", releasedPoster, headline + ".zip"}, {producer, "2", newPoster, headline + " v2.zip"}} {
			r := h.do("GET", path, c.key, nil).expect(t, http.StatusOK)
			z := readZip(t, r)
			_, manifest := zipFile(t, z, "manifest.json")
			var item ninjs.Item
			if err := json.Unmarshal(manifest, &item); err != nil || item.Version != c.version {
				t.Errorf("manifest version %q (%v), want %s", item.Version, err, c.version)
			}
			ninjstest.Profile(t).Assert(t, "manifest.json of version "+c.version, manifest)
			_, strict := zipFile(t, z, "ninjs.json")
			var s ninjs.StrictItem
			if err := json.Unmarshal(strict, &s); err != nil || s.Version != c.version {
				t.Errorf("ninjs.json version %q (%v), want %s", s.Version, err, c.version)
			}
			ninjstest.AssertStrict(t, "ninjs.json of version "+c.version, strict)
			if _, got := zipFile(t, z, "poster.png"); !bytes.Equal(got, c.poster) {
				t.Errorf("version %s: the poster is not that version's", c.version)
			}
			if cd := r.Header.Get("Content-Disposition"); !strings.HasSuffix(cd, "''"+url.PathEscape(c.name)) {
				t.Errorf("version %s: Content-Disposition %q, want the name %q", c.version, cd, c.name)
			}
		}
		h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
		_, got := zipFile(t, readZip(t, h.do("GET", path, partner, nil).expect(t, http.StatusOK)), "poster.png")
		if !bytes.Equal(got, creditedAs(t, "image/png", newPoster, posterCredit)) {
			t.Error("after the correction partners still get the old poster")
		}

		// Withdrawn: partners get nothing, the producer still can.
		h.do("POST", "/v1/packages/"+id+"/withdraw", producer, nil).expect(t, http.StatusOK)
		h.do("GET", path, partner, nil).expect(t, http.StatusNotFound)
		h.do("GET", path, "", nil).expect(t, http.StatusUnauthorized)
		readZip(t, h.do("GET", path, producer, nil).expect(t, http.StatusOK))
	})
}

func TestArchiveVisibility(t *testing.T) {
	h := newPickupTestHub(t, "disk", hubOptions{})
	producer := h.key("producer")
	h.do("POST", "/v1/campaigns", producer, map[string]any{"slug": "survivors", "visibility": "partners"}).expect(t, http.StatusCreated)
	_, entitled := h.outlet("Closed Circle", "Osh", "radio", "survivors")
	_, other := h.outlet("Bishkek Online", "Bishkek", "online")
	open := h.readyPackage(producer, "korgau123")
	closed := h.readyPackage(producer, "survivors")
	draft := h.readyPackage(producer, "korgau123")
	for _, id := range []string{open, closed} {
		h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)
	}
	zipOf := func(id string) string { return "/v1/packages/" + id + "/archive.zip" }

	// Keyless: the released package of a public campaign, as feeds link it.
	readZip(t, h.do("GET", zipOf(open), "", nil).expect(t, http.StatusOK))
	h.do("HEAD", zipOf(open), "", nil).expect(t, http.StatusOK)
	h.do("GET", zipOf(closed), "", nil).expect(t, http.StatusUnauthorized).problem(t)
	h.do("GET", zipOf(draft), "", nil).expect(t, http.StatusUnauthorized)
	h.do("GET", zipOf("01ARZ3NDEKTSV4RRFFQ69G5FAV"), "", nil).expect(t, http.StatusUnauthorized)
	h.do("GET", zipOf(open), "not-a-key", nil).expect(t, http.StatusUnauthorized)
	// Partners: what they are entitled to; everything else is a 404.
	readZip(t, h.do("GET", zipOf(closed), entitled, nil).expect(t, http.StatusOK))
	h.do("GET", zipOf(closed), other, nil).expect(t, http.StatusNotFound)
	h.do("GET", zipOf(closed), h.key("partner"), nil).expect(t, http.StatusNotFound)
	h.do("GET", zipOf(draft), other, nil).expect(t, http.StatusNotFound)
	h.do("GET", zipOf("not-an-id"), other, nil).expect(t, http.StatusNotFound)
	h.do("GET", zipOf(closed), h.key("producer", "korgau123"), nil).expect(t, http.StatusNotFound)

	// Embargoed: nothing until the time, then the zip.
	embargoed := h.readyPackage(producer, "korgau123")
	embargo := time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second)
	h.do("POST", "/v1/packages/"+embargoed+"/release", producer, map[string]string{"embargo": embargo.Format(time.RFC3339)}).expect(t, http.StatusOK)
	h.do("GET", zipOf(embargoed), other, nil).expect(t, http.StatusNotFound)
	h.do("GET", zipOf(embargoed), "", nil).expect(t, http.StatusUnauthorized)
	readZip(t, h.do("GET", zipOf(embargoed), producer, nil).expect(t, http.StatusOK))
	time.Sleep(time.Until(embargo))
	deadline := time.Now().Add(3 * time.Second)
	for h.do("GET", zipOf(embargoed), other, nil).StatusCode != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatal("the zip is still hidden 3 s after the embargo")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Nothing of the embargoed time was recorded as a pickup.
	if r := h.reach(producer, "korgau123"); r.Downloads.Total != 2 {
		t.Errorf("%d downloads recorded, want 2 (one keyless, one after the embargo)", r.Downloads.Total)
	}
}

func TestArchiveNamesDoNotClash(t *testing.T) {
	h := newPickupTestHub(t, "disk", hubOptions{})
	producer := h.key("producer")
	id := h.createPackage(producer, "korgau123")
	h.do("PUT", "/v1/packages/"+id+"/assets/Manifest.json", producer, "a manifest of my own\n").
		expect(t, http.StatusCreated)
	h.do("PUT", "/v1/packages/"+id+"/assets/CREDITS.txt", producer, "my credits\n").expect(t, http.StatusCreated)
	h.do("PUT", "/v1/packages/"+id+"/assets/NINJS.json", producer, "my ninjs\n").expect(t, http.StatusCreated)
	z := readZip(t, h.do("GET", "/v1/packages/"+id+"/archive.zip", producer, nil).expect(t, http.StatusOK))
	if got := strings.Join(zipNames(z), "|"); got != "hub-manifest.json|hub-ninjs.json|hub-CREDITS.txt|Manifest.json|CREDITS.txt|NINJS.json" {
		t.Errorf("entries %s", got)
	}
	if _, b := zipFile(t, z, "CREDITS.txt"); string(b) != "my credits\n" {
		t.Errorf("the asset CREDITS.txt reads %q", b)
	}
	if _, b := zipFile(t, z, "NINJS.json"); string(b) != "my ninjs\n" {
		t.Errorf("the asset NINJS.json reads %q", b)
	}
}

// mp4Head is an MP4 'ftyp' box: the hub sniffs what follows as video/mp4.
var mp4Head = []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2mp41")

// videoReader yields an MP4 head and then bytes that do not compress,
// size in all, without holding them; byte i depends only on i and the
// seed, however the stream is read.
type videoReader struct {
	size, off int64
	seed      uint64
}

func newVideo(size int64, seed uint64) *videoReader { return &videoReader{size: size, seed: seed} }

func (v *videoReader) Read(p []byte) (int, error) {
	if v.off >= v.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), v.size-v.off)]
	var word [8]byte
	for n := 0; n < len(p); {
		o := v.off + int64(n)
		if o < int64(len(mp4Head)) {
			n += copy(p[n:], mp4Head[o:])
			continue
		}
		// splitmix64 of the word's index
		x := uint64(o/8) + v.seed*0x9E3779B97F4A7C15
		x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
		x = (x ^ x>>27) * 0x94D049BB133111EB
		binary.LittleEndian.PutUint64(word[:], x^x>>31)
		n += copy(p[n:], word[o%8:])
	}
	v.off += int64(len(p))
	return len(p), nil
}

// heapWatch samples the in-use heap until stopped and reports the peak
// growth over the level after a GC at the start (as hub/blobtest does).
func heapWatch() (stop func() uint64) {
	samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	inuse := func() uint64 {
		metrics.Read(samples)
		return samples[0].Value.Uint64() + samples[1].Value.Uint64()
	}
	runtime.GC()
	base := inuse()
	var peak atomic.Uint64
	peak.Store(base)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			if v := inuse(); v > peak.Load() {
				peak.Store(v)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load() - base
	}
}

// TestArchiveIsStreamed zips a package with a 64 MiB video and checks that
// the heap (of hub and client together: they share this process) grows by
// far less than the video: the zip is streamed, not built in memory.
func TestArchiveIsStreamed(t *testing.T) {
	if testing.Short() {
		t.Skip("moves a 64 MiB asset; skipped with -short")
	}
	const size = 64 << 20
	const heapLimit = 24 << 20
	forEachPickupStore(t, hubOptions{}, func(t *testing.T, h *testHub) {
		producer := h.key("producer")
		id := h.createPackage(producer, "korgau123")
		want := sha256.New()
		io.Copy(want, newVideo(size, 1))
		wantSum := hex.EncodeToString(want.Sum(nil))

		req, _ := http.NewRequest("PUT", h.URL+"/v1/packages/"+id+"/assets/"+url.PathEscape("интервью.mp4"), newVideo(size, 1))
		req.ContentLength = size
		req.Header.Set("Authorization", "Bearer "+producer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var up struct{ Type, ContentType, SHA256 string }
		json.NewDecoder(resp.Body).Decode(&up)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || up.ContentType != "video/mp4" || up.SHA256 != wantSum {
			t.Fatalf("upload answered %d %+v", resp.StatusCode, up)
		}
		h.do("POST", "/v1/packages/"+id+"/release", producer, nil).expect(t, http.StatusOK)

		file := filepath.Join(t.TempDir(), "package.zip")
		out, err := os.Create(file)
		if err != nil {
			t.Fatal(err)
		}
		defer out.Close()
		stop := heapWatch()
		start := time.Now()
		resp, err = http.Get(h.URL + "/v1/packages/" + id + "/archive.zip") // keyless: public
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(out, resp.Body)
		resp.Body.Close()
		elapsed := time.Since(start)
		growth := stop()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("zip download: %d, %v", resp.StatusCode, err)
		}
		t.Logf("zip of %d MiB in %v (%.0f MiB/s); peak heap growth %.1f MiB", n>>20, elapsed,
			float64(n)/(1<<20)/elapsed.Seconds(), float64(growth)/(1<<20))
		if cl := resp.Header.Get("Content-Length"); cl != strconv.FormatInt(n, 10) {
			t.Errorf("Content-Length %s, got %d bytes", cl, n)
		}
		if growth > heapLimit {
			t.Errorf("the heap grew by %.1f MiB zipping a %d MiB video; limit %d MiB: the zip is not streamed",
				float64(growth)/(1<<20), size>>20, heapLimit>>20)
		}

		z, err := zip.OpenReader(file)
		if err != nil {
			t.Fatal(err)
		}
		defer z.Close()
		var found bool
		for _, f := range z.File {
			if f.Name != "интервью.mp4" {
				continue
			}
			found = true
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			got := sha256.New()
			if _, err := io.Copy(got, rc); err != nil {
				t.Fatalf("read the video from the zip: %v", err)
			}
			rc.Close()
			if sum := hex.EncodeToString(got.Sum(nil)); sum != wantSum || f.Method != zip.Store || f.UncompressedSize64 != size {
				t.Errorf("video in the zip: sha256 %s, method %d, size %d", sum, f.Method, f.UncompressedSize64)
			}
		}
		if !found {
			t.Fatalf("no video in the zip: %v", fmt.Sprint(z.File))
		}
	})
}

// TestNamesThatWouldBeOneFileAreRefused: "DUP.png" beside "dup.png" is one
// file on Windows and macOS, so the second upload is refused before a byte
// is stored (issue 9, finding 4); replacing "dup.png" itself still works.
func TestNamesThatWouldBeOneFileAreRefused(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	producer := h.key("producer")
	id := h.createPackage(producer, "korgau123")
	h.do("PUT", "/v1/packages/"+id+"/assets/dup.png", producer, pngBytes(t, 8, 8, 1)).expect(t, http.StatusCreated)
	h.do("PUT", "/v1/packages/"+id+"/assets/%D0%B9.png", producer, pngBytes(t, 8, 8, 2)).expect(t, http.StatusCreated) // й, precomposed
	before := h.state()
	for _, name := range []string{"DUP.png", "Dup.PNG", "%D0%B8%CC%86.png" /* и + combining breve */, "%D0%99.png" /* Й */} {
		r := h.do("PUT", "/v1/packages/"+id+"/assets/"+name, producer, pngBytes(t, 8, 8, 3)).expect(t, http.StatusConflict)
		if p := r.problem(t); !strings.Contains(p.Detail, "same file on Windows and macOS") {
			t.Errorf("%s: detail %q", name, p.Detail)
		}
	}
	for _, name := range []string{"CON.png", "a%3Ab.png", "poster%E2%80%AEgnp.exe", "poster.png."} {
		h.do("PUT", "/v1/packages/"+id+"/assets/"+name, producer, pngBytes(t, 8, 8, 4)).expect(t, http.StatusBadRequest).problem(t)
	}
	h.assertUnchanged(before)
	h.do("PUT", "/v1/packages/"+id+"/assets/dup.png", producer, pngBytes(t, 8, 8, 5)).expect(t, http.StatusOK)
}

// TestArchiveOfALegacyPackageWithClashingNames: a package recorded before
// the name rules may hold "dup.png" and "DUP.png", or a name Windows
// refuses; its zip still gives every asset a file of its own.
func TestArchiveOfALegacyPackageWithClashingNames(t *testing.T) {
	h := newTestHub(t, "disk", hubOptions{})
	producer := h.key("producer")
	id := h.createPackage(producer, "korgau123")
	h.do("PUT", "/v1/packages/"+id+"/assets/dup.png", producer, pngBytes(t, 8, 8, 1)).expect(t, http.StatusCreated)
	legacy(t, h, id, "DUP.png", "a:b.png", "CON.png")
	z := readZip(t, h.do("GET", "/v1/packages/"+id+"/archive.zip", producer, nil).expect(t, http.StatusOK))
	if got := strings.Join(zipNames(z), "|"); got != "manifest.json|ninjs.json|CREDITS.txt|dup.png|DUP (2).png|a_b.png|CON_.png" {
		t.Errorf("entries %s", got)
	}
	for _, name := range []string{"dup.png", "DUP (2).png", "a_b.png", "CON_.png"} {
		if _, b := zipFile(t, z, name); !bytes.Equal(b, pngBytes(t, 8, 8, 1)) {
			t.Errorf("%s holds other bytes", name)
		}
	}
}

// legacy adds assets named names to package id's working copy straight in
// the catalog, sharing the bytes of its first asset, as a hub before the
// name rules could have stored them.
func legacy(t *testing.T, h *testHub, id string, names ...string) {
	t.Helper()
	if _, err := h.catalog.UpdatePackage(context.Background(), id, func(p *hub.Package) error {
		for _, n := range names {
			a := p.Assets[0]
			a.Name = n
			p.Assets = append(p.Assets, a)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
