package api

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
)

// The parsers of request bodies and the headers built from outside text,
// fuzzed. Each target states what must hold for any input, beyond not
// panicking.

// FuzzPackageBody: a POST or PATCH /v1/packages body, as the handlers
// decode it and the domain applies it. A refusal is a 400, 413 or 415
// problem, never a 5xx; what decodes was one JSON object; applied to a
// valid package, Validate accepts or refuses with EINVALID; an accepted
// package renders as ninjs JSON that parses back with its headline.
func FuzzPackageBody(f *testing.F) {
	for _, s := range []string{
		`{"campaign":"korgau123","language":"ru","headlines":[{"value":"Домогательства на работе — это преступление"}]}`,
		`{"headlines":[{"value":"x"}],"unknown":1}`, `{"headlines":"x"}`, `{} {}`, `{}x`, `[]`, ``, `{"by":"\u0000"}`,
		`{"translations":["01JD3Z8Q4VJ5K6XW0M2N7P9RST","01JD3Z8Q4VJ5K6XW0M2N7P9RST"]}`, `{"language":"kk-cyrl-kz"}`,
		`{"anonymized":true,"contentwarning":"Sexual violence"}`, `{"subjects":[{"code":"medtop:20000770","name":"harassment"}]}`,
	} {
		f.Add([]byte(s), "application/json")
	}
	f.Add([]byte(`{"campaign":"a"}`), "text/plain")
	f.Add([]byte(`{"campaign":"a"}`), "application/x-www-form-urlencoded")
	f.Add([]byte(`{"campaign":"a"}`), "application/ninjs+json; charset=utf-8")
	e := echo.New()
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		req := httptest.NewRequest(http.MethodPatch, "/v1/packages/01JD3Z8Q4VJ5K6XW0M2N7P9RST", bytes.NewReader(body))
		req.Header.Set(echo.HeaderContentType, contentType)
		c := e.NewContext(req, httptest.NewRecorder())
		var fields packageFields
		if err := decodeJSON(c, &fields); err != nil {
			switch p := problemFor(err, req.URL.Path); p.Status {
			case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
			default:
				t.Fatalf("refused with %d %q: %v", p.Status, p.Code, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("decoded %q, which is not one JSON value", body)
		}
		p := &hub.Package{ID: "01JD3Z8Q4VJ5K6XW0M2N7P9RST", Campaign: "korgau123", Language: "ru", Version: 1,
			Headlines: []hub.Text{{Value: "Домогательства на работе — это преступление"}}}
		fields.patch().Apply(p)
		if err := p.Validate(); err != nil {
			if hub.ErrorCode(err) != hub.EINVALID {
				t.Fatalf("Validate: code %q: %v", hub.ErrorCode(err), err)
			}
			return
		}
		out, err := json.Marshal(ninjs.FromPackage("https://hub.example.org", p))
		if err != nil {
			t.Fatalf("render the accepted package: %v", err)
		}
		var back struct {
			URI       string `json:"uri"`
			Headlines []struct {
				Value string `json:"value"`
			} `json:"headlines"`
		}
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("the rendering does not parse: %v\n%s", err, out)
		}
		if !strings.HasSuffix(back.URI, "/"+p.ID) {
			t.Fatalf("uri %q does not end in the id", back.URI)
		}
		if len(p.Headlines) > 0 && (len(back.Headlines) == 0 || back.Headlines[0].Value != p.Headlines[0].Value) {
			t.Fatalf("headline %q comes back as %+v", p.Headlines[0].Value, back.Headlines)
		}
	})
}

