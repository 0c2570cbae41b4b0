package hub

import (
	"context"
	"io"
	"net/url"
	"regexp"
	"time"
)

// BlobStore keeps asset bytes under keys the hub generates (never under a
// name a user chose). Two drivers implement it, local disk and S3, and both
// pass the same conformance suite in hub/blobtest.
type BlobStore interface {
	// Put stores everything r yields under key. size is the exact length
	// when the caller knows it, or -1. The new object becomes visible only
	// when Put returns nil: after an error, a short read or a cancelled ctx
	// the key keeps what it held before (nothing, for a new key), never a
	// partial object. Returns the number of bytes stored. Returns EINVALID
	// for a malformed key, and when r yields fewer or more bytes than a
	// known size; EFULL when the store has no room; EUNAVAILABLE when it
	// does not answer (S3: no byte moved for the stall timeout).
	Put(ctx context.Context, key string, r io.Reader, size int64) (int64, error)

	// Open returns the object for reading from offset 0; it can Seek, which
	// is how ranged reads are served. ctx governs the later reads too, and
	// the caller must Close the Blob (on S3 it holds a connection until
	// then). Returns ENOTFOUND if key is absent. Open and the Blob's reads
	// return EUNAVAILABLE when the store does not answer.
	Open(ctx context.Context, key string) (Blob, error)

	// Stat returns the object's size and modification time.
	// Returns ENOTFOUND if key is absent.
	Stat(ctx context.Context, key string) (BlobStat, error)

	// Delete removes the object. Deleting an absent key is not an error.
	Delete(ctx context.Context, key string) error

	// Check reports whether the store takes writes, by writing something
	// that it removes again (it leaves nothing); /readyz calls it.
	Check(ctx context.Context) error

	// List calls fn with the key and modification time of every finished
	// object, in no particular order, stopping at fn's first error, which
	// it returns. Objects Put or Deleted meanwhile may or may not be seen.
	// The sweep of unrecorded blobs uses it.
	List(ctx context.Context, fn func(key string, modTime time.Time) error) error

	// SweepPartial removes the store's unfinished writes (the disk's
	// temporary files, S3's incomplete multipart uploads) last written, or
	// begun, before cutoff, except those for a key keep reports in use (nil
	// keeps none), and returns how many it removed. A Put in progress under
	// a kept key, or written to since cutoff, is never disturbed.
	SweepPartial(ctx context.Context, cutoff time.Time, keep func(key string) bool) (int, error)
}

// Blob is one stored object opened for reading.
type Blob interface {
	io.ReadSeekCloser
	Stat() BlobStat
}

// BlobStat describes a stored object.
type BlobStat struct {
	Size    int64
	ModTime time.Time
}

// BlobPresigner is implemented by stores that can hand out a short-lived URL
// for a direct download, so large files bypass the hub (S3 only).
type BlobPresigner interface {
	// PresignGet returns a URL valid for ttl that downloads key with the
	// given Content-Disposition and Content-Type.
	PresignGet(ctx context.Context, key string, ttl time.Duration, disposition, contentType string) (*url.URL, error)
}

var blobKeyPattern = regexp.MustCompile(`^[0-9A-Za-z]{10,64}$`)

// ValidBlobKey reports whether key has the shape of a key the hub generates.
// Drivers refuse anything else, so a key can never name a path outside the
// store.
func ValidBlobKey(key string) bool { return blobKeyPattern.MatchString(key) }
