package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub/hubtest"
	"github.com/syndication-hub/hub/hub/miniotest"
	"github.com/syndication-hub/hub/hub/natstest"
	"github.com/syndication-hub/hub/server"
)

// TestRenditionJobsOutliveTheirReplica: two replicas share one NATS and
// one bucket. The first takes uploads but makes no renditions (as if its
// workers had died with the jobs queued); the second, started later, does
// every job, once: the jobs were durable, and no job ran twice.
func TestRenditionJobsOutliveTheirReplica(t *testing.T) {
	t.Parallel()
	nats := natstest.RunExternal(t)
	m := miniotest.StartDedicated(t)
	opts := m.Options(t)
	replica := func(workers int) *hubtest.Hub {
		return hubtest.Start(t, hubtest.Options{NATSURL: nats.URL(), Configure: func(c *server.Config) {
			c.S3Endpoint, c.S3Bucket, c.S3AccessKey, c.S3SecretKey = opts.Endpoint, opts.Bucket, opts.AccessKey, opts.SecretKey
			c.RenditionWorkers = workers
		}})
	}
	serving := replica(-1)
	key := serving.ProducerKey(t)
	id, a := createPackage(t, serving, key)
	if id == "" {
		t.Fatalf("create: %d %s", a.status, a.body)
	}
	const pictures = 6
	for i := range pictures {
		a := call(t, "PUT", fmt.Sprintf("%s/v1/packages/%s/assets/poster-%d.png", serving.URL, id, i), key, bytes.NewReader(solidPNG(t, uint8(40*i))))
		if a.status != http.StatusCreated {
			t.Fatalf("upload %d: %d %s", i, a.status, a.body)
		}
	}
	if n := pending(t, serving, key, id); n != 2*pictures {
		t.Fatalf("%d renditions pending on the replica that makes none, want %d", n, 2*pictures)
	}

	working := replica(2)
	deadline := time.Now().Add(60 * time.Second)
	for pending(t, serving, key, id) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("renditions still pending a minute after a working replica started")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if done, other := jobsRun(t, working), jobsRun(t, serving); done != pictures || other != 0 {
		t.Errorf("jobs run: %d by the working replica, %d by the serving one; want %d and 0 (each once)", done, other, pictures)
	}
	for i := range pictures {
		a := call(t, "GET", fmt.Sprintf("%s/v1/packages/%s/assets/poster-%d.png?rendition=thumbnail", serving.URL, id, i), key, nil)
		if a.status != http.StatusOK || a.header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("thumbnail %d through the other replica: %d %s", i, a.status, a.header.Get("Content-Type"))
		}
	}
	if a := call(t, "DELETE", serving.URL+"/v1/packages/"+id, key, nil); a.status != http.StatusNoContent {
		t.Errorf("delete: %d %s", a.status, a.body) // the bucket's teardown fails the test for any blob left
	}
}

// solidPNG is a 400 x 300 picture of one colour.
func solidPNG(t *testing.T, shade uint8) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for y := range 300 {
		for x := range 400 {
			img.Set(x, y, color.RGBA{shade, 120, 200, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pending counts the renditions of package id not yet ended.
func pending(t *testing.T, h *hubtest.Hub, key, id string) int {
	t.Helper()
	a := call(t, "GET", h.URL+"/v1/packages/"+id, key, nil)
	var p struct {
		Associations []struct {
			Renditions []struct{ State string }
		}
	}
	if err := json.Unmarshal(a.body, &p); err != nil {
		t.Fatalf("read %s: %d %s", id, a.status, a.body)
	}
	n := 0
	for _, as := range p.Associations {
		for _, r := range as.Renditions {
			if r.State == "pending" {
				n++
			}
		}
	}
	return n
}

var jobsDone = regexp.MustCompile(`(?m)^hub_rendition_jobs_total\{result="done"\} (\d+)`)

// jobsRun reads how many rendition jobs a replica finished.
func jobsRun(t *testing.T, h *hubtest.Hub) int {
	t.Helper()
	a := call(t, "GET", h.URL+"/metrics", h.AdminKey, nil)
	m := jobsDone.FindSubmatch(a.body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}
