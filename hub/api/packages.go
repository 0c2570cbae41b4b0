package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
)

// maxJSONBody bounds a JSON request; a package's texts fit many times over.
const maxJSONBody = 4 << 20

// decodeJSON reads one JSON object into v, refusing unknown fields,
// trailing data and bodies over maxJSONBody, with messages a person can act on.
func decodeJSON(c echo.Context, v any) error {
	r := c.Request()
	if r.ContentLength > maxJSONBody {
		return hub.Errorf(hub.ETOOLARGE, "the JSON body is larger than %d bytes", maxJSONBody)
	}
	if !jsonContentType(r.Header.Get(echo.HeaderContentType)) {
		return hub.Errorf(hub.EUNSUPPORTED, "send JSON with Content-Type: application/json (got %q)", r.Header.Get(echo.HeaderContentType))
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Response(), r.Body, maxJSONBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return hub.Errorf(hub.EINVALID, "the body holds more than one JSON value")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return hub.Errorf(hub.EINVALID, "the body has data after its JSON object")
	}
	return nil
}

// jsonContentType accepts JSON media types, and also no type and curl's
// default for -d (application/x-www-form-urlencoded): the body is parsed
// as JSON either way, and refusing `curl -d '{...}'` would only trip up
// people following the README.
func jsonContentType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json") || mt == "application/x-www-form-urlencoded"
}

func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, io.EOF):
		return hub.Errorf(hub.EINVALID, "the body is empty; send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return hub.Errorf(hub.EINVALID, "the body is not valid JSON: it ends in the middle of a value")
	case errors.As(err, &syn):
		return hub.Errorf(hub.EINVALID, "the body is not valid JSON: %v (at byte %d)", syn, syn.Offset)
	case errors.As(err, &typ):
		if typ.Field != "" {
			return hub.Errorf(hub.EINVALID, "%s must be %s, not a JSON %s", typ.Field, jsonKind(typ.Type.Kind().String()), typ.Value)
		}
		return hub.Errorf(hub.EINVALID, "the body must be a JSON object, not a JSON %s", typ.Value)
	case errors.As(err, &tooBig):
		return hub.Errorf(hub.ETOOLARGE, "the JSON body is larger than %d bytes", tooBig.Limit)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return hub.Errorf(hub.EINVALID, "unknown field %s; the hub sets id, uri, version, status and dates itself", field)
	}
	return hub.Errorf(hub.EINVALID, "the body could not be read as JSON: %v", err)
}

func jsonKind(k string) string {
	switch k {
	case "slice":
		return "a list"
	case "struct", "map":
		return "an object"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	}
	return "a " + k
}

// packageFields are the fields a producer sets, for create and PATCH.
// Pointers tell "not given" from "set to empty" in a PATCH.
type packageFields struct {
	Campaign        *string        `json:"campaign"`
	Language        *string        `json:"language"`
	Headlines       *[]hub.Text    `json:"headlines"`
	Descriptions    *[]hub.Text    `json:"descriptions"`
	Bodies          *[]hub.Text    `json:"bodies"`
	Subjects        *[]hub.Subject `json:"subjects"`
	Places          *[]hub.Place   `json:"places"`
	By              *string        `json:"by"`
	CopyrightNotice *string        `json:"copyrightnotice"`
	UsageTerms      *string        `json:"usageterms"`
	ContentWarning  *string        `json:"contentwarning"`
	Anonymized      *bool          `json:"anonymized"`
	Translations    *[]string      `json:"translations"`
}

func (f packageFields) patch() hub.PackagePatch {
	return hub.PackagePatch{
		Campaign: f.Campaign, Language: f.Language, Headlines: f.Headlines, Descriptions: f.Descriptions,
		Bodies: f.Bodies, Subjects: f.Subjects, Places: f.Places, By: f.By, CopyrightNotice: f.CopyrightNotice,
		UsageTerms: f.UsageTerms, ContentWarning: f.ContentWarning, Anonymized: f.Anonymized, Translations: f.Translations,
	}
}

// item renders p in the package profile, with the renditions the hub has
// made of its assets so far.
func (a *API) item(ctx context.Context, p *hub.Package) ninjs.Item {
	return ninjs.WithRenditions(a.opts.PublicURL, ninjs.FromPackage(a.opts.PublicURL, p), p.ID, a.svc.RenditionSets(ctx, p))
}

// packageAnswer answers with p in the form the caller asked for: the
// strict ninjs form for Accept: application/ninjs+json, else the
// package profile. Vary says so to caches either way.
func (a *API) packageAnswer(c echo.Context, p *hub.Package) error {
	c.Response().Header().Add(echo.HeaderVary, echo.HeaderAccept)
	if wantsStrict(c.Request().Header.Values(echo.HeaderAccept)) {
		b, err := json.Marshal(ninjs.Strict(a.item(c.Request().Context(), p)))
		if err != nil {
			return fmt.Errorf("encode package %s as ninjs: %w", p.ID, err)
		}
		return c.Blob(http.StatusOK, ninjs.StrictMediaType, b)
	}
	return c.JSON(http.StatusOK, a.item(c.Request().Context(), p))
}

