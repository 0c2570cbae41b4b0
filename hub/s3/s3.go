// Package s3 keeps blobs in an S3 bucket (MinIO, AWS S3 or anything that
// speaks the protocol) through minio-go. It is the blob store when several
// hub replicas share storage, and it can hand out presigned URLs so large
// downloads bypass the hub.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/syndication-hub/hub/hub"
)

const (
	// DefaultPartSize is the multipart part size when Options.PartSize is 0.
	// minio-go holds one part in memory per upload, and without a part size
	// an upload of unknown length would use ~537 MiB parts. With 16 MiB
	// parts an upload of unknown length can reach 10,000 parts = 156 GiB,
	// so HUB_MAX_ASSET_BYTES must stay below that.
	DefaultPartSize = 16 << 20

	// minPartSize is S3's smallest part (except the last).
	minPartSize = 5 << 20

	// maxParts is S3's limit on parts per multipart upload.
	maxParts = 10000

	// MaxPresignTTL caps how long a presigned URL stays valid. The hub checks
	// embargo and entitlement when it signs; a short life keeps a link that
	// leaked, or a release that was withdrawn, from working for long.
	MaxPresignTTL = 60 * time.Second

	// staleUploadAge is how old an incomplete multipart upload must be before
	// Open aborts it; a live upload of even a large asset finishes well
	// within it.
	staleUploadAge = 24 * time.Hour

	// sweepTimeout bounds the best-effort sweep in Open, so a slow bucket
	// listing delays startup by seconds at most.
	sweepTimeout = 10 * time.Second
)

// Options configure a Store. Endpoint and Bucket are required.
type Options struct {
	Endpoint  string // host[:port], no scheme
	Bucket    string
	AccessKey string
	SecretKey string
	Secure    bool   // HTTPS to the endpoint
	Region    string // empty lets minio-go look the bucket's region up
	// PartSize is the multipart part size in bytes; 0 means DefaultPartSize.
	// Each upload holds one part in memory.
	PartSize uint64
	// StallTimeout fails a request that moves no byte for this long, and
	// one whose answer does not start this long after its last byte went
	// out; 0 means DefaultStallTimeout. It is a progress watchdog, not a
	// total timeout, so multi-gigabyte transfers that keep moving go on.
	StallTimeout time.Duration
	// Logger receives the outcome of the stale-upload sweep in Open; nil
	// discards it.
	Logger *slog.Logger
}

// Store is a hub.BlobStore on one S3 bucket. It is safe for concurrent use.
type Store struct {
	client   *minio.Client
	endpoint string
	bucket   string
	partSize uint64
	log      *slog.Logger
}

var (
	_ hub.BlobStore     = (*Store)(nil)
	_ hub.BlobPresigner = (*Store)(nil)
)

// Open connects to the bucket, creating it when missing, and aborts
// multipart uploads older than a day that crashed uploads left behind (best
// effort; a failure there is logged, not returned).
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Endpoint == "" || opts.Bucket == "" {
		return nil, errors.New("s3: endpoint and bucket required")
	}
	partSize := opts.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	if partSize < minPartSize {
		return nil, fmt.Errorf("s3: part size %d is below the S3 minimum of %d", partSize, minPartSize)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	stall := opts.StallTimeout
	if stall <= 0 {
		stall = DefaultStallTimeout
	}
	client, err := minio.New(opts.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(opts.AccessKey, opts.SecretKey, ""),
		Secure:    opts.Secure,
		Region:    opts.Region,
		Transport: newTransport(stall, opts.Secure),
		// One attempt: a stalled store would cost a stall timeout per
		// retry, and the caller gets a 503 with Retry-After instead.
		MaxRetries: 1,
	})
	if err != nil {
		return nil, fmt.Errorf("s3: client for %s: %w", opts.Endpoint, err)
	}
	s := &Store{client: client, endpoint: opts.Endpoint, bucket: opts.Bucket, partSize: partSize, log: log}
	if err := s.ensureBucket(ctx, opts.Region); err != nil {
		return nil, err
	}

	sweepCtx, cancel := context.WithTimeout(ctx, sweepTimeout)
	defer cancel()
	n, err := s.AbortStaleUploads(sweepCtx, staleUploadAge)
	if err != nil {
		log.Warn("s3: could not sweep stale multipart uploads", "bucket", s.bucket, "aborted", n, "err", err)
	} else if n > 0 {
		log.Info("s3: aborted stale multipart uploads", "bucket", s.bucket, "aborted", n)
	}
	return s, nil
}

