package ninjs_test

import (
	"encoding/json"
	"maps"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
	"github.com/syndication-hub/hub/hub/ninjs/ninjstest"
)

const base = "https://hub.example.org"

// packages are one of each kind of package document the hub sends: a
// scheduled package with every field, an empty draft, a released one, a
// withdrawn one and a purged tombstone.
func packages() map[string]*hub.Package {
	now := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	embargo := now.Add(48 * time.Hour)
	poster := hub.Asset{
		Name: "Плакат кампании.png", Type: hub.AssetPicture, ContentType: "image/png", Size: 482113,
		SHA256: "293b9207228b7854bc3ccb2959ebea1583e066d41983124a5b381d6fdf6575f8", BlobKey: "01JD3Z8Q4VJ5K6XW0M2N7P9RSV",
		Caption: "Плакат", Credit: "Dobrye Vesti", Language: "ru", Primary: true, Uploaded: now,
	}
	video := hub.Asset{
		Name: "interview.mxf", Type: hub.AssetVideo, ContentType: "application/mxf", Size: 5 << 30,
		SHA256: "02540942346fdfbf21a94f8b823af2ae315f20cb71721c2cc6e205097d560840", BlobKey: "01JD3Z8Q4VJ5K6XW0M2N7P9RSW", Uploaded: now,
	}
	captions := hub.Asset{
		Name: "interview.kk.vtt", Type: hub.AssetText, ContentType: "text/vtt", Size: 2048, Language: "kk", Captions: video.Name,
		SHA256: "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4", BlobKey: "01JD3Z8Q4VJ5K6XW0M2N7P9RSZ", Uploaded: now,
	}
	full := &hub.Package{
		ID: "01JD3Z8Q4VJ5K6XW0M2N7P9RST", Campaign: "korgau123", Language: "ru", Version: 2, Status: hub.StatusScheduled,
		FirstCreated: now.Add(-time.Hour), VersionCreated: now, Embargo: &embargo,
		Headlines:    []hub.Text{{Value: "Домогательства на работе — это преступление"}},
		Descriptions: []hub.Text{{Role: "summary", ContentType: "text/plain", Value: "Куда обратиться"}},
		Bodies:       []hub.Text{{ContentType: "text/html", Value: "<p>…</p>"}},
		Subjects: []hub.Subject{
			{Name: "#korgau123", URI: "https://example.org/tags/korgau123", Code: "k", Rel: "about"},
			{Name: "harassment", URI: "not a uri"},
		},
		Places: []hub.Place{{Name: "Алматы", Code: "KZ-75"}, {URI: "https://www.geonames.org/1526384"}},
		By:     "Dobrye Vesti", CopyrightNotice: "© Dobrye Vesti", UsageTerms: "Free to republish with credit",
		ContentWarning: "Describes harassment.", Anonymized: true, Translations: []string{"01JD3Z8Q4VJ5K6XW0M2N7P9RSX"},
		Assets: []hub.Asset{poster, video, captions},
	}
	draft := &hub.Package{
		ID: "01JD3Z8Q4VJ5K6XW0M2N7P9RSY", Campaign: "korgau123", Language: "kk", Version: 1, Status: hub.StatusDraft,
		FirstCreated: now, VersionCreated: now,
	}
	released := full.Clone()
	released.Status, released.Embargo, released.Version = hub.StatusReleased, nil, 1
	withdrawn := released.Clone()
	withdrawn.Status = hub.StatusWithdrawn
	tombstone := &hub.Package{
		ID: released.ID, Campaign: released.Campaign, Language: released.Language, Version: 1, Status: hub.StatusPurged,
		FirstCreated: released.FirstCreated, VersionCreated: now.Add(time.Hour),
	}
	return map[string]*hub.Package{"scheduled with everything": full, "empty draft": draft, "released": released,
		"withdrawn": withdrawn, "purged tombstone": tombstone}
}