// wantsStrict reports whether an Accept header asks for the strict form
// over the profile. A client that names both (or a wildcard as well)
// gets what it rates higher; the profile wins a tie, being the default.
func wantsStrict(accept []string) bool {
	strict, profile := -1.0, -1.0
	for _, h := range accept {
		for part := range strings.SplitSeq(h, ",") {
			mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
			if err != nil {
				continue
			}
			q := 1.0
			if v, ok := params["q"]; ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
			switch mt {
			case ninjs.StrictMediaType:
				strict = max(strict, q)
			case "application/json", "application/*", "*/*":
				profile = max(profile, q)
			}
		}
	}
	return strict > 0 && strict > profile
}

func (a *API) createPackage(c echo.Context) error {
	var f packageFields
	if err := decodeJSON(c, &f); err != nil {
		return err
	}
	p := &hub.Package{}
	f.patch().Apply(p)
	var existed bool
	var err error
	if id := reservedID(c); id != "" {
		// An Idempotency-Key reserved the id: an earlier try of this
		// create may have made the package (its outcome unknown), and
		// then it is the answer, as the first one would have been.
		p, existed, err = a.svc.CreatePackageAs(c.Request().Context(), keyOf(c), id, p)
	} else {
		p, err = a.svc.CreatePackage(c.Request().Context(), keyOf(c), p)
	}
	if err != nil {
		return err
	}
	if existed {
		c.Response().Header().Set(idempotentReplayedHeader, "true")
	}
	c.Response().Header().Set(echo.HeaderLocation, ninjs.PackageURL(a.opts.PublicURL, p.ID))
	return c.JSON(http.StatusCreated, a.item(c.Request().Context(), p))
}

// packageFilters reads a listing's own filters (campaign, language,
// status, type) from the query, refusing any parameter that is neither
// one of them nor in also (hint says what is), so a typo never silently widens a listing.
func packageFilters(c echo.Context, hint string, also ...string) (hub.PackageQuery, error) {
	q := hub.PackageQuery{Campaign: c.QueryParam("campaign")}
	for name := range c.QueryParams() {
		switch {
		case name == "campaign", name == "language", name == "status", name == "type", slices.Contains(also, name):
		default:
			return q, hub.Errorf(hub.EINVALID, "unknown query parameter %q; %s", name, hint)
		}
	}
	if s := c.QueryParam("status"); s != "" {
		switch st := hub.Status(s); st {
		case hub.StatusDraft, hub.StatusScheduled, hub.StatusReleased, hub.StatusWithdrawn, hub.StatusPurged:
			q.Status = st
		default:
			return q, hub.Errorf(hub.EINVALID, "status %q is not one of draft, scheduled, released, withdrawn, purged", s)
		}
	}
	if t := c.QueryParam("type"); t != "" {
		typ, err := hub.ParseAssetType(t)
		if err != nil {
			return q, err
		}
		q.Type = typ
	}
	if l := c.QueryParam("language"); l != "" {
		lang, err := hub.NormalizeLanguage(l)
		if err != nil {
			return q, err
		}
		q.Language = lang
	}
	return q, nil
}

// packageList is one page of a listing.
type packageList struct {
	Items []ninjs.Item `json:"items"`
	// Next is the cursor for the following page; absent on the last one.
	Next string `json:"next,omitempty"`
}

func (a *API) listPackages(c echo.Context) error {
	q, err := packageFilters(c, "filter with campaign, language, status, type and q (words), and page with cursor and limit", "cursor", "limit", "q")
	if err != nil {
		return err
	}
	q.After = c.QueryParam("cursor")
	if _, ok := c.QueryParams()["q"]; ok {
		// Present but empty is a mistake to answer, not "no filter".
		if q.Text, err = hub.ParseSearchText(c.QueryParam("q")); err != nil {
			return err
		}
	}
	if q.Limit, err = limitParam(c, hub.MaxPageSize); err != nil {
		return err
	}
	page, err := a.svc.Packages(c.Request().Context(), keyOf(c), q)
	if err != nil {
		return searchAnswer(c, err)
	}
	out := packageList{Items: make([]ninjs.Item, 0, len(page.Items)), Next: page.Next}
	for _, p := range page.Items {
		out.Items = append(out.Items, a.item(c.Request().Context(), p))
	}
	if page.Next != "" {
		next := *c.Request().URL
		qs := next.Query()
		qs.Set("cursor", page.Next)
		next.RawQuery = qs.Encode()
		c.Response().Header().Set("Link", fmt.Sprintf(`<%s%s>; rel="next"`, a.opts.PublicURL, next.RequestURI()))
	}
	return c.JSON(http.StatusOK, out)
}

func (a *API) getPackage(c echo.Context) error {
	p, err := a.svc.Package(c.Request().Context(), keyOf(c), c.Param("id"))
	if err != nil {
		return err
	}
	return a.packageAnswer(c, p)
}

func (a *API) patchPackage(c echo.Context) error {
	var f packageFields
	if err := decodeJSON(c, &f); err != nil {
		return err
	}
	p, err := a.svc.UpdatePackage(c.Request().Context(), keyOf(c), c.Param("id"), f.patch())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, a.item(c.Request().Context(), p))
}

func (a *API) deletePackage(c echo.Context) error {
	if err := a.svc.DeletePackage(c.Request().Context(), keyOf(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
