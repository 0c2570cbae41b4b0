package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/api"
	"github.com/syndication-hub/hub/hub/ninjs"
)

// TestOpenAPIArchivePickupAndReachAnswers sends real requests through the
// API and the service on real NATS and a disk store, and holds every
// answer to what the document says of its operation.
func TestOpenAPIArchivePickupAndReachAnswers(t *testing.T) {
	ops := api.OpenAPIOperations(t)
	ctx := context.Background()
	// The whole hub as `hub serve` runs it, asked in process through its
	// handler (as the other OpenAPI tests ask the API).
	h := newTestHub(t, "disk", hubOptions{})
	svc := h.svc
	withLog := h.server.Handler()

	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	admin, err := svc.Authenticate(ctx, h.admin)
	must(err)
	_, producerSecret, err := svc.CreateKey(ctx, admin, hub.Key{Name: "KORGAU123 team", Role: hub.RoleProducer})
	must(err)
	partner, err := svc.CreatePartner(ctx, admin, &hub.Partner{Name: "Almaty TV", Region: "Almaty region", Medium: hub.MediumTV, Active: true})
	must(err)
	_, partnerSecret, err := svc.CreateKey(ctx, admin, hub.Key{Name: "Almaty TV", Role: hub.RolePartner, Partner: partner.ID})
	must(err)
	_, err = svc.CreateCampaign(ctx, admin, &hub.Campaign{Slug: "tynys"})
	must(err)
	released, err := svc.CreatePackage(ctx, admin, &hub.Package{Campaign: "korgau123", Language: "ru",
		Headlines: []hub.Text{{Value: "Домогательства на работе — это преступление"}},
		By:        "Dobrye Vesti", UsageTerms: "Free to republish with credit"})
	must(err)
	poster := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00poster")
	asset, _, err := svc.PutAsset(ctx, admin, released.ID, hub.AssetUpload{Name: "Плакат кампании.png", Body: bytes.NewReader(poster), Size: int64(len(poster))})
	must(err)
	_, err = svc.Release(ctx, admin, released.ID, nil)
	must(err)
	now := time.Now().UTC().Truncate(time.Second)

	do := func(t *testing.T, a http.Handler, op, path, key, body string, status int, headers ...string) *httptest.ResponseRecorder {
		t.Helper()
		method, _, _ := strings.Cut(op, " ")
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req := httptest.NewRequest(method, path, r)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		rec := httptest.NewRecorder()
		a.ServeHTTP(rec, req)
		if rec.Code != status {
			t.Fatalf("%s %s answered %d, want %d: %s", method, path, rec.Code, status, rec.Body)
		}
		api.OpenAPICheckAnswer(t, ops[op], op, rec)
		return rec
	}

	id := released.ID
	zipPath := "/v1/packages/" + id + "/archive.zip"
	unknown := "/v1/packages/01ARZ3NDEKTSV4RRFFQ69G5FAV/archive.zip"

	t.Run("zip", func(t *testing.T) {
		head := do(t, withLog, "HEAD /v1/packages/{id}/archive.zip", zipPath, "", "", http.StatusOK)
		get := do(t, withLog, "GET /v1/packages/{id}/archive.zip", zipPath, "", "", http.StatusOK)
		if cl := get.Header().Get("Content-Length"); cl != strconv.Itoa(get.Body.Len()) || head.Header().Get("Content-Length") != cl {
			t.Errorf("Content-Length: GET %s, HEAD %s, body %d bytes", cl, head.Header().Get("Content-Length"), get.Body.Len())
		}
		z, err := zip.NewReader(bytes.NewReader(get.Body.Bytes()), int64(get.Body.Len()))
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, f := range z.File {
			names = append(names, f.Name)
		}
		if want := []string{"manifest.json", "ninjs.json", "CREDITS.txt", asset.Name}; !slices.Equal(names, want) {
			t.Fatalf("the zip holds %v, want %v as documented", names, want)
		}
		if f := z.File[3]; f.Method != zip.Store || f.NonUTF8 {
			t.Errorf("the asset is stored with method %d, non-UTF-8 name %v; documented: stored, UTF-8", f.Method, f.NonUTF8)
		}
		mf, err := z.File[0].Open()
		if err != nil {
			t.Fatal(err)
		}
		manifest, err := io.ReadAll(mf)
		if err != nil {
			t.Fatal(err)
		}
		if err := api.OpenAPIVisitSchema(t, "Item", string(manifest)); err != nil {
			t.Errorf("manifest.json is not a ninjs Item as documented: %v", err)
		}
		sf, err := z.File[1].Open()
		if err != nil {
			t.Fatal(err)
		}
		strict, err := io.ReadAll(sf)
		if err != nil {
			t.Fatal(err)
		}
		if err := api.OpenAPIVisitSchema(t, "StrictItem", string(strict)); err != nil {
			t.Errorf("ninjs.json is not a StrictItem as documented: %v", err)
		}
		do(t, withLog, "GET /v1/packages/{id}/archive.zip", unknown, "", "", http.StatusUnauthorized)
		do(t, withLog, "HEAD /v1/packages/{id}/archive.zip", unknown, "", "", http.StatusUnauthorized)
		do(t, withLog, "GET /v1/packages/{id}/archive.zip", unknown, partnerSecret, "", http.StatusNotFound)
		do(t, withLog, "HEAD /v1/packages/{id}/archive.zip", unknown, partnerSecret, "", http.StatusNotFound)
		do(t, withLog, "GET /v1/packages/{id}/archive.zip", zipPath, partnerSecret, "", http.StatusOK)
		do(t, withLog, "GET /v1/packages/{id}/assets/{name}", "/v1/packages/"+id+"/assets/"+url.PathEscape(asset.Name),
			partnerSecret, "", http.StatusOK)
	})

	t.Run("package forms", func(t *testing.T) {
		for _, c := range []struct {
			op, path string
		}{{"GET /v1/packages/{id}", "/v1/packages/" + id}, {"GET /v1/packages/{id}/versions/{n}", "/v1/packages/" + id + "/versions/1"}} {
			for accept, want := range map[string]string{
				"": "application/json", "application/json": "application/json", "*/*": "application/json",
				"application/ninjs+json": ninjs.StrictMediaType, "application/ninjs+json, application/json;q=0.5": ninjs.StrictMediaType,
				"application/json, application/ninjs+json;q=0.5": "application/json", "application/ninjs+json;q=0": "application/json",
			} {
				rec := do(t, withLog, c.op, c.path, partnerSecret, "", http.StatusOK, "Accept", accept)
				if mt, _, _ := mime.ParseMediaType(rec.Header().Get("Content-Type")); mt != want {
					t.Errorf("%s with Accept %q answered %s, want %s", c.path, accept, mt, want)
				}
			}
		}
		do(t, withLog, "GET /v1/packages/{id}", "/v1/packages/01ARZ3NDEKTSV4RRFFQ69G5FAV", partnerSecret, "", http.StatusNotFound,
			"Accept", ninjs.StrictMediaType)
	})

	t.Run("profile schema", func(t *testing.T) {
		rec := do(t, withLog, "GET /schemas/package-profile.json", "/schemas/package-profile.json", "", "", http.StatusOK)
		if ct := rec.Header().Get("Content-Type"); ct != "application/schema+json" {
			t.Errorf("Content-Type %q", ct)
		}
		if !bytes.Equal(rec.Body.Bytes(), ninjs.ProfileSchema()) {
			t.Error("the served schema differs from ninjs.ProfileSchema()")
		}
	})

	report := "/v1/packages/" + id + "/republications"
	published := now.Add(-time.Hour).Format(time.RFC3339)
	t.Run("republications", func(t *testing.T) {
		for _, audience := range []int{5000, 6000} {
			do(t, withLog, "POST /v1/packages/{id}/republications", report, partnerSecret,
				`{"url": "https://almaty.tv/news/12345", "published": "`+published+`", "audience": `+strconv.Itoa(audience)+`}`, http.StatusCreated)
		}
		do(t, withLog, "POST /v1/packages/{id}/republications", report, producerSecret,
			`{"url": "https://almaty.tv/news/12345", "published": "`+published+`"}`, http.StatusForbidden)
		do(t, withLog, "POST /v1/packages/{id}/republications", report, partnerSecret,
			`{"url": "https://almaty.tv/news/12345", "published": "yesterday"}`, http.StatusBadRequest)
		do(t, withLog, "POST /v1/packages/{id}/republications", "/v1/packages/01ARZ3NDEKTSV4RRFFQ69G5FAV/republications", partnerSecret,
			`{"url": "https://almaty.tv/news/12345", "published": "`+published+`"}`, http.StatusNotFound)
	})

	t.Run("pickups", func(t *testing.T) {
		rec := do(t, withLog, "GET /v1/packages/{id}/pickups", "/v1/packages/"+id+"/pickups", producerSecret, "", http.StatusOK)
		var list struct {
			Items []struct {
				Kind        hub.PickupKind
				PartnerName string
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
			t.Fatal(err)
		}
		// Newest first: two reports, the asset and the zip by the outlet,
		// the zip without a key. HEADs and errors are no pickups.
		var kinds []hub.PickupKind
		for _, p := range list.Items {
			kinds = append(kinds, p.Kind)
		}
		want := []hub.PickupKind{hub.PickupRepublication, hub.PickupRepublication, hub.PickupDownload, hub.PickupArchive, hub.PickupArchive}
		if !slices.Equal(kinds, want) {
			t.Errorf("pickups %v, want %v", kinds, want)
		}
		if first := list.Items[0]; first.PartnerName != partner.Name {
			t.Errorf("the newest pickup names its outlet %q", first.PartnerName)
		}
		do(t, withLog, "GET /v1/packages/{id}/pickups", "/v1/packages/"+id+"/pickups", partnerSecret, "", http.StatusNotFound)
		do(t, withLog, "GET /v1/packages/{id}/pickups", "/v1/packages/"+id+"/pickups", "", "", http.StatusUnauthorized)
	})

	t.Run("reach", func(t *testing.T) {
		rec := do(t, withLog, "GET /v1/campaigns/{slug}/reach", "/v1/campaigns/korgau123/reach", producerSecret, "", http.StatusOK)
		var r hub.Reach
		if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		// As documented: the URL reported twice counts once, its last audience.
		if r.Republications != 1 || r.Audience != 6000 || r.Downloads.Total != 3 || r.Downloads.Anonymous != 1 || r.Outlets != 1 {
			t.Errorf("reach %+v", r)
		}
		do(t, withLog, "GET /v1/campaigns/{slug}/reach", "/v1/campaigns/tynys/reach", producerSecret, "", http.StatusOK)
		do(t, withLog, "GET /v1/campaigns/{slug}/reach", "/v1/campaigns/korgau123/reach", partnerSecret, "", http.StatusNotFound)
		do(t, withLog, "GET /v1/campaigns/{slug}/reach", "/v1/campaigns/no-such-campaign/reach", producerSecret, "", http.StatusNotFound)
		do(t, withLog, "GET /v1/campaigns/{slug}/reach", "/v1/campaigns/korgau123/reach", "", "", http.StatusUnauthorized)
	})
}
