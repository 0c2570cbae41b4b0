package api

// These tests hold openapi.json to the code: the document must be valid
// OpenAPI, name exactly the routes the API has, and describe the JSON the
// handlers read and write field for field. The package is api, not
// api_test, so the unexported request and response types can be compared.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog/memory"
	"github.com/syndication-hub/hub/hub/disk"
	"github.com/syndication-hub/hub/hub/ninjs"
)

// openapiLoad loads and validates the document the API serves.
func openapiLoad(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(OpenAPIDocument())
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background(), openapi3.EnableExamplesValidation()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	doc := openapiLoad(t)
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("openapi is %q; the document uses OpenAPI 3.1 keywords", doc.OpenAPI)
	}
	if !json.Valid(OpenAPIDocument()) {
		t.Error("openapi.json is not valid JSON")
	}
}

// TestOpenAPIServed checks that /openapi.json answers with the embedded
// document, without a key.
func TestOpenAPIServed(t *testing.T) {
	rec := httptest.NewRecorder()
	New(nil, Options{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if !bytes.Equal(rec.Body.Bytes(), OpenAPIDocument()) {
		t.Error("the served document differs from OpenAPIDocument()")
	}
}

// openapiEchoParam matches Echo's path parameters, ":id", to write them
// as OpenAPI does, "{id}".
var openapiEchoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// openapiRouteKey is how both sides name an operation: "GET /v1/packages/{id}".
func openapiRouteKey(method, path string) string {
	return strings.ToUpper(method) + " " + openapiEchoParam.ReplaceAllString(path, "{$1}")
}

// openapiRoutes returns the API's routes, leaving out the catch-alls Echo
// adds so that group middleware (authentication) runs for unknown paths.
// A nil service is fine: building the API only reads the route table.
func openapiRoutes(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, r := range New(nil, Options{}).Routes() {
		if r.Method == echo.RouteNotFound || strings.HasSuffix(r.Path, "/*") {
			continue
		}
		out[openapiRouteKey(r.Method, r.Path)] = true
	}
	if len(out) == 0 {
		t.Fatal("the API has no routes")
	}
	return out
}

// openapiOperations returns every operation in the document, keyed like
// openapiRoutes.
func openapiOperations(doc *openapi3.T) map[string]*openapi3.Operation {
	out := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			out[openapiRouteKey(method, path)] = op
		}
	}
	return out
}

func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	ops := openapiOperations(openapiLoad(t))
	for route := range openapiRoutes(t) {
		t.Run(route, func(t *testing.T) {
			if ops[route] == nil {
				t.Errorf("the API routes %s, but openapi.json does not document it", route)
			}
		})
	}
}

func TestOpenAPIOperationsExist(t *testing.T) {
	routes := openapiRoutes(t)
	for op := range openapiOperations(openapiLoad(t)) {
		t.Run(op, func(t *testing.T) {
			if !routes[op] {
				t.Errorf("openapi.json documents %s, which the API does not route", op)
			}
		})
	}
}

