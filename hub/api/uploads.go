package api

// Resumable uploads: the tus protocol 1.0.0 (creation and termination
// extensions) at /v1/uploads, served by tusd's handler over the replica's
// staging directory (hub/staging). tusd knows nothing of keys, so every
// request is authenticated by the /v1 group like any other, and an upload
// answers only the key that created it, while that key may still edit its
// package. The last PATCH stores the asset (scrubbed, like a PUT) before
// it answers, so its answer is the real outcome.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/oklog/ulid/v2"
	"github.com/tus/tusd/v2/pkg/filestore"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	exslog "golang.org/x/exp/slog"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
	"github.com/syndication-hub/hub/hub/staging"
)

// uploadsPath is where the tus endpoint lives.
const uploadsPath = "/v1/uploads"

// AssetSHA256Header names, on the last PATCH's answer, the sha256 of the
// stored (scrubbed) asset, beside its JSON in the body.
const AssetSHA256Header = "Hub-Asset-SHA256"

// ReplicaPattern is what a replica's name (HUB_REPLICA) may be: it begins
// every upload id, where a proxy reads it to route the upload's requests.
var ReplicaPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

// uploadID is an upload id: the replica's name, a dot, a ULID.
var uploadID = regexp.MustCompile(`^([a-z0-9][a-z0-9-]{0,31})\.[0-9A-HJKMNP-TV-Z]{26}$`)

// tusContext carries, in the request's context, what tusd's hooks need:
// the caller's key and the writer (for its deadlines).
type tusContext struct{}

type tusCall struct {
	key *hub.Key
	w   http.ResponseWriter
}

// newTus builds the tus handler; nil when the hub stages no uploads.
func (a *API) newTus() http.Handler {
	if a.opts.Staging == nil {
		return nil
	}
	composer := tusd.NewStoreComposer()
	a.opts.Staging.UseIn(composer, a.tusFirstBytes)
	h, err := tusd.NewHandler(tusd.Config{
		// Absolute, so Location is the public URL, not whatever Host the
		// request came with.
		BasePath:             a.opts.PublicURL + uploadsPath + "/",
		StoreComposer:        composer,
		MaxSize:              a.svc.MaxAssetBytes(),
		DisableDownload:      true, // unscrubbed bytes are served to no one
		DisableConcatenation: true,
		Cors:                 &tusd.CorsConfig{Disable: true}, // tusd's default allows any origin
		NetworkTimeout:       a.opts.UploadIdleTimeout,
		// tusd logs every request at Info through golang.org/x/exp/slog;
		// the API's own observe middleware logs them by route.
		Logger:                    exslog.New(exslog.NewTextHandler(io.Discard, nil)),
		PreUploadCreateCallback:   a.tusCreate,
		PreFinishResponseCallback: a.tusFinish,
	})
	if err != nil {
		a.log.Error("resumable uploads are off: the tus handler cannot be built", "err", err)
		return nil
	}
	return http.StripPrefix(uploadsPath, h)
}

// tusRequest checks a request before tusd sees it and turns tusd's own
// text errors into problem documents.
func (a *API) tusRequest(c echo.Context) error {
	r := c.Request()
	// tusd would turn POST + X-HTTP-Method-Override: PATCH into a PATCH
	// after these checks ran on a POST.
	if r.Header.Get("X-HTTP-Method-Override") != "" {
		return hub.Errorf(hub.EINVALID, "X-HTTP-Method-Override is not accepted here; send the method itself")
	}
	if a.tus == nil {
		return hub.Errorf(hub.EUNAVAILABLE, "this hub takes no resumable uploads; PUT the file to /v1/packages/{id}/assets/{name}")
	}
	k := keyOf(c)
	if r.Method != http.MethodPost {
		if err := a.ownUpload(r.Context(), k, c.Param("upload"), r.Method); err != nil {
			return err
		}
	}
	w := &tusWriter{ResponseWriter: c.Response(), head: r.Method == http.MethodHead, path: r.URL.Path}
	ctx := context.WithValue(r.Context(), tusContext{}, &tusCall{key: k, w: w})
	r = r.WithContext(ctx)
	if r.Method == http.MethodPatch && r.Body != nil {
		body := &stoppableBody{ReadCloser: r.Body, rc: http.NewResponseController(c.Response())}
		r.Body = body
		stop := context.AfterFunc(a.uploadsOpen, body.stop)
		defer body.end(stop)
	}
	a.tus.ServeHTTP(w, r)
	w.finish()
	return nil
}

