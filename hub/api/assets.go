package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
)

// assetPath returns the package id and the asset name from the path, the
// name decoded once and checked, so "..%2F" is refused like "../".
func assetPath(c echo.Context) (id, name string, err error) {
	if id = c.Param("id"); !hub.ValidID(id) {
		return "", "", hub.Errorf(hub.ENOTFOUND, "there is no package %q", id)
	}
	name, err = pathParam(c, "name")
	if err != nil {
		return "", "", err
	}
	if err := hub.ValidAssetName(name); err != nil {
		return "", "", err
	}
	return id, name, nil
}

func assetType(s string) (hub.AssetType, error) {
	if s == "" {
		return "", nil
	}
	return hub.ParseAssetType(s)
}

func isMultipart(r *http.Request) bool {
	mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
	return mt == "multipart/form-data"
}

// putAsset streams one asset's bytes: the raw body, or the first file of a
// multipart form (so `curl -X PUT -F file=@poster.png` works too).
func (a *API) putAsset(c echo.Context) error {
	id, name, err := assetPath(c)
	if err != nil {
		return err
	}
	typ, err := assetType(c.QueryParam("type"))
	if err != nil {
		return err
	}
	r := c.Request()
	// Refuse an over-long upload from its header, before reading a byte.
	if r.ContentLength > a.svc.MaxAssetBytes() {
		return hub.Errorf(hub.ETOOLARGE, "the asset is %d bytes; the limit is %d", r.ContentLength, a.svc.MaxAssetBytes())
	}
	up := hub.AssetUpload{Name: name, Type: typ, Body: r.Body, Size: r.ContentLength}
	if isMultipart(r) {
		mr, err := r.MultipartReader()
		if err != nil {
			return hub.Errorf(hub.EINVALID, "the multipart form cannot be read: %v", err)
		}
		part, fields, err := nextFile(mr)
		if err != nil {
			return err
		}
		if part == nil {
			return hub.Errorf(hub.EINVALID, "the form has no file")
		}
		defer part.Close()
		up.Body, up.Size = part, -1
		if up.Type == "" {
			if up.Type, err = assetType(fields["type"]); err != nil {
				return err
			}
		}
	}
	asset, created, err := a.svc.PutAsset(r.Context(), keyOf(c), id, up)
	if err != nil {
		return err
	}
	a.metrics.uploaded.Add(float64(asset.Size))
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	c.Response().Header().Set(echo.HeaderLocation, ninjs.AssetURL(a.opts.PublicURL, id, name))
	return c.JSON(status, ninjs.FromAsset(a.opts.PublicURL, id, asset))
}

// nextFile skips to the next file part of a form. Fields named "type" and
// "name" that come before a file apply to it.
func nextFile(mr *multipart.Reader) (part *multipart.Part, fields map[string]string, err error) {
	fields = map[string]string{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, fields, nil
		} else if err != nil {
			return nil, nil, hub.Errorf(hub.EINVALID, "the multipart form is malformed: %v", err)
		}
		// multipart.Part.FileName strips directories, which would turn
		// "../x" into "x" without a word; read the raw parameter instead.
		_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		if filename, ok := params["filename"]; ok {
			if filename == "" && fields["name"] == "" {
				// A browser's file input left empty: no file to store.
				part.Close()
				continue
			}
			if fields["name"] == "" {
				fields["name"] = filename
			}
			return part, fields, nil
		}
		switch name := part.FormName(); name {
		case "type", "name":
			b, err := io.ReadAll(io.LimitReader(part, 1024))
			if err != nil {
				return nil, nil, hub.Errorf(hub.EINVALID, "the form field %s cannot be read: %v", name, err)
			}
			fields[name] = strings.TrimSpace(string(b))
		}
		part.Close()
	}
}

// assetsUploaded answers a form upload.
type assetsUploaded struct {
	Assets []ninjs.Association `json:"assets"`
}

// postAssetsForm takes a browser's multipart form with one or more files,
// each stored as the asset named by its file name (or a preceding "name"
// field). Every file is stored whole or not at all.
func (a *API) postAssetsForm(c echo.Context) error {
	r := c.Request()
	if !isMultipart(r) {
		return hub.Errorf(hub.EUNSUPPORTED, "send a multipart/form-data form, or PUT the bytes to /v1/packages/{id}/assets/{name}")
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return hub.Errorf(hub.EINVALID, "the multipart form cannot be read: %v", err)
	}
	id := c.Param("id")
	out := assetsUploaded{Assets: []ninjs.Association{}}
	for {
		part, fields, err := nextFile(mr)
		if err != nil {
			return err
		}
		if part == nil {
			break
		}
		typ, err := assetType(fields["type"])
		if err != nil {
			return err
		}
		asset, _, err := a.svc.PutAsset(r.Context(), keyOf(c), id, hub.AssetUpload{Name: fields["name"], Type: typ, Body: part, Size: -1})
		part.Close()
		if err != nil {
			return err
		}
		a.metrics.uploaded.Add(float64(asset.Size))
		out.Assets = append(out.Assets, ninjs.FromAsset(a.opts.PublicURL, id, asset))
	}
	if len(out.Assets) == 0 {
		return hub.Errorf(hub.EINVALID, "the form has no file")
	}
	return c.JSON(http.StatusCreated, out)
}

