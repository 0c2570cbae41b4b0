package push

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/syndication-hub/hub/hub/ninjs"
	"github.com/syndication-hub/hub/hubclient"
	"github.com/syndication-hub/hub/progress"
)

// DefaultResumableThreshold is the size from which a file is sent as a
// resumable upload (the hub's tus endpoint) rather than one PUT: below
// it a broken connection costs little to send again.
const DefaultResumableThreshold = 64 << 20

// DefaultChunkSize is how much one PATCH of a resumable upload carries.
// A broken PATCH keeps what arrived, so this bounds no loss; it keeps
// each request within what proxies in between let through.
const DefaultChunkSize = 16 << 20

// Resumes of one upload in a row without progress before push gives up,
// and the wait before each (doubled every time, from resumeWait).
const (
	maxResumes = 5
	resumeWait = time.Second
)

// resumable is the small tus client push sends large files with: POST
// to create the upload, PATCH in chunks, and after a broken request
// HEAD to learn where the hub stands and PATCH on from there.
type resumable struct {
	client *hubclient.Client
	chunk  int64
	// wait sleeps before a resume; tests make it short.
	wait func(ctx context.Context, d time.Duration) error
}

// upload sends size bytes of f as asset name (of type typ, "" to infer)
// of package id, and returns the asset as the hub stored it.
func (r *resumable) upload(ctx context.Context, id, name, typ string, f io.ReaderAt, size int64, tr progress.Transfer) (*ninjs.Association, error) {
	meta := []string{"package " + b64(id), "name " + b64(name)}
	if typ != "" {
		meta = append(meta, "type "+b64(typ))
	}
	resp, err := r.client.Send(ctx, http.MethodPost, "/v1/uploads", nil, 0, http.Header{
		"Tus-Resumable": {"1.0.0"}, "Upload-Length": {strconv.FormatInt(size, 10)}, "Upload-Metadata": {strings.Join(meta, ",")},
	})
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	path, err := uploadPath(resp.Header.Get("Location"))
	if err != nil {
		return nil, err
	}
	var offset, sent int64 // where the hub stands; what tr was shown
	for failures := 0; ; {
		end := min(offset+r.chunk, size)
		a, next, err := r.patch(ctx, path, io.NewSectionReader(f, offset, end-offset), offset, end == size, tr, &sent)
		switch {
		case err == nil && a != nil:
			return a, nil
		case err == nil:
			offset, failures = next, 0
			continue
		case ctx.Err() != nil || !resumableAfter(err):
			return nil, err
		}
		// The request broke off, or the hub restarted: ask where it
		// stands, and go on from there.
		if failures++; failures > maxResumes {
			return nil, fmt.Errorf("the upload of %s broke off %d times in a row: %w", name, failures, err)
		}
		if werr := r.wait(ctx, resumeWait<<(failures-1)); werr != nil {
			return nil, err
		}
		at, herr := r.offset(ctx, path)
		if hubclient.IsNotFound(herr) {
			// Gone: a last PATCH whose answer was lost completed it, or
			// it failed and was removed. The caller looks at the package.
			return nil, errUploadGone
		} else if herr != nil {
			if ctx.Err() != nil || !resumableAfter(herr) {
				return nil, herr
			}
			continue
		}
		if at > offset {
			failures = 0 // part of the broken request arrived
		}
		offset = at
	}
}

// errUploadGone is a resumable upload the hub no longer has.
var errUploadGone = errors.New("the hub no longer has the upload")

// patch sends body at offset. The last PATCH's answer is the stored
// asset; an earlier one's is the new offset.
func (r *resumable) patch(ctx context.Context, path string, body *io.SectionReader, offset int64, last bool, tr progress.Transfer, sent *int64) (*ninjs.Association, int64, error) {
	// The display follows the hub: bytes sent again after a resume are
	// not counted twice.
	counted := &countFrom{w: tr, at: offset, shown: sent}
	resp, err := r.client.Send(ctx, http.MethodPatch, path, io.TeeReader(body, counted), body.Size(), http.Header{
		"Tus-Resumable": {"1.0.0"}, "Upload-Offset": {strconv.FormatInt(offset, 10)},
		"Content-Type": {"application/offset+octet-stream"}, "Accept": {"application/json"},
	})
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	if !last || resp.StatusCode == http.StatusNoContent {
		next, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
		if err != nil {
			return nil, 0, fmt.Errorf("PATCH %s: the hub answered no Upload-Offset", path)
		}
		return nil, next, nil
	}
	var a ninjs.Association
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return nil, 0, fmt.Errorf("PATCH %s: decode the stored asset: %w", path, err)
	}
	return &a, body.Size() + offset, nil
}

// offset asks the hub where an upload stands.
func (r *resumable) offset(ctx context.Context, path string) (int64, error) {
	resp, err := r.client.Send(ctx, http.MethodHead, path, nil, -1, http.Header{"Tus-Resumable": {"1.0.0"}})
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	n, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("HEAD %s: the hub answered no Upload-Offset", path)
	}
	return n, nil
}

// resumableAfter reports whether an upload may go on after err: a broken
// connection, a hub that is restarting or busy, or an offset that moved
// (the hub kept more of a broken request than its answer said).
func resumableAfter(err error) bool {
	var e *hubclient.Error
	if !errors.As(err, &e) {
		return true // no answer: the connection broke
	}
	switch e.StatusCode {
	case http.StatusConflict, http.StatusLocked, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, 499:
		return e.Code != "conflict" || strings.Contains(e.Detail, "Upload-Offset")
	}
	return false
}

// uploadPath is the path of the upload at loc. The client keeps talking
// to the address it was given (perhaps a proxy) rather than the public
// URL the hub writes into Location.
func uploadPath(loc string) (string, error) {
	u, err := url.Parse(loc)
	if err != nil || !strings.HasPrefix(u.Path, "/v1/uploads/") {
		return "", fmt.Errorf("the hub answered the upload's creation with Location %q, not an upload", loc)
	}
	return u.EscapedPath(), nil
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// countFrom passes on to w the bytes past *shown, counting from at.
type countFrom struct {
	w     io.Writer
	at    int64
	shown *int64
}

func (c *countFrom) Write(p []byte) (int, error) {
	end := c.at + int64(len(p))
	if end > *c.shown {
		skip := max(*c.shown-c.at, 0)
		if _, err := c.w.Write(p[skip:]); err != nil {
			return 0, err
		}
		*c.shown = end
	}
	c.at = end
	return len(p), nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