// StopUploads ends every upload's PATCH that is running, and any that
// starts later, keeping the bytes they brought: the hub calls it as it
// shuts down. A graceful shutdown would otherwise wait for a large file
// to arrive whole, or until its deadline cut the connection; a tus
// client continues such an upload from its offset once a replica runs
// again (the answer is a 503). The last PATCH of an
// upload, which stores the asset after its last byte came, still ends
// with the asset stored.
func (a *API) StopUploads() { a.stopUploads() }

// stoppableBody is a PATCH's body that StopUploads ends: a read waiting
// for the client's next bytes returns at once, and the body fails with
// tusd's shutdown error, on which tusd keeps the bytes read and answers
// 503. (Cancelling the request's context instead would have tusd close
// the body from a goroutine of its own, which races with its handler in
// v2.9.1.)
type stoppableBody struct {
	io.ReadCloser
	rc *http.ResponseController

	mu      sync.Mutex
	stopped bool // by StopUploads
	ended   bool // the request's handler returned: the connection is no longer its
}

func (b *stoppableBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped && err != io.EOF { // a body read to its end is complete
		return n, tusd.ErrServerShutdown
	}
	return n, err
}

func (b *stoppableBody) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ended {
		return
	}
	b.stopped = true
	// Without deadlines (ErrNotSupported) the next read still ends it.
	_ = b.rc.SetReadDeadline(time.Now())
}

// end unhooks b from StopUploads as its request ends.
func (b *stoppableBody) end(unhook func() bool) {
	unhook()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.ended = true
}

// ownUpload checks that upload id is staged on this replica, was created
// by k, and (but for a DELETE, which only lets go of bytes) still goes
// into a package k may edit. Anything else is the same 404.
func (a *API) ownUpload(ctx context.Context, k *hub.Key, id, method string) error {
	m := uploadID.FindStringSubmatch(id)
	if m == nil {
		return noUpload(id)
	}
	if m[1] != a.opts.Replica {
		return hub.Errorf(hub.EMISDIRECTED, "upload %s is staged on the hub replica %q, and this is %q: every request of an upload must reach the replica that created it (the proxy routes /v1/uploads/%s.* there; see the README). Send it again through the hub's address once the proxy does, or start the upload again", id, m[1], a.opts.Replica, m[1])
	}
	info, err := a.opts.Staging.Info(ctx, id)
	if hub.ErrorCode(err) == hub.ENOTFOUND || err == nil && info.MetaData[staging.MetaKey] != k.ID {
		return noUpload(id)
	} else if err != nil {
		return err
	}
	if method == http.MethodDelete {
		return nil
	}
	typ, _ := assetType(info.MetaData[staging.MetaType])
	return a.svc.CheckUpload(ctx, k, info.MetaData[staging.MetaPackage],
		hub.AssetUpload{Name: info.MetaData[staging.MetaName], Type: typ, Size: info.Size})
}

func noUpload(id string) error { return hub.Errorf(hub.ENOTFOUND, "there is no upload %q", id) }

// tusCreate checks a new upload as PutAsset would check its request, and
// records where it goes and whose it is.
func (a *API) tusCreate(ev tusd.HookEvent) (tusd.HTTPResponse, tusd.FileInfoChanges, error) {
	call := ev.Context.Value(tusContext{}).(*tusCall)
	fail := func(err error) (tusd.HTTPResponse, tusd.FileInfoChanges, error) {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, a.tusError(err, uploadsPath)
	}
	if ev.Upload.SizeIsDeferred {
		return fail(hub.Errorf(hub.EINVALID, "declare the file's size in Upload-Length; an upload of a length told later is not accepted"))
	}
	md := ev.Upload.MetaData
	name := md[staging.MetaName]
	if name == "" {
		name = md["filename"] // what tus clients send by default
	}
	typ, err := assetType(md[staging.MetaType])
	if err != nil {
		return fail(err)
	}
	pkg := md[staging.MetaPackage]
	if pkg == "" {
		return fail(hub.Errorf(hub.EINVALID, "Upload-Metadata must name the package (package <base64 id>) and the asset (name <base64 name>)"))
	}
	if err := a.svc.CheckUpload(ev.Context, call.key, pkg, hub.AssetUpload{Name: name, Type: typ, Size: ev.Upload.Size}); err != nil {
		return fail(err)
	}
	// The staged copy, and the scrubber's copy when it is stored.
	if err := a.opts.Staging.Room(ev.Upload.Size, 2); err != nil {
		return fail(err)
	}
	return tusd.HTTPResponse{}, tusd.FileInfoChanges{
		ID: a.opts.Replica + "." + ulid.Make().String(),
		MetaData: tusd.MetaData{
			staging.MetaPackage: pkg, staging.MetaName: name, staging.MetaType: string(typ), staging.MetaKey: call.key.ID,
		},
	}, nil
}