// ensureBucket creates the bucket unless it exists. Another replica may
// create it at the same moment; that counts as success.
func (s *Store) ensureBucket(ctx context.Context, region string) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3: bucket %s: %w", s.bucket, err)
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region})
	if err == nil {
		return nil
	}
	switch minio.ToErrorResponse(err).Code {
	case minio.BucketAlreadyOwnedByYou:
		return nil
	case minio.BucketAlreadyExists:
		// Either a concurrent create by us, or a name someone else owns;
		// only the latter makes the bucket unusable.
		if ok, err2 := s.client.BucketExists(ctx, s.bucket); err2 == nil && ok {
			return nil
		}
	}
	return fmt.Errorf("s3: create bucket %s: %w", s.bucket, err)
}

// AbortStaleUploads aborts the bucket's incomplete multipart uploads started
// more than olderThan ago and returns how many it aborted. minio-go aborts
// the upload of a failed Put itself; this frees the parts of uploads whose
// process died (or whose abort met a dead S3), which S3 otherwise keeps
// (and bills) forever. Open runs it with a day; the hub's sweeper runs
// SweepPartial while it serves.
func (s *Store) AbortStaleUploads(ctx context.Context, olderThan time.Duration) (int, error) {
	return s.SweepPartial(ctx, time.Now().Add(-olderThan), nil)
}

// SweepPartial aborts the incomplete multipart uploads begun before cutoff
// whose key keep does not claim. S3 dates an upload by its start, so a
// long upload still running is older than any cutoff: keep is what
// protects it.
func (s *Store) SweepPartial(ctx context.Context, cutoff time.Time, keep func(string) bool) (int, error) {
	core := minio.Core{Client: s.client}
	var aborted int
	for u := range s.client.ListIncompleteUploads(ctx, s.bucket, "", true) {
		if u.Err != nil {
			return aborted, fmt.Errorf("s3: list incomplete uploads: %w", u.Err)
		}
		if u.Initiated.After(cutoff) || keep != nil && keep(u.Key) {
			continue
		}
		if err := core.AbortMultipartUpload(ctx, s.bucket, u.Key, u.UploadID); err != nil {
			return aborted, fmt.Errorf("s3: abort upload %s of %s: %w", u.UploadID, u.Key, err)
		}
		aborted++
	}
	return aborted, nil
}

// List calls fn for every object in the bucket with a key the hub makes.
func (s *Store) List(ctx context.Context, fn func(key string, modTime time.Time) error) error {
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			return fmt.Errorf("s3: list %s: %w", s.bucket, o.Err)
		}
		if !hub.ValidBlobKey(o.Key) {
			continue
		}
		if err := fn(o.Key, o.LastModified); err != nil {
			return err
		}
	}
	return nil
}

func checkKey(key string) error {
	if !hub.ValidBlobKey(key) {
		return hub.Errorf(hub.EINVALID, "Blob key %q is malformed.", key)
	}
	return nil
}