// TestOpenAPIOperations pins what callers rely on in each operation:
// whether it needs a key, and the statuses it answers with.
func TestOpenAPIOperations(t *testing.T) {
	doc := openapiLoad(t)
	ops := openapiOperations(doc)
	type row struct {
		op     string
		public bool
		// keyOptional: a key is honoured but not required (what a caller
		// without one gets is the operation's business).
		keyOptional bool
		statuses    []string
	}
	tests := []row{
		{op: "GET /healthz", public: true, statuses: []string{"200"}},
		{op: "GET /readyz", public: true, statuses: []string{"200", "503"}},
		{op: "GET /metrics", statuses: []string{"200", "401", "403"}},
		{op: "GET /openapi.json", public: true, statuses: []string{"200"}},
		{op: "GET /schemas/package-profile.json", public: true, statuses: []string{"200"}},
		{op: "GET /feeds/releases.{format}", public: true, statuses: []string{"200", "304", "400", "404"}},
		{op: "HEAD /feeds/releases.{format}", public: true, statuses: []string{"200", "304", "400", "404"}},
		{op: "GET /feeds/p/{token}/releases.{format}", public: true, statuses: []string{"200", "304", "400", "404"}},
		{op: "HEAD /feeds/p/{token}/releases.{format}", public: true, statuses: []string{"200", "304", "400", "404"}},
		{op: "POST /v1/keys", statuses: []string{"201", "400", "401", "403", "413", "415", "503", "507"}},
		{op: "GET /v1/keys", statuses: []string{"200", "401", "403", "503"}},
		{op: "POST /v1/signin-links", statuses: []string{"201", "400", "401", "403", "413", "415", "503", "507"}},
		{op: "GET /v1/signin-links", statuses: []string{"200", "401", "403", "503"}},
		{op: "DELETE /v1/keys/{id}", statuses: []string{"204", "401", "403", "404", "503", "507"}},
		{op: "POST /v1/keys/{id}/rotate", statuses: []string{"200", "400", "401", "403", "404", "409", "413", "415", "429", "503", "507"}},
		{op: "GET /v1/audit", statuses: []string{"200", "400", "401", "403", "429", "503"}},
		{op: "POST /v1/packages", statuses: []string{"201", "400", "401", "403", "413", "415", "503", "507"}},
		{op: "GET /v1/packages", statuses: []string{"200", "400", "401", "503"}},
		{op: "GET /v1/search", statuses: []string{"200", "400", "401", "429", "503"}},
		{op: "GET /v1/packages/{id}", statuses: []string{"200", "401", "404", "503"}},
		{op: "PATCH /v1/packages/{id}", statuses: []string{"200", "400", "401", "403", "404", "409", "413", "415", "503", "507"}},
		{op: "DELETE /v1/packages/{id}", statuses: []string{"204", "401", "403", "404", "409", "503", "507"}},
		{op: "POST /v1/packages/{id}/release", statuses: []string{"200", "400", "401", "404", "409", "415", "503", "507"}},
		{op: "POST /v1/packages/{id}/unschedule", statuses: []string{"200", "401", "404", "409", "503", "507"}},
		{op: "POST /v1/packages/{id}/withdraw", statuses: []string{"200", "401", "404", "409", "503", "507"}},
		{op: "POST /v1/packages/{id}/purge", statuses: []string{"200", "401", "404", "409", "503", "507"}},
		{op: "GET /v1/packages/{id}/versions/{n}", statuses: []string{"200", "401", "404", "503"}},
		{op: "GET /v1/releases", statuses: []string{"200", "400", "401", "503"}},
		{op: "GET /v1/me/nats", statuses: []string{"200", "401", "404", "503"}},
		{op: "POST /v1/campaigns", statuses: []string{"201", "400", "401", "403", "409", "413", "415", "503", "507"}},
		{op: "GET /v1/campaigns", statuses: []string{"200", "401", "503"}},
		{op: "GET /v1/campaigns/{slug}", statuses: []string{"200", "401", "404", "503"}},
		{op: "PATCH /v1/campaigns/{slug}", statuses: []string{"200", "400", "401", "403", "404", "413", "415", "503", "507"}},
		{op: "POST /v1/partners", statuses: []string{"201", "400", "401", "403", "413", "415", "503", "507"}},
		{op: "GET /v1/partners", statuses: []string{"200", "401", "403", "503"}},
		{op: "GET /v1/partners/{id}", statuses: []string{"200", "401", "403", "404", "503"}},
		{op: "PATCH /v1/partners/{id}", statuses: []string{"200", "400", "401", "403", "404", "413", "415", "503", "507"}},
		{op: "POST /v1/partners/{id}/feedtoken", statuses: []string{"201", "401", "403", "404", "503", "507"}},
		{op: "DELETE /v1/partners/{id}/feedtoken", statuses: []string{"204", "401", "403", "404", "503", "507"}},
		{op: "POST /v1/webhooks", statuses: []string{"201", "400", "401", "403", "404", "413", "415", "503", "507"}},
		{op: "GET /v1/webhooks", statuses: []string{"200", "401", "403", "503"}},
		{op: "DELETE /v1/webhooks/{id}", statuses: []string{"204", "401", "403", "404", "503", "507"}},
		{op: "GET /v1/webhooks/{id}/deadletters", statuses: []string{"200", "401", "403", "404", "503"}},
		{op: "POST /v1/webhooks/{id}/deadletters/{msgid}/replay", statuses: []string{"200", "401", "403", "404", "409", "503", "507"}},
		{op: "POST /v1/packages/{id}/assets", statuses: []string{"201", "400", "401", "403", "404", "408", "409", "413", "415", "503", "507"}},
		{op: "PUT /v1/packages/{id}/assets/{name}", statuses: []string{"200", "201", "400", "401", "403", "404", "408", "409", "413", "415", "429", "503", "507"}},
		{op: "GET /v1/packages/{id}/assets/{name}", keyOptional: true, statuses: []string{"200", "206", "302", "304", "400", "401", "404", "416", "503"}},
		{op: "HEAD /v1/packages/{id}/assets/{name}", keyOptional: true, statuses: []string{"200", "206", "302", "304", "400", "401", "404", "416", "503"}},
		{op: "PATCH /v1/packages/{id}/assets/{name}", statuses: []string{"200", "400", "401", "403", "404", "409", "413", "415", "503", "507"}},
		{op: "DELETE /v1/packages/{id}/assets/{name}", statuses: []string{"204", "400", "401", "403", "404", "409", "503", "507"}},
		{op: "POST /v1/uploads", statuses: []string{"201", "400", "401", "404", "409", "412", "413", "429", "501", "503", "507"}},
		{op: "HEAD /v1/uploads/{upload}", statuses: []string{"200", "401", "404", "409", "412", "421", "429", "503"}},
		{op: "PATCH /v1/uploads/{upload}", statuses: []string{"200", "201", "204", "400", "401", "404", "409", "412", "413", "415", "421", "429", "503", "507"}},
		{op: "DELETE /v1/uploads/{upload}", statuses: []string{"204", "401", "404", "412", "421", "429", "503"}},
		{op: "GET /v1/packages/{id}/assets/{name}/scrub-report", statuses: []string{"200", "400", "401", "404", "503"}},
		{op: "GET /v1/packages/{id}/archive.zip", keyOptional: true, statuses: []string{"200", "401", "404", "503"}},
		{op: "HEAD /v1/packages/{id}/archive.zip", keyOptional: true, statuses: []string{"200", "401", "404", "503"}},
		{op: "POST /v1/packages/{id}/republications", statuses: []string{"201", "400", "401", "403", "404", "413", "415", "503", "507"}},
		{op: "GET /v1/packages/{id}/pickups", statuses: []string{"200", "401", "404", "503"}},
		{op: "GET /v1/campaigns/{slug}/reach", statuses: []string{"200", "401", "404", "503"}},
		{op: "POST /v1/packages/{id}/takedown", statuses: []string{"200", "400", "401", "403", "404", "409", "413", "415", "503", "507"}},
		{op: "GET /v1/packages/{id}/takedowns", statuses: []string{"200", "401", "404", "409", "503"}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			op := ops[tt.op]
			if op == nil {
				t.Fatalf("%s is not in openapi.json", tt.op)
			}
			security := doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			needsKey := slices.ContainsFunc(security, func(r openapi3.SecurityRequirement) bool {
				_, ok := r["bearerAuth"]
				return ok
			})
			if needsKey == tt.public {
				t.Errorf("needs a key: %v, want %v", needsKey, !tt.public)
			}
			// An empty requirement among others makes the key optional.
			anonymous := slices.ContainsFunc(security, func(r openapi3.SecurityRequirement) bool { return len(r) == 0 })
			if needsKey && anonymous != tt.keyOptional {
				t.Errorf("the key is optional: %v, want %v", anonymous, tt.keyOptional)
			}
			for _, status := range tt.statuses {
				if op.Responses.Value(status) == nil {
					t.Errorf("status %s is not documented", status)
				}
			}
			if op.OperationID == "" {
				t.Error("no operationId")
			}
			// Error answers with a body are problem documents; HEAD has
			// no bodies, and a 416 comes from http.ServeContent as text.
			if strings.HasPrefix(tt.op, http.MethodHead+" ") {
				return
			}
			for status, resp := range op.Responses.Map() {
				if status == "416" || (status != "default" && status < "400") {
					continue
				}
				if resp.Value.Content.Get("application/problem+json") == nil {
					t.Errorf("status %s is not application/problem+json", status)
				}
			}
		})
	}
	for op := range ops {
		if !slices.ContainsFunc(tests, func(tt row) bool { return tt.op == op }) {
			t.Errorf("%s has no row in this test", op)
		}
	}
}

