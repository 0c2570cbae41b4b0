package pull

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/syndication-hub/hub/hub/ninjs"
	"github.com/syndication-hub/hub/hubclient"
)

// errMismatch is a download whose bytes are not the ones the package
// names: corrupted on the way, or replaced by a correction meanwhile.
var errMismatch = errors.New("the downloaded bytes do not match the package's sha256")

// errChanged is an asset the hub now serves with other bytes than the
// package version being mirrored names: a correction came out meanwhile.
var errChanged = errors.New("the hub serves other bytes for this asset now")

// partialPath is where an asset's bytes gather until they are verified:
// named by package, version and content, so a resumed download continues
// only the very bytes it started.
func (p *Puller) partialPath(id string, version int, sha string) string {
	if !isSHA256(sha) {
		// install refuses such an asset first; this keeps a bad value from
		// ever naming a path outside the partial directory.
		sha = "invalid"
	}
	return filepath.Join(p.partialDir(), id+"."+strconv.Itoa(version)+"."+sha)
}

// isSHA256 reports whether s is a SHA-256 in lowercase hex, the only form
// of a digest the agent lets into a file name.
func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f') {
			return false
		}
	}
	return true
}

// fetch brings one asset's verified bytes to its partial path and returns
// that path. It resumes what an earlier run left there (hashing those
// bytes first), asks for the rest with Range and If-Range, so a changed
// asset comes whole and is never spliced onto old bytes, and retries a
// failed or corrupted transfer a few times. Unverified bytes never leave
// the partial folder.
func (p *Puller) fetch(ctx context.Context, id string, version int, a ninjs.Association) (string, error) {
	path := p.partialPath(id, version, a.SHA256)
	var last error
	for attempt := 1; attempt <= p.attempts; attempt++ {
		err := p.fetchOnce(ctx, id, a, path)
		if err == nil {
			return path, nil
		}
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		if isDiskFull(err) {
			return "", p.destError("download "+a.Name, err)
		}
		if errors.Is(err, errChanged) {
			return "", fmt.Errorf("download %s of package %s: %w", a.Name, id, err)
		}
		last = err
		p.log.Warn("download failed; trying again", "package", id, "asset", a.Name, "attempt", attempt, "err", err)
	}
	return "", fmt.Errorf("download %s of package %s: %w", a.Name, id, last)
}

func (p *Puller) fetchOnce(ctx context.Context, id string, a ninjs.Association, path string) error {
	h := sha256.New()
	have, err := p.hashPartial(path, a.Size, h)
	if err != nil {
		return err
	}
	if have == a.Size {
		return p.verify(path, h, a)
	}
	etag := `"` + a.SHA256 + `"`
	d, err := p.client.Download(ctx, id, a.Name, have, etag)
	if hubclient.StatusOf(err) == http.StatusRequestedRangeNotSatisfiable {
		p.fs.Remove(path) // the held bytes are longer than the asset: start again
		return err
	} else if err != nil {
		return err
	}
	defer d.Body.Close()
	if d.ETag != "" && d.ETag != etag {
		return fmt.Errorf("%w (ETag %s, want %s)", errChanged, d.ETag, etag)
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if d.Offset == 0 && have > 0 {
		// The hub sent the whole asset: If-Range did not match, or it
		// ignored the range. Start over rather than splice.
		flag |= os.O_TRUNC
		h.Reset()
		have = 0
	}
	f, err := p.fs.OpenFile(path, flag, 0o644)
	if err != nil {
		return err
	}
	tr := p.progress.Start(a.Name, a.Size, have)
	// Read one byte more than is missing, to notice a body that is too long.
	n, err := io.Copy(io.MultiWriter(f, h, tr), io.LimitReader(d.Body, a.Size-have+1))
	if serr := f.Sync(); err == nil {
		err = serr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	tr.Finish(err)
	if err != nil {
		return err
	}
	switch got := have + n; {
	case got > a.Size:
		p.fs.Remove(path)
		return fmt.Errorf("%w: the hub sent more than %d bytes", errMismatch, a.Size)
	case got < a.Size:
		return fmt.Errorf("the transfer ended after %d of %d bytes", got, a.Size)
	}
	return p.verify(path, h, a)
}

// hashPartial feeds the bytes already at path into h and returns how many
// there are; bytes past the asset's size are discarded.
func (p *Puller) hashPartial(path string, size int64, h hash.Hash) (int64, error) {
	fi, err := p.fs.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	if fi.Size() > size {
		return 0, p.fs.Remove(path)
	}
	f, err := p.fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, fmt.Errorf("read the partial download %s: %w", path, err)
	}
	return n, nil
}

func (p *Puller) verify(path string, h hash.Hash, a ninjs.Association) error {
	if got := hex.EncodeToString(h.Sum(nil)); got != a.SHA256 {
		p.fs.Remove(path)
		return fmt.Errorf("%w (%s, want %s)", errMismatch, got, a.SHA256)
	}
	return nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}