// Put uploads r under key. With a known size minio-go sends one PUT up to
// the part size and a multipart upload above it; with size -1 it always
// uses a multipart upload. Either way it holds at most one part in memory,
// and on any error it aborts the multipart upload, so nothing becomes
// visible: an S3 object appears only on a complete PUT or
// CompleteMultipartUpload, and Put makes the reader fail, before the last
// byte goes out, on a cancelled ctx or a length that differs from size.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64) (int64, error) {
	if err := checkKey(key); err != nil {
		return 0, err
	}
	if size < -1 {
		return 0, hub.Errorf(hub.EINVALID, "Blob size %d is invalid.", size)
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("s3: put %s: %w", key, err)
	}
	partSize := s.partSize
	if size > 0 {
		// Grow the part for an object that would need more than maxParts;
		// minio-go refuses such an upload rather than adjusting.
		const mib = 1 << 20
		if need := (uint64(size) + maxParts - 1) / maxParts; need > partSize {
			partSize = (need + mib - 1) / mib * mib
		}
	}
	// exactReader also hides any ReaderAt of r, which minio-go would read in
	// parallel sections past the length and ctx checks; uploads come from
	// request bodies, which are read in order anyway.
	er := &exactReader{ctx: ctx, r: r, size: size}
	_, err := s.client.PutObject(ctx, s.bucket, key, er, size, minio.PutObjectOptions{
		PartSize:    partSize,
		ContentType: "application/octet-stream",
	})
	if err != nil {
		if er.err != nil && ctx.Err() == nil {
			// The bytes failed, not the store (a client that broke off, a
			// scrub that gave up): say so, and take the parts back, which
			// the store that is answering will.
			s.abortUploads(ctx, key)
			return 0, fmt.Errorf("s3: put %s: %w", key, er.err)
		}
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
		}
		err = s.classify(ctx, "put", key, err, true)
		if hub.ErrorCode(err) != hub.EUNAVAILABLE {
			// minio-go aborts a failed multipart upload with ctx, which
			// fails when the caller went away; a store that does not
			// answer would not take the abort either (the sweep of stale
			// uploads collects those).
			s.abortUploads(ctx, key)
		}
		return 0, err
	}
	return er.n, nil
}

// abortTimeout bounds the best-effort abort of a failed upload's parts.
const abortTimeout = 5 * time.Second

// abortUploads aborts the incomplete multipart uploads of key, best effort:
// blob keys are fresh for each upload, so they are the failed Put's.
func (s *Store) abortUploads(ctx context.Context, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	core := minio.Core{Client: s.client}
	for u := range s.client.ListIncompleteUploads(ctx, s.bucket, key, false) {
		if u.Err != nil {
			s.log.Warn("s3: list the parts of a failed upload", "key", key, "err", u.Err)
			return
		}
		if u.Key != key {
			continue
		}
		if err := core.AbortMultipartUpload(ctx, s.bucket, u.Key, u.UploadID); err != nil {
			s.log.Warn("s3: abort a failed upload", "key", key, "upload", u.UploadID, "err", err)
		}
	}
}

// exactReader passes r through, failing on a cancelled ctx and, when size is
// known, on a length other than size. It reports the final bytes only after
// proving r is at EOF, so an oversized body never completes an upload, and
// its errors are sticky, because minio-go drops an error that comes with a
// read that filled its buffer.
type exactReader struct {
	ctx  context.Context
	r    io.Reader
	size int64 // -1: unknown
	n    int64 // bytes passed on
	err  error // the first error returned, other than io.EOF
	eof  bool
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	if e.eof {
		return 0, io.EOF
	}
	if err := e.ctx.Err(); err != nil {
		return 0, e.fail(err)
	}
	if e.size < 0 {
		n, err := e.r.Read(p)
		e.n += int64(n)
		switch {
		case err == io.EOF:
			e.eof = true
		case err != nil:
			e.fail(err)
			if n > 0 {
				return n, nil // the error follows with the next Read
			}
		}
		return n, err
	}

	if rest := e.size - e.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	var n int
	var err error
	if len(p) > 0 {
		n, err = e.r.Read(p)
	}
	switch {
	case err == io.EOF:
		if e.n+int64(n) < e.size {
			e.fail(hub.Errorf(hub.EINVALID, "The upload ended after %d of the declared %d bytes.", e.n+int64(n), e.size))
			e.n += int64(n)
			if n > 0 {
				return n, nil
			}
			return 0, e.err
		}
		e.eof = true
	case err != nil:
		e.fail(err)
		e.n += int64(n)
		if n > 0 {
			return n, nil
		}
		return 0, e.err
	case e.n+int64(n) == e.size:
		// These are the last bytes; r must have nothing more.
		var probe [1]byte
		m, perr := io.ReadFull(e.r, probe[:])
		switch {
		case m > 0:
			return 0, e.fail(hub.Errorf(hub.EINVALID, "The upload is longer than the declared %d bytes.", e.size))
		case perr != io.EOF:
			return 0, e.fail(perr)
		}
		e.eof = true
	}
	e.n += int64(n)
	if e.eof && n > 0 {
		return n, nil // io.EOF with the next Read
	}
	if e.eof {
		return 0, io.EOF
	}
	return n, nil
}