// openapiJSONFields returns the JSON names of a struct's fields, and
// which of them are always present (not omitempty). The fields of an
// embedded struct without a JSON name are the struct's own, as
// encoding/json writes them (pickupView embeds hub.Pickup).
func openapiJSONFields(typ reflect.Type) (names, always []string) {
	for f := range typ.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			n, a := openapiJSONFields(f.Type)
			names, always = append(names, n...), append(always, a...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		if !slices.Contains(strings.Split(opts, ","), "omitempty") {
			always = append(always, name)
		}
	}
	sort.Strings(names)
	sort.Strings(always)
	return names, always
}

// TestOpenAPISchemasMatchGoTypes compares each schema's properties with
// the JSON fields of the Go type the handlers decode or encode, so a
// field added in one place and not the other fails here. For answers,
// required must be exactly the fields that are never omitted.
func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	schemas := openapiLoad(t).Components.Schemas
	tests := []struct {
		schema string
		typ    any
		answer bool
	}{
		{"PackageFields", packageFields{}, false},
		{"AssetPatch", assetFields{}, false},
		{"KeyRequest", keyRequest{}, false},
		{"ReleaseRequest", releaseRequest{}, false},
		{"CampaignFields", campaignFields{}, false},
		{"PartnerFields", partnerFields{}, false},
		{"WebhookRequest", webhookRequest{}, false},
		{"RotateRequest", rotateRequest{}, false},
		{"SigninLinkRequest", signinLinkRequest{}, false},
		{"SigninLink", signinLinkView{}, true},
		{"KeyMade", keyMade{}, true},
		{"AuditLog", auditLog{}, true},
		{"AuditEntry", auditEntry{}, true},
		{"AuditActor", hub.AuditActor{}, true},
		{"Text", hub.Text{}, true},
		{"Subject", hub.Subject{}, true},
		{"Place", hub.Place{}, true},
		{"Item", ninjs.Item{}, true},
		{"Association", ninjs.Association{}, true},
		{"Rendition", ninjs.Rendition{}, true},
		{"ProfileStandard", ninjs.Standard{}, true},
		{"StrictStandard", ninjs.Standard{}, true},
		{"StrictItem", ninjs.StrictItem{}, true},
		{"StrictConcept", ninjs.StrictConcept{}, true},
		{"StrictAssociation", ninjs.StrictAssociation{}, true},
		{"StrictRendition", ninjs.StrictRendition{}, true},
		{"PackageList", packageList{}, true},
		{"SearchResults", searchResults{}, true},
		{"SearchResult", searchResult{}, true},
		{"SearchSnippet", searchSnippet{}, true},
		{"AssetsUploaded", assetsUploaded{}, true},
		{"Key", keyView{}, true},
		{"ReleaseEntry", releaseEntry{}, true},
		{"ReleaseLog", releaseLog{}, true},
		{"Campaign", campaignView{}, true},
		{"Partner", partnerView{}, true},
		{"NATSAccess", natsAccess{}, true},
		{"Webhook", webhookView{}, true},
		{"DeadLetter", deadLetterView{}, true},
		{"Replay", replayView{}, true},
		{"FeedToken", feedTokenView{}, true},
		{"RepublicationRequest", republicationRequest{}, false},
		{"Republication", republicationView{}, true},
		{"Pickup", pickupView{}, true},
		{"Reach", hub.Reach{}, true},
		{"ReachDownloads", hub.ReachDownloads{}, true},
		{"AssetReach", hub.AssetReach{}, true},
		{"RegionReach", hub.RegionReach{}, true},
		{"MediumReach", hub.MediumReach{}, true},
		{"TakedownRequest", takedownRequest{}, false},
		{"Takedown", takedownView{}, true},
		{"TakedownList", takedownsView{}, true},
		{"Problem", Problem{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.schema, func(t *testing.T) {
			ref := schemas[tt.schema]
			if ref == nil || ref.Value == nil {
				t.Fatalf("no schema %s", tt.schema)
			}
			s := ref.Value
			names, always := openapiJSONFields(reflect.TypeOf(tt.typ))
			var props []string
			for name := range s.Properties {
				props = append(props, name)
			}
			sort.Strings(props)
			if !slices.Equal(props, names) {
				t.Errorf("properties %v, but the Go type has %v", props, names)
			}
			if !tt.answer {
				// The hub decodes with DisallowUnknownFields.
				if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
					t.Error("a request body the hub decodes strictly needs additionalProperties: false")
				}
				return
			}
			required := slices.Sorted(slices.Values(s.Required))
			if !slices.Equal(required, always) {
				t.Errorf("required %v, but the Go type always writes %v", required, always)
			}
		})
	}
}