// inlineSafe lists the media types a browser may show in place: pictures,
// video and sound. Everything else (SVG and PDF among them, which can run
// script) is a download.
func inlineSafe(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return (strings.HasPrefix(mt, "image/") && mt != "image/svg+xml") || strings.HasPrefix(mt, "video/") || strings.HasPrefix(mt, "audio/")
}

func (a *API) getAsset(c echo.Context) error {
	id, name, err := assetPath(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	p, asset, err := a.svc.Asset(ctx, keyOf(c), id, name)
	if err != nil {
		return err
	}
	if _, ok := c.QueryParams()["rendition"]; ok {
		return a.serveRendition(c, p, asset, c.QueryParam("rendition"))
	}
	defer a.assetPickedUp(c, p, asset) // a partner's download is a pickup (see reach.go)
	kind := "attachment"
	if _, forced := c.QueryParams()["download"]; inlineSafe(asset.ContentType) && !forced {
		kind = "inline"
	}
	disposition := ContentDisposition(kind, asset.Name)
	if a.opts.PresignDownloads {
		if u, ok, err := a.svc.PresignAsset(ctx, p, asset, disposition); err != nil {
			a.log.Warn("presign failed; serving through the hub", "err", err)
		} else if ok {
			c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
			return c.Redirect(http.StatusFound, u)
		}
	}
	blob, err := a.svc.OpenAsset(ctx, asset)
	if err != nil {
		return err
	}
	defer blob.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, asset.ContentType)
	h.Set(echo.HeaderContentDisposition, disposition)
	h.Set("ETag", `"`+asset.SHA256+`"`)
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set(echo.HeaderCacheControl, "private, no-cache")
	// Last-Modified is the upload of this asset, not of the blob, which an
	// identical earlier upload may have stored long before.
	http.ServeContent(bigCopyWriter{c.Response(), &a.copyBuffers}, c.Request(), "", asset.Uploaded, blob)
	return nil
}

// serveRendition serves a rendition of an asset Asset returned, so under
// the same access and embargo rule as the original. A preview is no
// pickup: partners browse thumbnails before they choose.
func (a *API) serveRendition(c echo.Context, p *hub.Package, asset *hub.Asset, name string) error {
	ctx := c.Request().Context()
	r, err := a.svc.AssetRendition(ctx, asset, name)
	if err != nil {
		return err
	}
	blob, err := a.svc.OpenRendition(ctx, asset, r)
	if err != nil {
		return err
	}
	defer blob.Close()
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, r.ContentType)
	h.Set(echo.HeaderContentDisposition, ContentDisposition("inline", hub.RenditionFileName(asset.Name, r)))
	h.Set("ETag", `"`+r.SHA256+`"`)
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	h.Set(echo.HeaderCacheControl, "private, no-cache")
	http.ServeContent(bigCopyWriter{c.Response(), &a.copyBuffers}, c.Request(), "", asset.Uploaded, blob)
	return nil
}

// bigCopyWriter makes http.ServeContent copy in 1 MiB pieces instead of
// io.Copy's 32 KiB: each read of an S3 object is a round trip to its
// reader goroutine, and each write a system call. Measured on a 1 GiB
// download: 0.59 -> 0.88 of minio-go's direct throughput.
type bigCopyWriter struct {
	http.ResponseWriter
	buffers *sync.Pool
}

func (w bigCopyWriter) ReadFrom(r io.Reader) (int64, error) {
	bp := w.buffers.Get().(*[]byte)
	defer w.buffers.Put(bp)
	return io.CopyBuffer(struct{ io.Writer }{w.ResponseWriter}, r, *bp)
}

// ContentDisposition builds an RFC 6266 header that keeps any file name:
// an ASCII fallback for old clients and the exact UTF-8 name in RFC 5987
// form, so "Плакат.png" downloads as "Плакат.png".
func ContentDisposition(kind, name string) string {
	var fallback, encoded strings.Builder
	for _, r := range name {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' {
			fallback.WriteByte('_')
		} else {
			fallback.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		if isAttrChar(b) {
			encoded.WriteByte(b)
		} else {
			fmt.Fprintf(&encoded, "%%%02X", b)
		}
	}
	return kind + `; filename="` + fallback.String() + `"; filename*=UTF-8''` + encoded.String()
}

func isAttrChar(b byte) bool {
	return b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}

// assetFields are what PATCH sets on an asset.
type assetFields struct {
	Caption  *string `json:"caption"`
	Credit   *string `json:"credit"`
	Language *string `json:"language"`
	Primary  *bool   `json:"primary"`
	AltText  *string `json:"alttext"`
	Captions *string `json:"captions"`
}

func (a *API) patchAsset(c echo.Context) error {
	id, name, err := assetPath(c)
	if err != nil {
		return err
	}
	var f assetFields
	if err := decodeJSON(c, &f); err != nil {
		return err
	}
	asset, err := a.svc.UpdateAsset(c.Request().Context(), keyOf(c), id, name,
		hub.AssetPatch{Caption: f.Caption, Credit: f.Credit, Language: f.Language, Primary: f.Primary, AltText: f.AltText, Captions: f.Captions})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ninjs.FromAsset(a.opts.PublicURL, id, asset))
}

func (a *API) getScrubReport(c echo.Context) error {
	id, name, err := assetPath(c)
	if err != nil {
		return err
	}
	r, err := a.svc.ScrubReport(c.Request().Context(), keyOf(c), id, name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (a *API) deleteAsset(c echo.Context) error {
	id, name, err := assetPath(c)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteAsset(c.Request().Context(), keyOf(c), id, name); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