func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProfileDocumentsMatchTheProfileSchema(t *testing.T) {
	profile := ninjstest.Profile(t)
	for name, p := range packages() {
		t.Run(name, func(t *testing.T) {
			profile.Assert(t, "the profile document", marshal(t, ninjs.FromPackage(base, p)))
		})
	}
}

// TestProfileSchemaIsClosed checks the schema refuses what the hub never
// sends, so that it describes the documents rather than anything.
func TestProfileSchemaIsClosed(t *testing.T) {
	profile := ninjstest.Profile(t)
	doc := func(edit func(m map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(marshal(t, ninjs.FromPackage(base, packages()["released"])), &m); err != nil {
			t.Fatal(err)
		}
		edit(m)
		return marshal(t, m)
	}
	association := func(m map[string]any) map[string]any { return m["associations"].([]any)[0].(map[string]any) }
	tests := map[string]func(m map[string]any){
		"an unknown field":                    func(m map[string]any) { m["urgency"] = 3 },
		"no standard":                         func(m map[string]any) { delete(m, "standard") },
		"another standard":                    func(m map[string]any) { m["standard"] = ninjs.StrictStandard() },
		"no id":                               func(m map[string]any) { delete(m, "id") },
		"an unknown status":                   func(m map[string]any) { m["status"] = "archived" },
		"an unknown association field":        func(m map[string]any) { association(m)["width"] = 10 },
		"an association without its sha256":   func(m map[string]any) { delete(association(m), "sha256") },
		"an unknown rendition field":          func(m map[string]any) { association(m)["renditions"].([]any)[0].(map[string]any)["digest"] = "x" },
		"a relative asset uri":                func(m map[string]any) { association(m)["uri"] = "/v1/packages/x/assets/y" },
		"an unknown subject field":            func(m map[string]any) { m["subjects"].([]any)[0].(map[string]any)["literal"] = "x" },
		"an empty headline":                   func(m map[string]any) { m["headlines"] = []any{map[string]any{"value": ""}} },
		"a version that is not a number":      func(m map[string]any) { m["version"] = "v1" },
		"a versioncreated that is not a time": func(m map[string]any) { m["versioncreated"] = "yesterday" },
	}
	for name, edit := range tests {
		t.Run(name, func(t *testing.T) {
			if err := profile.Check(doc(edit)); err == nil {
				t.Error("the profile schema accepts it")
			}
		})
	}
}

// jsonNames are the JSON names of a struct type's fields.
func jsonNames(typ reflect.Type) []string {
	var names []string
	for f := range typ.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "-" && f.IsExported() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// TestProfileSchemaListsWhatTheTypesWrite compares each object of the
// profile schema (its ninjs part and the hub's part together) with the
// Go type that writes it, so that a field added to one and not the other
// fails here.
func TestProfileSchemaListsWhatTheTypesWrite(t *testing.T) {
	var schema struct {
		Defs map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(ninjs.ProfileSchema(), &schema); err != nil {
		t.Fatal(err)
	}
	for def, typ := range map[string]any{
		"item": ninjs.Item{}, "association": ninjs.Association{}, "rendition": ninjs.Rendition{},
		"subject": hub.Subject{}, "place": hub.Place{}, "text": hub.Text{}, "standard": ninjs.Standard{},
	} {
		t.Run(def, func(t *testing.T) {
			var names []string
			for _, d := range []string{def, "ninjs-" + def} {
				for n := range schema.Defs[d].Properties {
					names = append(names, n)
				}
			}
			slices.Sort(names)
			if want := jsonNames(reflect.TypeOf(typ)); !slices.Equal(names, want) {
				t.Errorf("the schema lists %v, the Go type writes %v", names, want)
			}
		})
	}
}

func TestStrictDocumentsHaveOnlyNinjsFields(t *testing.T) {
	for name, p := range packages() {
		t.Run(name, func(t *testing.T) {
			doc := marshal(t, ninjs.StrictFromPackage(base, p))
			if err := ninjstest.StrictNames(doc); err != nil {
				t.Errorf("%v\n%s", err, doc)
			}
		})
	}
	// The check itself finds a hub field, and a name ninjs does not have.
	for _, leak := range []string{`{"uri": "x", "campaign": "korgau123"}`, `{"uri": "x", "associations": [{"sha256": "x"}]}`,
		`{"uri": "x", "subjects": [{"code": "k"}]}`, `{"uri": "x", "foo": 1}`} {
		if ninjstest.StrictNames([]byte(leak)) == nil {
			t.Errorf("StrictNames accepts %s", leak)
		}
	}
}

func TestStrictDocumentsMatchIPTCSchema(t *testing.T) {
	iptc := ninjstest.Strict(t)
	for name, p := range packages() {
		t.Run(name, func(t *testing.T) {
			iptc.Assert(t, "the strict document", marshal(t, ninjs.StrictFromPackage(base, p)))
		})
	}
	// And the profile is what IPTC's schema refuses: the reason for the
	// strict form.
	if iptc.Check(marshal(t, ninjs.FromPackage(base, packages()["released"]))) == nil {
		t.Error("IPTC's schema accepts the profile document; is the schema file ninjs 2.2?")
	}
}

// TestProfileNinjsPartIsNinjs checks every property the profile schema
// files under ninjs is one IPTC's schema has, in the same place.
func TestProfileNinjsPartIsNinjs(t *testing.T) {
	ninjstest.Strict(t) // skips without the file
	path, _ := ninjstest.StrictPath(t)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var iptc map[string]any
	if err := json.Unmarshal(b, &iptc); err != nil {
		t.Fatal(err)
	}
	// resolve follows a local $ref, as IPTC's schema versions differ in
	// which parts they define once under $defs.
	var resolve func(v any) map[string]any
	resolve = func(v any) map[string]any {
		o, _ := v.(map[string]any)
		if ref, ok := o["$ref"].(string); ok && strings.HasPrefix(ref, "#/$defs/") {
			defs, _ := iptc["$defs"].(map[string]any)
			merged := maps.Clone(resolve(defs[strings.TrimPrefix(ref, "#/$defs/")]))
			for k, v := range o {
				if k != "$ref" {
					merged[k] = v
				}
			}
			return merged
		}
		return o
	}
	// props returns the properties of the objects named under parent,
	// looking into the items of an array (or, in a draft of 2.2, of the
	// items' items).
	props := func(parent map[string]any, name string) map[string]any {
		o := resolve(parent[name])
		for items, ok := o["items"]; ok; items, ok = o["items"] {
			o = resolve(items)
		}
		p, _ := o["properties"].(map[string]any)
		return p
	}
	top := props(resolve(iptc["$defs"]), "ninjsType")
	// An association is a ninjs object with a name of its own.
	association := maps.Clone(top)
	maps.Copy(association, props(top, "associations"))
	theirs := map[string]map[string]any{
		"ninjs-item": top, "ninjs-association": association, "ninjs-rendition": props(top, "renditions"),
		"ninjs-subject": props(top, "subjects"), "ninjs-place": props(top, "places"), "text": props(top, "headlines"),
		"standard": props(top, "standard"),
	}
	var ours struct {
		Defs map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(ninjs.ProfileSchema(), &ours); err != nil {
		t.Fatal(err)
	}
	for def, want := range theirs {
		if len(want) == 0 {
			t.Fatalf("IPTC's schema has no properties for %s; is it ninjs 2.2?", def)
		}
		for name := range ours.Defs[def].Properties {
			if _, ok := want[name]; !ok {
				t.Errorf("the profile schema lists %q in %s, which ninjs 2.2 does not have there", name, def)
			}
		}
	}
}

// TestStrictCarriesWhatNinjsHasAFieldFor pins where each fact goes in the
// strict form.
func TestStrictCarriesWhatNinjsHasAFieldFor(t *testing.T) {
	ps := packages()
	s := ninjs.StrictFromPackage(base, ps["scheduled with everything"])
	if s.Standard != ninjs.StrictStandard() || s.Type != "composite" || s.PubStatus != "withheld" || s.Embargoed == nil {
		t.Errorf("standard %+v, type %q, pubstatus %q, embargoed %v", s.Standard, s.Type, s.PubStatus, s.Embargoed)
	}
	if s.URI != base+"/v1/packages/01JD3Z8Q4VJ5K6XW0M2N7P9RST" || s.Version != "2" || s.Language != "ru" {
		t.Errorf("uri %q, version %q, language %q", s.URI, s.Version, s.Language)
	}
	if s.EdNote != "Content warning: Describes harassment." {
		t.Errorf("ednote %q", s.EdNote)
	}
	wantSubjects := []ninjs.StrictConcept{
		{Name: "#korgau123", Rel: "about", URI: "https://example.org/tags/korgau123", Literal: "k"},
		{Name: "harassment", Literal: "not a uri"},
	}
	if !slices.Equal(s.Subjects, wantSubjects) {
		t.Errorf("subjects %+v", s.Subjects)
	}
	if want := []ninjs.StrictConcept{{Name: "Алматы", Literal: "KZ-75"}, {URI: "https://www.geonames.org/1526384"}}; !slices.Equal(s.Places, want) {
		t.Errorf("places %+v", s.Places)
	}
	if len(s.Associations) != 3 {
		t.Fatalf("associations %+v", s.Associations)
	}
	a := s.Associations[0]
	if a.Name != "Плакат кампании.png" || a.Type != "picture" || a.By != "Dobrye Vesti" || a.Language != "ru" ||
		!slices.Equal(a.Descriptions, []hub.Text{{Role: "caption", Value: "Плакат"}}) {
		t.Errorf("association %+v", a)
	}
	want := ninjs.StrictRendition{Name: "original", Href: a.URI, ContentType: "image/png", SizeInBytes: 482113}
	if !slices.Equal(a.Renditions, []ninjs.StrictRendition{want}) {
		t.Errorf("renditions %+v", a.Renditions)
	}
	if r := s.Associations[1].Renditions[0]; r.SizeInBytes != 5<<30 {
		t.Errorf("a 5 GiB rendition has sizeinbytes %d", r.SizeInBytes)
	}
	// The caption file is a rendition of the video it captions, and an
	// association of its own.
	vtt := s.Associations[2]
	want = ninjs.StrictRendition{Name: "captions-interview.kk.vtt", Href: vtt.URI, ContentType: "text/vtt", SizeInBytes: 2048}
	if r := s.Associations[1].Renditions; len(r) != 2 || r[1] != want {
		t.Errorf("the video's renditions %+v, want the original and %+v", r, want)
	}
	if s := ninjs.StrictFromPackage(base, ps["withdrawn"]); s.PubStatus != "canceled" || s.Embargoed != nil {
		t.Errorf("withdrawn: pubstatus %q, embargoed %v", s.PubStatus, s.Embargoed)
	}
	// hub pull makes it from what it received: the same document.
	var received ninjs.Item
	if err := json.Unmarshal(marshal(t, ninjs.FromPackage(base, ps["released"])), &received); err != nil {
		t.Fatal(err)
	}
	if got, want := marshal(t, ninjs.Strict(received)), marshal(t, ninjs.StrictFromPackage(base, ps["released"])); string(got) != string(want) {
		t.Errorf("from the received profile document:\n%s\nfrom the package:\n%s", got, want)
	}
}

func TestProfileDocumentsNameTheProfile(t *testing.T) {
	it := ninjs.FromPackage(base, packages()["empty draft"])
	if it.Standard.Schema != ninjs.ProfileSchemaURL || it.Standard.Name != ninjs.ProfileName || it.Standard.Version != ninjs.ProfileVersion {
		t.Errorf("standard %+v", it.Standard)
	}
	var schema struct {
		ID string `json:"$id"`
	}
	if err := json.Unmarshal(ninjs.ProfileSchema(), &schema); err != nil || schema.ID != ninjs.ProfileSchemaURL {
		t.Errorf("the schema's $id is %q (%v), documents name %q", schema.ID, err, ninjs.ProfileSchemaURL)
	}
}