// TestOpenAPIRequestBodies checks the JSON bodies the operations take,
// through the references, so PackageCreate keeps PackageFields' closed
// shape and adds the fields creation requires.
func TestOpenAPIRequestBodies(t *testing.T) {
	ops := openapiOperations(openapiLoad(t))
	tests := []struct {
		op       string
		optional bool // the body may be left out
		required []string
		valid    string
		invalid  []string
	}{
		{
			op: "POST /v1/packages", required: []string{"campaign", "language"},
			valid: `{"campaign": "korgau123", "language": "ru", "headlines": [{"value": "Домогательства на работе — это преступление"}]}`,
			invalid: []string{
				`{"language": "ru"}`,
				`{"campaign": "korgau123", "language": "ru", "status": "released"}`,
				`{"campaign": "korgau123", "language": "ru", "headlines": [{"value": "x", "lang": "ru"}]}`,
			},
		},
		{
			op:      "PATCH /v1/packages/{id}",
			valid:   `{"usageterms": "Free to republish with credit", "anonymized": true}`,
			invalid: []string{`{"id": "01JD3Z8Q4VJ5K6XW0M2N7P9RST"}`},
		},
		{
			op:      "PATCH /v1/packages/{id}/assets/{name}",
			valid:   `{"caption": "Плакат", "language": "", "primary": true}`,
			invalid: []string{`{"type": "graphic"}`, `{"language": "not a tag"}`},
		},
		{
			op: "POST /v1/keys", required: []string{"role", "name"},
			valid:   `{"role": "producer", "name": "KORGAU123 team", "campaigns": ["korgau123"], "expires": "2027-01-01T00:00:00Z"}`,
			invalid: []string{`{"name": "no role"}`, `{"role": "owner", "name": "x"}`, `{"role": "partner", "name": "x", "secret": "y"}`},
		},
		{
			op: "POST /v1/keys/{id}/rotate", optional: true,
			valid:   `{"grace": "24h"}`,
			invalid: []string{`{"grace": "a day"}`, `{"grace": "24h", "secret": "hub_x"}`},
		},
		{
			op: "POST /v1/packages/{id}/release", optional: true,
			valid:   `{"embargo": "2026-11-25T06:00:00+06:00"}`,
			invalid: []string{`{"embargo": "tomorrow"}`, `{"embargo": "2026-11-25T06:00:00+06:00", "version": "2"}`},
		},
		{
			op: "POST /v1/campaigns", required: []string{"slug"},
			valid: `{"slug": "korgau123", "name": "KORGAU123", "visibility": "partners", "hashtags": ["#korgau123"]}`,
			invalid: []string{
				`{"name": "no slug"}`,
				`{"slug": "KORGAU 123"}`,
				`{"slug": "korgau123", "visibility": "secret"}`,
				`{"slug": "korgau123", "hashtags": ["two words"]}`,
				`{"slug": "korgau123", "created": "2026-11-20T09:30:00Z"}`,
			},
		},
		{
			op:      "PATCH /v1/campaigns/{slug}",
			valid:   `{"visibility": "public"}`,
			invalid: []string{`{"visibility": "everyone"}`, `{"owner": "x"}`},
		},
		{
			op: "POST /v1/partners", required: []string{"name", "medium"},
			valid: `{"name": "Regional TV newsroom", "region": "Almaty region", "medium": "tv", "languages": ["kk", "ru"], "campaigns": ["korgau123"], "active": true}`,
			invalid: []string{
				`{"name": "no medium"}`,
				`{"name": "x", "medium": "satellite"}`,
				`{"name": "x", "medium": "tv", "campaigns": ["Not A Slug"]}`,
				`{"name": "x", "medium": "tv", "id": "01JD3Z8Q4VJ5K6XW0M2N7P9RSZ"}`,
			},
		},
		{
			op:      "PATCH /v1/partners/{id}",
			valid:   `{"campaigns": ["korgau123", "tynys"], "active": false}`,
			invalid: []string{`{"active": "no"}`, `{"languages": ["not a tag"]}`},
		},
		{
			op: "POST /v1/packages/{id}/republications", required: []string{"url", "published"},
			valid: `{"url": "https://almaty.tv/news/12345", "medium": "online", "published": "2026-11-25T09:00:00+06:00", "audience": 120000}`,
			invalid: []string{
				`{"published": "2026-11-25T09:00:00+06:00"}`,
				`{"url": "https://almaty.tv/news/12345"}`,
				`{"url": "/news/12345", "published": "2026-11-25T09:00:00+06:00"}`,
				`{"url": "ftp://almaty.tv/12345", "published": "2026-11-25T09:00:00+06:00"}`,
				`{"url": "https://almaty.tv/news/12345", "published": "2026-11-25T09:00:00+06:00", "medium": "carrier pigeon"}`,
				`{"url": "https://almaty.tv/news/12345", "published": "yesterday"}`,
				`{"url": "https://almaty.tv/news/12345", "published": "2026-11-25T09:00:00+06:00", "audience": -1}`,
				`{"url": "https://almaty.tv/news/12345", "published": "2026-11-25T09:00:00+06:00", "audience": 1.5}`,
				`{"url": "https://almaty.tv/news/12345", "published": "2026-11-25T09:00:00+06:00", "audience": 100000000000}`,
				`{"url": "https://almaty.tv/news/12345", "published": "2026-11-25T09:00:00+06:00", "reach": 5}`,
			},
		},
		{
			op: "POST /v1/packages/{id}/takedown", optional: true,
			valid:   `{"via": "pull"}`,
			invalid: []string{`{"via": "email"}`, `{"via": "api", "partner": "01JD3Z8Q4VJ5K6XW0M2N7P9RSZ"}`},
		},
		{
			op: "POST /v1/webhooks", required: []string{"url"},
			valid:   `{"url": "https://newsroom.example.kz/hooks/syndication", "partner": "01JD3Z8Q4VJ5K6XW0M2N7P9RSZ"}`,
			invalid: []string{`{"partner": "01JD3Z8Q4VJ5K6XW0M2N7P9RSZ"}`, `{"url": "https://example.kz/h", "secret": "whsec_x"}`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			op := ops[tt.op]
			if op == nil || op.RequestBody == nil {
				t.Fatalf("%s has no request body", tt.op)
			}
			if op.RequestBody.Value.Required == tt.optional {
				t.Errorf("the request body is marked required: %v, want %v", op.RequestBody.Value.Required, !tt.optional)
			}
			mt := op.RequestBody.Value.Content.Get("application/json")
			if mt == nil || mt.Schema == nil {
				t.Fatal("no application/json request body")
			}
			s := mt.Schema.Value
			for _, field := range tt.required {
				if !openapiRequires(s, field) {
					t.Errorf("%s is not required", field)
				}
			}
			if err := openapiVisit(s, tt.valid); err != nil {
				t.Errorf("the schema refuses a valid body %s: %v", tt.valid, err)
			}
			for _, body := range tt.invalid {
				if openapiVisit(s, body) == nil {
					t.Errorf("the schema accepts %s, which the hub refuses", body)
				}
			}
		})
	}
}