// FuzzContentDisposition: the header of every download is built from an
// asset name. Whatever the name, the header is one line of visible ASCII
// that a MIME parser reads back as the kind asked for, and for a name of
// valid UTF-8 the parsed file name is exactly the name (RFC 5987).
func FuzzContentDisposition(f *testing.F) {
	for _, s := range []string{"poster.png", "Плакат кампании.png", `a"b\c.png`, "line\r\nX-Injected: 1", "%41.png", "\xff.png", "", "tab\t.pdf", "'quoted'.png", "e\u0301\u202e.png"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, name string, attachment bool) {
		kind := "inline"
		if attachment {
			kind = "attachment"
		}
		h := ContentDisposition(kind, name)
		for i := 0; i < len(h); i++ {
			if h[i] < 0x20 || h[i] > 0x7e {
				t.Fatalf("ContentDisposition(%q) has byte %#x: %q", name, h[i], h)
			}
		}
		got, params, err := mime.ParseMediaType(h)
		if err != nil {
			t.Fatalf("ContentDisposition(%q) = %q does not parse: %v", name, h, err)
		}
		if got != kind {
			t.Fatalf("ContentDisposition(%q) parses as %q", name, got)
		}
		if utf8.ValidString(name) && params["filename"] != name {
			t.Fatalf("ContentDisposition(%q) = %q gives back the file name %q", name, h, params["filename"])
		}
		// A response header must carry it as it is.
		rec := httptest.NewRecorder()
		rec.Header().Set("Content-Disposition", h)
		if rec.Header().Get("Content-Disposition") != h {
			t.Fatalf("the header does not survive as a header value: %q", h)
		}
	})
}

// FuzzMultipartForm: a browser form upload (POST /v1/packages/{id}/assets,
// or PUT with a form). Whatever the body and boundary, nextFile stops with
// a file part, with nothing (the form's end), or with EINVALID; the name
// it gives a file is the raw file name or a preceding name field, which
// the domain then validates, so a directory in it is never dropped
// silently; and the fields it keeps are only type and name, bounded.
func FuzzMultipartForm(f *testing.F) {
	form := func(parts ...[3]string) []byte {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		w.SetBoundary("matrixboundary")
		for _, p := range parts {
			if p[1] != "" {
				fw, _ := w.CreateFormFile(p[0], p[1])
				fw.Write([]byte(p[2]))
			} else {
				w.WriteField(p[0], p[2])
			}
		}
		w.Close()
		return b.Bytes()
	}
	f.Add(form([3]string{"file", "poster.png", "\x89PNG\r\n\x1a\n"}), "matrixboundary")
	f.Add(form([3]string{"type", "", "picture"}, [3]string{"name", "", "Плакат.png"}, [3]string{"file", "x.png", "data"}), "matrixboundary")
	f.Add(form([3]string{"file", "../../etc/passwd", "x"}), "matrixboundary")
	f.Add(form([3]string{"file", "", ""}, [3]string{"file", "b.png", "b"}), "matrixboundary")
	f.Add([]byte("--matrixboundary\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''%D0%9F.png\r\n\r\nx\r\n--matrixboundary--\r\n"), "matrixboundary")
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\\\\b.png\"\r\n\r\nx\r\n--b--"), "b")
	f.Add([]byte("garbage"), "")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		if boundary == "" || len(boundary) > 70 {
			return // multipart.NewReader's contract
		}
		// Whether the form has a name field anywhere, read independently.
		named := false
		ref := multipart.NewReader(bytes.NewReader(body), boundary)
		for range 100 {
			p, err := ref.NextPart()
			if err != nil {
				break
			}
			named = named || p.FormName() == "name"
		}
		mr := multipart.NewReader(bytes.NewReader(body), boundary)
		for range 100 {
			part, fields, err := nextFile(mr)
			if err != nil {
				if hub.ErrorCode(err) != hub.EINVALID {
					t.Fatalf("nextFile: code %q: %v", hub.ErrorCode(err), err)
				}
				return
			}
			for k, v := range fields {
				if k != "type" && k != "name" {
					t.Fatalf("nextFile keeps field %q", k)
				}
				if k == "type" && len(v) > 1024 {
					t.Fatalf("field %s of %d bytes", k, len(v))
				}
			}
			if part == nil {
				return
			}
			// The raw parameter, not multipart's FileName, which strips
			// directories: "../x" must reach validation as it was sent.
			_, params, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
			if raw := params["filename"]; !named && raw != "" && fields["name"] != raw {
				t.Fatalf("file name %q reaches validation stripped, as %q", raw, fields["name"])
			}
			if fields["name"] == "" {
				t.Fatalf("a file part without a name")
			}
			io.Copy(io.Discard, part)
			part.Close()
		}
	})
}
