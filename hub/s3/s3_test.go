package s3_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/oklog/ulid/v2"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/blobtest"
	"github.com/syndication-hub/hub/hub/miniotest"
	"github.com/syndication-hub/hub/hub/s3"
)

// minioServer is the one MinIO of this package's tests; nil without a
// binary, and then the tests skip.
var minioServer *miniotest.Server

func TestMain(m *testing.M) { os.Exit(miniotest.Main(m, &minioServer)) }

// mustOpen opens a Store on a fresh bucket that is checked for leftovers
// when the test ends.
func mustOpen(t *testing.T) *s3.Store {
	t.Helper()
	s, err := s3.Open(t.Context(), minioServer.Bucket(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestS3Suite(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) hub.BlobStore { return mustOpen(t) })
}

func TestOpenCreatesBucket(t *testing.T) {
	opts := minioServer.Options(t)
	client := minioServer.Client(t)
	if ok, err := client.BucketExists(t.Context(), opts.Bucket); err != nil || ok {
		t.Fatalf("bucket %s exists before Open: %v, %v", opts.Bucket, ok, err)
	}
	s, err := s3.Open(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := client.BucketExists(t.Context(), opts.Bucket); err != nil || !ok {
		t.Fatalf("bucket %s after Open: exists %v, %v", opts.Bucket, ok, err)
	}
	if err := s.Check(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A second Open, as by another replica, finds the bucket and succeeds.
	if _, err := s3.Open(t.Context(), opts); err != nil {
		t.Fatalf("second Open: %v", err)
	}
}

func TestCheckMissingBucket(t *testing.T) {
	opts := minioServer.Options(t)
	s, err := s3.Open(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := minioServer.Client(t).RemoveBucket(t.Context(), opts.Bucket); err != nil {
		t.Fatal(err)
	}
	if err := s.Check(t.Context()); err == nil {
		t.Fatal("Check passed without a bucket")
	}
}

func TestPresignGet(t *testing.T) {
	s := mustOpen(t)
	key := ulid.Make().String()
	want := []byte("poster bytes\x00\x01\x02")
	if _, err := s.Put(t.Context(), key, bytes.NewReader(want), int64(len(want))); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Delete(context.Background(), key) })

	const disposition = `attachment; filename="poster.png"; filename*=UTF-8''%D0%BF%D0%BE%D1%81%D1%82%D0%B5%D1%80.png`
	u, err := s.PresignGet(t.Context(), key, time.Hour, disposition, "image/png")
	if err != nil {
		t.Fatal(err)
	}
	if exp := u.Query().Get("X-Amz-Expires"); exp != "60" {
		t.Errorf("X-Amz-Expires=%s, want the 60s cap", exp)
	}
	resp, err := http.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET presigned URL: %s: %s", resp.Status, got)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("body %q, want %q", got, want)
	}
	if cd := resp.Header.Get("Content-Disposition"); cd != disposition {
		t.Errorf("Content-Disposition %q, want %q", cd, disposition)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "image/png" {
		t.Errorf("Content-Type %q, want image/png", ct)
	}

	if _, err := s.PresignGet(t.Context(), "../x", time.Minute, "", ""); hub.ErrorCode(err) != hub.EINVALID {
		t.Errorf("PresignGet of a bad key: %v, want EINVALID", err)
	}
	if _, err := s.PresignGet(t.Context(), key, 0, "", ""); hub.ErrorCode(err) != hub.EINVALID {
		t.Errorf("PresignGet with ttl 0: %v, want EINVALID", err)
	}
}

func TestAbortStaleUploads(t *testing.T) {
	opts := minioServer.Bucket(t)
	s, err := s3.Open(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	core := minio.Core{Client: minioServer.Client(t)}
	key := ulid.Make().String()
	if _, err := core.NewMultipartUpload(t.Context(), opts.Bucket, key, minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.AbortStaleUploads(t.Context(), time.Hour); err != nil || n != 0 {
		t.Fatalf("AbortStaleUploads(1h) = %d, %v; want 0 for a fresh upload", n, err)
	}
	if n, err := s.AbortStaleUploads(t.Context(), 0); err != nil || n != 1 {
		t.Fatalf("AbortStaleUploads(0) = %d, %v; want 1", n, err)
	}
	// The teardown fails the test if the upload is still there.
}