// openapiRequires reports whether s requires field, itself or through
// allOf (where the loader puts keywords written next to a $ref).
func openapiRequires(s *openapi3.Schema, field string) bool {
	if slices.Contains(s.Required, field) {
		return true
	}
	for _, sub := range s.AllOf {
		if sub.Value != nil && openapiRequires(sub.Value, field) {
			return true
		}
	}
	return false
}

// openapiVisit validates a JSON text against s as JSON Schema 2020-12,
// the dialect of OpenAPI 3.1.
func openapiVisit(s *openapi3.Schema, text string) error {
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		return err
	}
	return s.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.EnableFormatValidation())
}

// openapiJSON encodes v as the handlers do.
func openapiJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOpenAPIAnswersMatchSchemas renders real answers with the code the
// handlers use and validates them against the documented schemas.
func TestOpenAPIAnswersMatchSchemas(t *testing.T) {
	schemas := openapiLoad(t).Components.Schemas
	now := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	embargo := now.Add(48 * time.Hour)
	base := "https://hub.example.org"
	asset := hub.Asset{
		Name: "Плакат кампании.png", Type: hub.AssetPicture, ContentType: "image/png", Size: 482113,
		SHA256: "293b9207228b7854bc3ccb2959ebea1583e066d41983124a5b381d6fdf6575f8", BlobKey: "01JD3Z8Q4VJ5K6XW0M2N7P9RSV",
		Caption: "Плакат", Credit: "Dobrye Vesti", Language: "ru", Primary: true, Uploaded: now,
	}
	bare := hub.Asset{
		Name: "interview.mxf", Type: hub.AssetVideo, ContentType: "application/mxf", Size: 9,
		SHA256: "02540942346fdfbf21a94f8b823af2ae315f20cb71721c2cc6e205097d560840", BlobKey: "01JD3Z8Q4VJ5K6XW0M2N7P9RSW", Uploaded: now,
	}
	full := &hub.Package{
		ID: "01JD3Z8Q4VJ5K6XW0M2N7P9RST", Campaign: "korgau123", Language: "ru", Version: 2, Status: hub.StatusScheduled,
		FirstCreated: now.Add(-time.Hour), VersionCreated: now, Embargo: &embargo,
		Headlines:    []hub.Text{{Value: "Домогательства на работе — это преступление"}},
		Descriptions: []hub.Text{{Role: "summary", ContentType: "text/plain", Value: "Куда обратиться"}},
		Bodies:       []hub.Text{{ContentType: "text/html", Value: "<p>…</p>"}},
		Subjects:     []hub.Subject{{Name: "#korgau123", URI: "https://example.org/tags/korgau123", Code: "k", Rel: "about"}},
		Places:       []hub.Place{{Name: "Алматы", Code: "KZ-75"}},
		By:           "Dobrye Vesti", CopyrightNotice: "© Dobrye Vesti", UsageTerms: "Free to republish with credit",
		ContentWarning: "Describes harassment.", Anonymized: true, Translations: []string{"01JD3Z8Q4VJ5K6XW0M2N7P9RSX"},
		Assets: []hub.Asset{asset, bare},
	}
	empty := &hub.Package{
		ID: "01JD3Z8Q4VJ5K6XW0M2N7P9RSY", Campaign: "korgau123", Language: "kk", Version: 1, Status: hub.StatusDraft,
		FirstCreated: now, VersionCreated: now,
	}
	expires := now.Add(24 * time.Hour)
	key := keyView{ID: "01JD3Z8Q4VJ5K6XW0M2N7P9RSZ", Name: "KORGAU123 team", Role: hub.RoleProducer,
		Campaigns: []string{"korgau123"}, Expires: &expires, Created: now, Prefix: "hub_Xk3v9Q"}
	created := key
	created.Key = "hub_Xk3v9Qexample"
	items := []ninjs.Item{ninjs.FromPackage(base, full), ninjs.FromPackage(base, empty)}
	released := full.Clone()
	released.Status, released.Embargo, released.Version = hub.StatusReleased, nil, 1
	withdrawn := released.Clone()
	withdrawn.Status = hub.StatusWithdrawn
	tombstone := full.Tombstone()
	entry := func(seq uint64, event hub.Event, p *hub.Package) releaseEntry {
		return releaseEntry{
			Cursor: strconv.FormatUint(seq, 10), Event: event, ID: hub.Announcement{Event: event, Version: p.Version}.ID(p.ID),
			Time: now.Format(time.RFC3339Nano), Campaign: p.Campaign, Language: p.Language,
			Package: json.RawMessage(openapiJSON(t, ninjs.FromPackage(base, p))),
		}
	}
	log := releaseLog{Items: []releaseEntry{
		entry(1, hub.EventReleased, released), entry(2, hub.EventWithdrawn, withdrawn), entry(5, hub.EventPurged, tombstone),
	}, Next: "5"}
	campaign := viewCampaign(&hub.Campaign{Slug: "korgau123", Name: "KORGAU123", Visibility: hub.VisibilityPartners,
		Hashtags: []string{"#korgau123"}, Created: now})
	partner := viewPartner(&hub.Partner{ID: "01JD3Z8Q4VJ5K6XW0M2N7P9RSZ", Name: "Regional TV newsroom", Region: "Almaty region",
		Medium: hub.MediumTV, Languages: []string{"kk", "ru"}, Campaigns: []string{"korgau123"}, Active: true, Created: now})
	natsExpires := now.Add(90 * 24 * time.Hour)
	nats := natsAccess{URL: "nats://hub.example.org:4222", User: "01JD3Z8Q4VJ5K6XW0M2N7P9RT1", Credential: hub.NATSCredentialKey, Expires: &natsExpires,
		Stream: "HUB_RELEASES", Consumer: "partner-01JD3Z8Q4VJ5K6XW0M2N7P9RSZ", InboxPrefix: "_INBOX_partner-01JD3Z8Q4VJ5K6XW0M2N7P9RSZ",
		Subjects: []string{"hub.releases.korgau123.>"}}
	webhook := viewWebhook(&hub.Webhook{ID: "01JD3Z8Q4VJ5K6XW0M2N7P9RT0", Partner: partner.ID, URL: "https://newsroom.example.kz/hooks/syndication",
		Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw6rs8AzdkObE=", Active: true, Created: now})
	secret, err := hub.NewWebhookSecret()
	if err != nil {
		t.Fatal(err)
	}
	newWebhook := webhook
	newWebhook.Secret = secret
	msgID := hub.Announcement{Event: hub.EventReleased, Version: 1}.ID(full.ID)
	deadLetter := deadLetterView{Webhook: webhook.ID, MessageID: msgID, Campaign: "korgau123", Sequence: 1043,
		Attempts: 8, LastStatus: 502, LastError: "the endpoint answered 502 Bad Gateway", Failed: now}

	tests := []struct {
		name, schema string
		value        any
	}{
		{"package with everything", "Item", ninjs.FromPackage(base, full)},
		{"empty draft", "Item", ninjs.FromPackage(base, empty)},
		{"asset with caption", "Association", ninjs.FromAsset(base, full.ID, &asset)},
		{"bare asset", "Association", ninjs.FromAsset(base, full.ID, &bare)},
		{"list page", "PackageList", packageList{Items: items, Next: empty.ID}},
		{"last list page", "PackageList", packageList{Items: []ninjs.Item{}}},
		{"search page", "SearchResults", searchResults{Items: []searchResult{{ID: full.ID, Headline: "Домогательства", Language: "ru",
			Campaign: "korgau123", Status: hub.StatusReleased, Score: 1.5, Snippets: []searchSnippet{{Field: "headline", HTML: "<mark>Домогательства</mark>"}}}}, Next: "20"}},
		{"empty search page", "SearchResults", searchResults{Items: []searchResult{}}},
		{"form upload", "AssetsUploaded", assetsUploaded{Assets: []ninjs.Association{ninjs.FromAsset(base, full.ID, &asset)}}},
		{"released", "Item", ninjs.FromPackage(base, released)},
		{"withdrawn", "Item", ninjs.FromPackage(base, withdrawn)},
		{"tombstone", "Item", ninjs.FromPackage(base, tombstone)},
		{"strict package with everything", "StrictItem", ninjs.StrictFromPackage(base, full)},
		{"strict empty draft", "StrictItem", ninjs.StrictFromPackage(base, empty)},
		{"strict released", "StrictItem", ninjs.StrictFromPackage(base, released)},
		{"strict withdrawn", "StrictItem", ninjs.StrictFromPackage(base, withdrawn)},
		{"strict tombstone", "StrictItem", ninjs.StrictFromPackage(base, tombstone)},
		{"change log", "ReleaseLog", log},
		{"empty change log", "ReleaseLog", releaseLog{Items: []releaseEntry{}, Next: "0"}},
		{"campaign", "Campaign", campaign},
		{"campaign with defaults", "Campaign", viewCampaign(hub.NewCampaign("korgau123", now))},
		{"campaigns", "CampaignList", struct {
			Items []campaignView `json:"items"`
		}{[]campaignView{campaign}}},
		{"partner", "Partner", partner},
		{"bare partner", "Partner", viewPartner(&hub.Partner{ID: "01JD3Z8Q4VJ5K6XW0M2N7P9RSZ", Name: "x", Medium: hub.MediumOnline, Created: now})},
		{"partners", "PartnerList", struct {
			Items []partnerView `json:"items"`
		}{[]partnerView{partner}}},
		{"NATS access", "NATSAccess", nats},
		{"NATS access on an external cluster", "NATSAccess", natsAccess{URL: nats.URL, Stream: nats.Stream, Consumer: nats.Consumer,
			InboxPrefix: nats.InboxPrefix, Subjects: nats.Subjects}},
		{"webhook", "Webhook", webhook},
		{"new webhook", "WebhookCreated", newWebhook},
		{"webhooks", "WebhookList", struct {
			Items []webhookView `json:"items"`
		}{[]webhookView{webhook}}},
		{"dead letter", "DeadLetter", deadLetter},
		{"dead letter without an answer", "DeadLetter", deadLetterView{Webhook: webhook.ID, MessageID: msgID, Campaign: "korgau123",
			Sequence: 1, Attempts: 8, LastError: "dial tcp: i/o timeout", Failed: now}},
		{"dead letters", "DeadLetterList", struct {
			Items []deadLetterView `json:"items"`
		}{[]deadLetterView{deadLetter}}},
		{"replay", "Replay", replayView{MessageID: msgID, Status: http.StatusNoContent}},
		{"feed token", "FeedToken", feedTokenView{Token: "hubfeed_Xk3v9QxP0aLrT7mWcE2nYb8JdF4sHq6uVz1gKoN5tRi",
			RSS:  base + "/feeds/p/hubfeed_Xk3v9QxP0aLrT7mWcE2nYb8JdF4sHq6uVz1gKoN5tRi/releases.rss",
			Atom: base + "/feeds/p/hubfeed_Xk3v9QxP0aLrT7mWcE2nYb8JdF4sHq6uVz1gKoN5tRi/releases.atom",
			JSON: base + "/feeds/p/hubfeed_Xk3v9QxP0aLrT7mWcE2nYb8JdF4sHq6uVz1gKoN5tRi/releases.json"}},
		{"key", "Key", key},
		{"new key", "KeyCreated", created},
		{"confirmed takedown", "Takedown", viewTakedown(&hub.TakedownOutlet{Partner: partner.ID, PickedUp: true, Confirmed: &now,
			Key: key.ID, Via: hub.TakedownViaPull}, "")},
		{"takedowns", "TakedownList", takedownsView{Package: full.ID, Campaign: "korgau123", Version: 1, Event: hub.EventPurged,
			Withdrawn: &now, Purged: &embargo, Expected: 2, Unconfirmed: 1, Outlets: []takedownView{
				viewTakedown(&hub.TakedownOutlet{Partner: "01JD3Z8Q4VJ5K6XW0M2N7P9RT3"}, "Osh FM"),
				viewTakedown(&hub.TakedownOutlet{Partner: partner.ID, Confirmed: &now, Key: key.ID, Via: hub.TakedownViaAPI}, partner.Name),
			}}},
		{"no takedowns", "TakedownList", takedownsView{Package: full.ID, Campaign: "korgau123", Version: 1, Event: hub.EventWithdrawn,
			Withdrawn: &now, Outlets: []takedownView{}}},
		{"not found", "Problem", problemFor(hub.Errorf(hub.ENOTFOUND, "there is no package %q", "x"), "/v1/packages/x")},
		{"internal", "Problem", problemFor(errors.New("boom"), "/v1/packages")},
		{"canceled", "Problem", problemFor(hub.Errorf(hub.ECANCELED, "gone"), "/v1/packages/x/assets/y")},
		{"echo 405", "Problem", problemFor(echo.ErrMethodNotAllowed, "/v1/packages")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := schemas[tt.schema]
			if ref == nil {
				t.Fatalf("no schema %s", tt.schema)
			}
			text := openapiJSON(t, tt.value)
			if err := openapiVisit(ref.Value, text); err != nil {
				t.Errorf("%s does not match %s: %v\n%s", tt.name, tt.schema, err, text)
			}
		})
	}
	// A key as listed never carries its secret; a new one always does.
	if openapiVisit(schemas["KeyCreated"].Value, openapiJSON(t, key)) == nil {
		t.Error("KeyCreated accepts a key without its secret")
	}
	// Likewise a webhook's signing secret.
	if openapiVisit(schemas["WebhookCreated"].Value, openapiJSON(t, webhook)) == nil {
		t.Error("WebhookCreated accepts a webhook without its secret")
	}
}

// TestOpenAPIAnswersWithoutAPickupLog: a service that records no pickups
// (as a hub embedding the API without the pickup stream would) answers
// the pickup and reach routes 503, as documented. The whole hub, pickups
// and all, is TestOpenAPIArchivePickupAndReachAnswers (openapi_answers_test.go);
// this is the API alone over the domain, on the in-memory catalog.
func TestOpenAPIAnswersWithoutAPickupLog(t *testing.T) {
	ops := openapiOperations(openapiLoad(t))
	ctx := context.Background()
	blobs, err := disk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := hub.NewService(memory.New(), blobs, hub.ServiceOptions{})
	withoutLog := New(svc, Options{PublicURL: "https://hub.example.org"})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	adminSecret, err := svc.EnsureAdminKey(ctx, "")
	must(err)
	admin, err := svc.Authenticate(ctx, adminSecret)
	must(err)
	_, producerSecret, err := svc.CreateKey(ctx, admin, hub.Key{Name: "KORGAU123 team", Role: hub.RoleProducer})
	must(err)
	partner, err := svc.CreatePartner(ctx, admin, &hub.Partner{Name: "Almaty TV", Region: "Almaty region", Medium: hub.MediumTV, Active: true})
	must(err)
	_, partnerSecret, err := svc.CreateKey(ctx, admin, hub.Key{Name: "Almaty TV", Role: hub.RolePartner, Partner: partner.ID})
	must(err)
	released, err := svc.CreatePackage(ctx, admin, &hub.Package{Campaign: "korgau123", Language: "ru",
		Headlines: []hub.Text{{Value: "Домогательства на работе — это преступление"}}})
	must(err)
	poster := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00poster")
	_, _, err = svc.PutAsset(ctx, admin, released.ID, hub.AssetUpload{Name: "poster.png", Body: bytes.NewReader(poster), Size: int64(len(poster))})
	must(err)
	_, err = svc.Release(ctx, admin, released.ID, nil)
	must(err)
	published := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	for _, c := range []struct{ op, path, key, body string }{
		{"POST /v1/packages/{id}/republications", "/v1/packages/" + released.ID + "/republications", partnerSecret,
			`{"url": "https://almaty.tv/news/12345", "published": "` + published + `"}`},
		{"GET /v1/packages/{id}/pickups", "/v1/packages/" + released.ID + "/pickups", producerSecret, ""},
		{"GET /v1/campaigns/{slug}/reach", "/v1/campaigns/korgau123/reach", producerSecret, ""},
	} {
		method, _, _ := strings.Cut(c.op, " ")
		var r io.Reader
		if c.body != "" {
			r = strings.NewReader(c.body)
		}
		req := httptest.NewRequest(method, c.path, r)
		req.Header.Set("Authorization", "Bearer "+c.key)
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		withoutLog.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("%s answered %d without a pickup log, want 503: %s", c.op, rec.Code, rec.Body)
			continue
		}
		openapiCheckAnswer(t, ops[c.op], c.op, rec)
	}
}

