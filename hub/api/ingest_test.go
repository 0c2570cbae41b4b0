package api_test

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/media/mediatest"
)

// survivorPhoto is a JPEG as a phone would hand it over: with where it
// was taken, on what, by whom and when, besides the credit and copyright
// that must travel with it.
type survivorPhoto struct {
	bytes []byte
	// identifying are values that must reach no partner, on any path;
	// kept are values that must stay.
	identifying []string
	kept        []string
}

func plantedPhoto(t *testing.T) survivorPhoto {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := range 480 {
		for x := range 640 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "shelter.jpg")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	mediatest.Plant(t, path,
		"-GPSLatitude=43.241667", "-GPSLatitudeRef=N", "-GPSLongitude=76.886111", "-GPSLongitudeRef=E",
		"-Make=HubTestCam", "-Model=SurvivorPhone-9", "-SerialNumber=SN-7781-KZ", "-OwnerName=Aigerim Sadykova",
		"-Artist=Aigerim Sadykova", "-XMP-dc:Creator=Aigerim Sadykova", "-DateTimeOriginal=2026:03:08 10:00:00",
		"-Software=SecretEditor-3.1", "-UserComment=recorded at the shelter on Abay street",
		"-Copyright=Dobrye Vesti 2026", "-XMP-photoshop:Credit=Dobrye Vesti")
	planted, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return survivorPhoto{
		bytes:       planted,
		identifying: []string{"SurvivorPhone-9", "SN-7781-KZ", "Aigerim", "SecretEditor", "Abay street", "HubTestCam", "2026:03:08"},
		kept:        []string{"Dobrye Vesti 2026"},
	}
}