// tusFirstBytes refuses an upload whose first bytes are not of a type
// its asset may have, on its first PATCH.
func (a *API) tusFirstBytes(_ context.Context, info tusd.FileInfo, head []byte) error {
	typ, _ := assetType(info.MetaData[staging.MetaType])
	if _, err := hub.CheckAssetContent(typ, hub.SniffContentType(head)); err != nil {
		return a.tusError(err, uploadsPath+"/"+info.ID)
	}
	return nil
}

// tusFinish stores a complete upload as its asset, in the last PATCH,
// and removes it from staging whatever the outcome: a failure is final
// (the answer says why) and the upload is sent again from its start.
func (a *API) tusFinish(ev tusd.HookEvent) (tusd.HTTPResponse, error) {
	call := ev.Context.Value(tusContext{}).(*tusCall)
	info := ev.Upload
	path := uploadsPath + "/" + info.ID
	stop := a.opts.Staging.Keep(info.ID)
	defer func() {
		stop()
		if err := a.opts.Staging.Remove(info.ID); err != nil {
			a.log.Error("remove a staged upload", "err", err)
		}
	}()
	// Scrubbing and storing a large file takes longer than tusd's write
	// deadline allows after the last byte came.
	if err := http.NewResponseController(call.w).SetWriteDeadline(time.Time{}); err != nil {
		a.log.Debug("clear the write deadline", "err", err)
	}
	f, err := os.Open(info.Storage[filestore.StorageKeyPath])
	if err != nil {
		return tusd.HTTPResponse{}, a.tusError(err, path)
	}
	defer f.Close()
	// Every byte is here, so the outcome is decided even if the client
	// went away meanwhile: it finds the asset, or, on a 404 for the
	// upload and no asset, sends the file again.
	ctx := context.WithoutCancel(ev.Context)
	typ, _ := assetType(info.MetaData[staging.MetaType])
	pkg, name := info.MetaData[staging.MetaPackage], info.MetaData[staging.MetaName]
	asset, created, err := a.svc.PutAsset(ctx, call.key, pkg, hub.AssetUpload{Name: name, Type: typ, Body: f, Size: info.Size})
	if err != nil {
		return tusd.HTTPResponse{}, a.tusError(err, path)
	}
	a.metrics.uploaded.Add(float64(asset.Size))
	body, err := json.Marshal(ninjs.FromAsset(a.opts.PublicURL, pkg, asset))
	if err != nil {
		return tusd.HTTPResponse{}, a.tusError(err, path)
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return tusd.HTTPResponse{StatusCode: status, Body: string(body), Header: tusd.HTTPHeader{
		echo.HeaderContentType: echo.MIMEApplicationJSON,
		"Content-Location":     ninjs.AssetURL(a.opts.PublicURL, pkg, name),
		AssetSHA256Header:      asset.SHA256,
	}}, nil
}

// tusError is err as tusd answers a hook's error: the problem document
// the rest of the API would answer.
func (a *API) tusError(err error, path string) error {
	p := problemFor(err, path)
	if p.Status >= 500 {
		a.log.Error("request failed", "route", uploadsPath, "err", err)
	}
	body, _ := json.Marshal(p)
	h := tusd.HTTPHeader{echo.HeaderContentType: problemType}
	if p.Status == http.StatusServiceUnavailable {
		h["Retry-After"] = strconv.Itoa(unavailableRetry)
	}
	return tusd.Error{ErrorCode: p.Code, Message: p.Detail, HTTPResponse: tusd.HTTPResponse{StatusCode: p.Status, Body: string(body) + "\n", Header: h}}
}

const problemType = "application/problem+json"

// tusMessages say in the API's words what tusd's own refusals mean.
var tusMessages = map[string]string{
	"ERR_UPLOAD_NOT_FOUND":         "there is no such upload",
	"ERR_MISMATCHED_OFFSET":        "Upload-Offset is not where the upload stands; HEAD it for Upload-Offset, and continue from there",
	"ERR_UPLOAD_SIZE_EXCEEDED":     "the request carries more bytes than the upload declared in Upload-Length",
	"ERR_MAX_SIZE_EXCEEDED":        "the declared Upload-Length is over the hub's largest asset (HUB_MAX_ASSET_BYTES)",
	"ERR_INVALID_UPLOAD_LENGTH":    "Upload-Length must be the file's size in bytes",
	"ERR_INVALID_CONTENT_TYPE":     "a PATCH carries Content-Type: application/offset+octet-stream",
	"ERR_INVALID_OFFSET":           "a PATCH carries Upload-Offset, the number of bytes already sent",
	"ERR_UNSUPPORTED_VERSION":      "send Tus-Resumable: 1.0.0",
	"ERR_UPLOAD_LOCKED":            "another request is writing this upload; try again when it ended",
	"ERR_INVALID_UPLOAD_METADATA":  "Upload-Metadata is malformed: comma-separated pairs of a key and its base64 value",
	"ERR_UPLOAD_LENGTH_AND_DEFER":  "declare the file's size in Upload-Length; an upload of a length told later is not accepted",
	"ERR_NOT_IMPLEMENTED":          "this part of the tus protocol is not offered: declare Upload-Length, and send no Upload-Concat",
	"ERR_UPLOAD_INTERRUPTED":       "the request's body broke off; HEAD the upload for Upload-Offset, and continue from there",
	"ERR_READ_TIMEOUT":             "no byte of the request's body arrived for too long; HEAD the upload for Upload-Offset, and continue from there",
	"ERR_UPLOAD_STOPPED":           "the hub stopped the upload",
	"ERR_SERVER_SHUTDOWN":          "the hub is shutting down; HEAD the upload for Upload-Offset once it answers again, and continue from there",
	"ERR_LOCK_TIMEOUT":             "the upload stayed locked by another request; try again",
	"ERR_INTERNAL_SERVER_ERROR":    "The hub hit an internal error; it has been logged.",
	"ERR_UPLOAD_NOT_FINISHED_YET":  "the upload is not complete",
	"ERR_INVALID_CONCAT":           "Upload-Concat is not offered",
	"ERR_MODIFY_FINAL":             "this upload takes no more bytes",
	"ERR_ORIGIN_NOT_ALLOWED":       "this origin may not upload",
	"ERR_UPLOAD_LENGTH_NOT_PASSED": "declare the file's size in Upload-Length",
}

// tusWriter passes tusd's answers on, but for its own errors, which it
// writes as text ("ERR_UPLOAD_NOT_FOUND: upload not found"): those it
// holds back and answers as problem documents.
type tusWriter struct {
	http.ResponseWriter
	head   bool
	path   string
	status int // of an error tusd wrote as text
	text   bytes.Buffer
}

func (w *tusWriter) WriteHeader(code int) {
	if code >= 400 && w.Header().Get(echo.HeaderContentType) != problemType {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *tusWriter) Write(b []byte) (int, error) {
	if w.status != 0 {
		if w.text.Len() < 4096 {
			w.text.Write(b)
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets tusd set the connection's deadlines.
func (w *tusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish writes the problem document of an error tusd wrote as text.
func (w *tusWriter) finish() {
	if w.status == 0 {
		return
	}
	code, msg, _ := strings.Cut(strings.TrimSpace(w.text.String()), ": ")
	if m, ok := tusMessages[code]; ok {
		msg = m
	} else if msg == "" {
		msg = http.StatusText(w.status)
	}
	p := Problem{Type: "about:blank", Title: http.StatusText(w.status), Status: w.status, Detail: msg, Instance: w.path, Code: echoCode(w.status)}
	h := w.Header()
	h.Set(echo.HeaderContentType, problemType)
	h.Del(echo.HeaderContentLength)
	w.ResponseWriter.WriteHeader(w.status)
	if !w.head {
		b, _ := json.Marshal(p)
		w.ResponseWriter.Write(append(b, '\n'))
	}
}
