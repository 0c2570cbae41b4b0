package feeds

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Serve answers a GET or HEAD for e: 304 Not Modified when the client's
// If-None-Match or If-Modified-Since shows it has these bytes, else the
// body, gzipped when the client accepts gzip. The caller sets
// Cache-Control, which depends on whose feed it is.
func (e *Entry) Serve(w http.ResponseWriter, r *http.Request) {
	useGzip := acceptsGzip(r.Header.Get("Accept-Encoding"))
	body, etag := e.Body, e.ETag
	if useGzip {
		body, etag = e.Gzip, e.GzipETag
	}
	h := w.Header()
	h.Set("ETag", etag)
	lastModified := e.lastModified
	if lastModified == "" { // an Entry not made by a Cache
		lastModified = e.Modified.UTC().Format(http.TimeFormat)
	}
	h.Set("Last-Modified", lastModified)
	// A cache between us and the reader must keep the gzip and the plain
	// answer apart.
	h.Add("Vary", "Accept-Encoding")
	if e.notModified(r) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", e.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if useGzip {
		h.Set("Content-Encoding", "gzip")
	}
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body) //nolint:errcheck // the client went away; nothing to tell it
	}
}

// notModified applies RFC 9110's conditional rules for GET and HEAD:
// If-None-Match, when sent, decides alone (weak comparison, either of
// the entry's representations matching, since both carry the same
// content); otherwise If-Modified-Since compares with Modified.
func (e *Entry) notModified(r *http.Request) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for tag := range strings.SplitSeq(inm, ",") {
			tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
			if tag == "*" || tag == e.ETag || tag == e.GzipETag {
				return true
			}
		}
		return false
	}
	if ims := r.Header.Get("If-Modified-Since"); ims != "" {
		t, err := http.ParseTime(ims)
		return err == nil && !e.Modified.After(t.Truncate(time.Second))
	}
	return false
}

// acceptsGzip reports whether an Accept-Encoding header admits gzip:
// named (or "*") with a q-value above zero.
func acceptsGzip(header string) bool {
	if header == "" {
		return false
	}
	gzipQ, starQ := -1.0, -1.0
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		switch strings.ToLower(strings.TrimSpace(name)) {
		case "gzip", "x-gzip":
			gzipQ = q
		case "*":
			starQ = q
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return starQ > 0
}