// leaks returns what of the photo's identifying metadata b still holds,
// as exiftool reads it and as raw bytes.
func (ph survivorPhoto) leaks(t *testing.T, where string, b []byte) []string {
	t.Helper()
	var found []string
	tags := mediatest.TagsOf(t, "download.jpg", b)
	for tag, v := range tags {
		s, _ := v.(string)
		if strings.HasPrefix(tag, "GPS:") || strings.Contains(tag, ":GPS") {
			found = append(found, where+": exiftool "+tag)
		}
		for _, id := range ph.identifying {
			if strings.Contains(s, id) {
				found = append(found, where+": exiftool "+tag+" = "+s)
			}
		}
	}
	for _, id := range ph.identifying {
		if bytes.Contains(b, []byte(id)) {
			found = append(found, where+": raw bytes hold "+id)
		}
	}
	return found
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestAnonymizedPackageLeaksNothing uploads a survivor's photo with GPS,
// device, owner, author, date, software and comment into an anonymized
// package, releases it, and reads it back the ways a partner can: the
// asset, the zip, the thumbnail. None of it holds any of that; the
// copyright stays; the producer learns what went and what was received.
func TestAnonymizedPackageLeaksNothing(t *testing.T) {
	ph := plantedPhoto(t)
	forEachStore(t, hubOptions{renditions: true}, func(t *testing.T, h *testHub) {
		producer := h.key("producer")
		partner := h.key("partner")
		var pkg struct{ ID string }
		h.do("POST", "/v1/packages", producer, map[string]any{
			"campaign": "korgau123", "language": "ru", "anonymized": true,
			"headlines": []map[string]string{{"value": "Она рассказала, анонимно"}},
			"by":        "Dobrye Vesti", "usageterms": "Free to republish with credit",
		}).expect(t, http.StatusCreated).json(t, &pkg)

		var up struct {
			SHA256   string
			Size     int64
			Scrub    string
			Received struct {
				SHA256 string
				Size   int64
			}
		}
		h.do("PUT", "/v1/packages/"+pkg.ID+"/assets/shelter.jpg", producer, ph.bytes).expect(t, http.StatusCreated).json(t, &up)
		if up.Received.SHA256 != sum(ph.bytes) || up.Received.Size != int64(len(ph.bytes)) {
			t.Errorf("received = %+v, want the digest of what was sent (%s, %d)", up.Received, sum(ph.bytes), len(ph.bytes))
		}
		if up.SHA256 == up.Received.SHA256 || up.Scrub != "anonymized" {
			t.Errorf("upload answer: sha256 %s, scrub %q; want the scrubbed bytes' digest and scrub anonymized", up.SHA256, up.Scrub)
		}

		var report struct {
			Format  string
			Removed []struct{ Field, Where string }
			Kept    []string
		}
		h.do("GET", "/v1/packages/"+pkg.ID+"/assets/shelter.jpg/scrub-report", producer, nil).expect(t, http.StatusOK).json(t, &report)
		fields := map[string]bool{}
		for _, r := range report.Removed {
			fields[r.Field] = true
		}
		if report.Format != "JPEG" || !fields["GPS position"] {
			t.Errorf("scrub report %+v: want a JPEG with its GPS position removed", report)
		}
		h.do("GET", "/v1/packages/"+pkg.ID+"/assets/shelter.jpg/scrub-report", partner, nil).expect(t, http.StatusNotFound)

		h.do("POST", "/v1/packages/"+pkg.ID+"/release", producer, nil).expect(t, http.StatusOK)

		asset := h.do("GET", "/v1/packages/"+pkg.ID+"/assets/shelter.jpg", partner, nil).expect(t, http.StatusOK)
		stored := h.do("GET", "/v1/packages/"+pkg.ID+"/assets/shelter.jpg", producer, nil).expect(t, http.StatusOK).body
		if sum(stored) != up.SHA256 {
			t.Errorf("the producer's download's digest %s, the upload answered %s", sum(stored), up.SHA256)
		}
		if !bytes.Equal(asset.body, creditedAs(t, "image/jpeg", stored, harnessCredit)) {
			t.Error("the partner's download is not the stored picture with the release's credit written in")
		}
		var leaks []string
		leaks = append(leaks, ph.leaks(t, "download", asset.body)...)
		for _, k := range ph.kept {
			if !strings.Contains(string(asset.body), k) {
				t.Errorf("the download lost %q, which must travel with the picture", k)
			}
		}
		if _, err := jpeg.Decode(bytes.NewReader(asset.body)); err != nil {
			t.Errorf("the scrubbed JPEG does not decode: %v", err)
		}

		zipped := h.do("GET", "/v1/packages/"+pkg.ID+"/archive.zip", partner, nil).expect(t, http.StatusOK)
		zr, err := zip.NewReader(bytes.NewReader(zipped.body), int64(len(zipped.body)))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range zr.File {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasSuffix(f.Name, ".jpg") {
				leaks = append(leaks, ph.leaks(t, "zip member "+f.Name, b)...)
			} else if strings.Contains(string(b), up.Received.SHA256) {
				t.Errorf("zip member %s names the received digest", f.Name)
			}
		}

		thumb := waitForRendition(t, h, partner, pkg.ID, "shelter.jpg", "thumbnail")
		leaks = append(leaks, ph.leaks(t, "thumbnail", thumb)...)
		if cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb)); err != nil || max(cfg.Width, cfg.Height) > 400 {
			t.Errorf("thumbnail: %+v, %v; want a JPEG about 320 px", cfg, err)
		}
		rss := h.do("GET", "/feeds/releases.rss", "", nil).expect(t, http.StatusOK)
		if !strings.Contains(string(rss.body), "rendition=thumbnail") {
			t.Errorf("the feed's media:thumbnail is not the thumbnail:\n%s", rss.body)
		}
		partnerView := h.do("GET", "/v1/packages/"+pkg.ID, partner, nil).expect(t, http.StatusOK)
		if strings.Contains(string(partnerView.body), up.Received.SHA256) || strings.Contains(string(partnerView.body), `"received"`) {
			t.Errorf("a partner's view tells what the producer sent: %s", partnerView.body)
		}
		for _, l := range leaks {
			t.Error(l)
		}

		// A purge leaves no derived bytes.
		h.do("POST", "/v1/packages/"+pkg.ID+"/purge", producer, nil).expect(t, http.StatusOK)
		if left := h.listBlobs(); len(left) != 0 {
			t.Errorf("blobs left after the purge: %v", left)
		}
	})
}