func (e *exactReader) fail(err error) error {
	if e.err == nil {
		e.err = err
	}
	return e.err
}

// blob is an open object. minio.Object fetches with ranged GETs after a
// Seek, which is how ranged reads are served.
type blob struct {
	*minio.Object
	stat  hub.BlobStat
	ctx   context.Context
	key   string
	store *Store
}

// Read reads from the object; a store that stops answering mid-read is
// EUNAVAILABLE.
func (b *blob) Read(p []byte) (int, error) {
	n, err := b.Object.Read(p)
	if err != nil && err != io.EOF {
		err = b.store.classify(b.ctx, "read", b.key, err, false)
	}
	return n, err
}

// Stat returns the size and modification time seen when the blob was
// opened. minio.Object's own Stat reports the remaining size once reading
// has started, so it is captured once at Open.
func (b *blob) Stat() hub.BlobStat { return b.stat }

// Open opens key for reading. Returns ENOTFOUND if key is absent. ctx
// governs every request the Blob makes, so it must outlive the reading, and
// the Blob must be closed: it owns a goroutine until then.
func (s *Store) Open(ctx context.Context, key string) (hub.Blob, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.classify(ctx, "open", key, err, false)
	}
	// Stat sends a HEAD now, so a missing key fails here and not at the
	// first Read. minio.Object pins its later GETs to the ETag seen here
	// (If-Match), so a key overwritten while open fails a read instead of
	// mixing two versions.
	info, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, s.classify(ctx, "open", key, err, false)
	}
	return &blob{Object: obj, stat: hub.BlobStat{Size: info.Size, ModTime: info.LastModified}, ctx: ctx, key: key, store: s}, nil
}

// Stat returns the size and modification time of key.
// Returns ENOTFOUND if key is absent.
func (s *Store) Stat(ctx context.Context, key string) (hub.BlobStat, error) {
	if err := checkKey(key); err != nil {
		return hub.BlobStat{}, err
	}
	info, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return hub.BlobStat{}, s.classify(ctx, "stat", key, err, false)
	}
	return hub.BlobStat{Size: info.Size, ModTime: info.LastModified}, nil
}

// Delete removes key. Deleting an absent key is not an error (S3 answers a
// DELETE of a missing key with success).
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return s.classify(ctx, "delete", key, err, false)
	}
	return nil
}

// probeKey is the object Check writes and removes. It is not a blob key
// (those have no dot), so no asset can ever be stored under it.
const probeKey = ".readyz"

// Check reports whether the store takes writes: the bucket exists and a
// one-byte object put there can be removed again, so nothing is left.
func (s *Store) Check(ctx context.Context) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return s.classify(ctx, "check bucket", s.bucket, err, false)
	}
	if !ok {
		return fmt.Errorf("s3: check: bucket %s does not exist", s.bucket)
	}
	if _, err := s.client.PutObject(ctx, s.bucket, probeKey, strings.NewReader("."), 1,
		minio.PutObjectOptions{ContentType: "application/octet-stream"}); err != nil {
		return s.classify(ctx, "check write", probeKey, err, false)
	}
	// Removed even when ctx ended meanwhile: the probe leaves no object.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	if err := s.client.RemoveObject(rctx, s.bucket, probeKey, minio.RemoveObjectOptions{}); err != nil {
		return s.classify(ctx, "check delete", probeKey, err, false)
	}
	return nil
}

// PresignGet returns a URL that downloads key directly from the bucket for
// ttl, capped at MaxPresignTTL, with the given Content-Disposition and
// Content-Type (either may be empty to keep what S3 would send). It does
// not check that key exists; S3 answers 404 to the URL then.
func (s *Store) PresignGet(ctx context.Context, key string, ttl time.Duration, disposition, contentType string) (*url.URL, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if ttl < time.Second {
		return nil, hub.Errorf(hub.EINVALID, "A presigned URL must be valid for at least a second, not %s.", ttl)
	}
	ttl = min(ttl, MaxPresignTTL)
	params := make(url.Values)
	if disposition != "" {
		params.Set("response-content-disposition", disposition)
	}
	if contentType != "" {
		params.Set("response-content-type", contentType)
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, ttl, params)
	if err != nil {
		return nil, fmt.Errorf("s3: presign %s: %w", key, err)
	}
	return u, nil
}