// openapiCheckAnswer holds an answer to what the document says of op.
func openapiCheckAnswer(t *testing.T, op *openapi3.Operation, name string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if op == nil {
		t.Fatalf("%s is not in openapi.json", name)
	}
	ref := op.Responses.Value(strconv.Itoa(rec.Code))
	if ref == nil {
		t.Fatalf("%s answered %d, which is not documented", name, rec.Code)
	}
	resp := ref.Value
	for header, h := range resp.Headers {
		v := rec.Header().Get(header)
		if v == "" {
			t.Errorf("%s %d: the documented header %s was not sent", name, rec.Code, header)
			continue
		}
		if h.Value.Schema == nil {
			continue
		}
		s := h.Value.Schema.Value
		text := strconv.Quote(v)
		if s.Type.Is(openapi3.TypeInteger) {
			text = v
		}
		if err := openapiVisit(s, text); err != nil {
			t.Errorf("%s %d: header %s: %s does not match its schema: %v", name, rec.Code, header, v, err)
		}
	}
	if strings.HasPrefix(name, http.MethodHead+" ") {
		if rec.Body.Len() != 0 {
			t.Errorf("%s %d has a body", name, rec.Code)
		}
		return
	}
	ct := rec.Header().Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		t.Fatalf("%s %d: Content-Type %q: %v", name, rec.Code, ct, err)
	}
	media := resp.Content.Get(mt)
	if media == nil {
		t.Fatalf("%s %d: Content-Type %s is not documented", name, rec.Code, mt)
	}
	if mt == "application/json" || strings.HasSuffix(mt, "+json") {
		if err := openapiVisit(media.Schema.Value, rec.Body.String()); err != nil {
			t.Errorf("%s %d does not match its schema: %v\n%s", name, rec.Code, err, rec.Body)
		}
	}
}