// waitForRendition polls until rendition name of an asset is served, and
// returns its bytes.
func waitForRendition(t *testing.T, h *testHub, key, id, asset, name string) []byte {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r := h.do("GET", "/v1/packages/"+id+"/assets/"+asset+"?rendition="+name, key, nil)
		if r.StatusCode == http.StatusOK {
			return r.body
		}
		if time.Now().After(deadline) {
			t.Fatalf("rendition %s of %s not served within a minute: %d %s", name, asset, r.StatusCode, r.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestScrubReportIsTheUploadersOwn: two different files can scrub to the
// same stored bytes (a photo with its GPS position, and the scrubbed photo
// itself), which then share one blob. A producer of another campaign who
// uploaded those bytes must not read, in its own asset's report, what
// another campaign's upload sent (its received digest, which confirms a
// match with an original at hand) and what was removed from it.
func TestScrubReportIsTheUploadersOwn(t *testing.T) {
	ph := plantedPhoto(t)
	h := newTestHub(t, "disk", hubOptions{})
	h.createPackage(h.admin, "other-campaign")
	theirs := h.createPackage(h.admin, "korgau123")
	prodTheirs := h.key("producer", "korgau123")
	prodOther := h.key("producer", "other-campaign")

	// The survivor's campaign stores the photo; its scrubbed bytes are
	// what any partner downloads once it is released.
	var up struct{ SHA256 string }
	h.do("PUT", "/v1/packages/"+theirs+"/assets/shelter.jpg", prodTheirs, ph.bytes).expect(t, http.StatusCreated).json(t, &up)
	scrubbed := h.do("GET", "/v1/packages/"+theirs+"/assets/shelter.jpg", h.admin, nil).expect(t, http.StatusOK).body

	mine := h.createPackage(prodOther, "other-campaign")
	h.do("PUT", "/v1/packages/"+mine+"/assets/copy.jpg", prodOther, scrubbed).expect(t, http.StatusCreated)
	// The survivor's campaign uploads the original again, to another package.
	again := h.createPackage(prodTheirs, "korgau123")
	h.do("PUT", "/v1/packages/"+again+"/assets/shelter.jpg", prodTheirs, ph.bytes).expect(t, http.StatusCreated)

	r := h.do("GET", "/v1/packages/"+mine+"/assets/copy.jpg/scrub-report", prodOther, nil)
	if strings.Contains(string(r.body), sum(ph.bytes)) || strings.Contains(string(r.body), "GPS") {
		t.Errorf("another campaign's producer reads, in its own asset's report, what the survivor's campaign sent: %s", r.body)
	}
	var rep struct{ Received struct{ SHA256 string } }
	h.do("GET", "/v1/packages/"+again+"/assets/shelter.jpg/scrub-report", prodTheirs, nil).expect(t, http.StatusOK).json(t, &rep)
	if rep.Received.SHA256 != sum(ph.bytes) {
		t.Errorf("the survivor's campaign's report says it received %s, it sent %s", rep.Received.SHA256, sum(ph.bytes))
	}
}

// slowTail is a body that sends all but its last bytes at once and the
// rest a moment later, so the hub scrubs and stores it while it arrives.
type slowTail struct {
	b      []byte
	paused bool
}

func (s *slowTail) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	const tail = 16
	send := s.b
	if len(s.b) > tail {
		send = s.b[:len(s.b)-tail]
	} else if !s.paused {
		s.paused = true
		time.Sleep(300 * time.Millisecond)
	}
	n := copy(p, send)
	s.b = s.b[n:]
	return n, nil
}

// A video whose movie header comes after its media, and shows there a
// GPS telemetry track, is stored while it arrives until the header says
// it cannot be: that first store is undone and the whole file remuxed
// without the track. One blob is left, and no GPS.
func TestTelemetryFoundLateIsRemuxed(t *testing.T) {
	dir := t.TempDir()
	gps := filepath.Join(dir, "gps.bin")
	if err := os.WriteFile(gps, bytes.Repeat([]byte("GPS5-43.2416,76.9453-SECRETPOS;"), 20), 0o600); err != nil {
		t.Fatal(err)
	}
	mov := filepath.Join(dir, "telemetry.mov")
	mediatest.Run(t, "ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10",
		"-f", "lavfi", "-i", "sine", "-f", "data", "-i", gps, "-t", "2", "-map", "0", "-map", "1", "-map", "2",
		"-c:v", "libx264", "-c:a", "aac", "-c:d", "copy", "-tag:d", "gpmd", mov)
	in, err := os.ReadFile(mov)
	if err != nil {
		t.Fatal(err)
	}
	if i, j := bytes.Index(in, []byte("moov")), bytes.Index(in, []byte("mdat")); i < j {
		t.Fatalf("ffmpeg wrote the movie header first (at %d, media at %d): the test needs it last", i, j)
	}
	forEachStore(t, hubOptions{}, func(t *testing.T, h *testHub) {
		producer := h.key("producer")
		id := h.createPackage(producer, "korgau123")
		req, err := http.NewRequest("PUT", h.URL+"/v1/packages/"+id+"/assets/ride.mov", &slowTail{b: in})
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = int64(len(in))
		req.Header.Set("Authorization", "Bearer "+producer)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload: %d %s", resp.StatusCode, body)
		}
		got := h.do("GET", "/v1/packages/"+id+"/assets/ride.mov", producer, nil).expect(t, http.StatusOK).body
		if bytes.Contains(got, []byte("SECRETPOS")) {
			t.Error("the telemetry track's GPS positions are still in the stored video")
		}
		out := filepath.Join(t.TempDir(), "stored.mov")
		if err := os.WriteFile(out, got, 0o600); err != nil {
			t.Fatal(err)
		}
		streams := mediatest.Run(t, "ffprobe", "-v", "error", "-show_entries", "stream=codec_type", "-of", "csv=p=0", out)
		if s := strings.Fields(string(streams)); strings.Join(s, ",") != "video,audio" {
			t.Errorf("stored streams %v, want video and audio", s)
		}
		if blobs := h.listBlobs(); len(blobs) != 1 {
			t.Errorf("blobs in the store: %v, want the remuxed video alone", blobs)
		}
	})
}
