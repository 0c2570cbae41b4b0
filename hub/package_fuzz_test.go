package hub_test

import (
	"encoding/json"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/syndication-hub/hub/hub"
)

// FuzzValidAssetName: asset names come from the URL path, a multipart
// file name and a push manifest. A name the hub accepts is one file name
// and no path on any system the hub writes it to (zips, `hub pull`):
// no separator, no dot segment, no control character, valid UTF-8,
// nothing a path cleaner would change, at most 255 bytes. Refusals are
// EINVALID, never anything else.
func FuzzValidAssetName(f *testing.F) {
	for _, s := range []string{
		"poster.png", "Плакат кампании.png", "../x", `..\x`, "a/b", ".", "..", " lead.png", "trail.png ", "nul\x00.png",
		"CON", "aux.txt", "C:", "dup.png", "DUP.png", "e\u0301.png", "\u202egnp.exe", "zero\u200bwidth.png", "dots...",
		"%2e%2e", "\xff\xfe", strings.Repeat("я", 128),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := hub.ValidAssetName(name)
		if err != nil {
			if hub.ErrorCode(err) != hub.EINVALID {
				t.Fatalf("ValidAssetName(%q): code %q, want EINVALID", name, hub.ErrorCode(err))
			}
			return
		}
		switch {
		case strings.ContainsAny(name, `/\`):
			t.Fatalf("accepted %q: a path separator", name)
		case name == "." || name == "..":
			t.Fatalf("accepted %q: a dot segment", name)
		case !utf8.ValidString(name):
			t.Fatalf("accepted %q: not UTF-8", name)
		case strings.ContainsFunc(name, unicode.IsControl):
			t.Fatalf("accepted %q: a control character", name)
		case len(name) > 255:
			t.Fatalf("accepted a name of %d bytes", len(name))
		case path.Clean(name) != name, filepath.Base(name) != name, !filepath.IsLocal(name):
			t.Fatalf("accepted %q, which a path cleaner changes or reads as more than one name", name)
		case strings.TrimSpace(name) != name:
			t.Fatalf("accepted %q: leading or trailing space", name)
		}
	})
}

// FuzzArchiveName: a zip's file name is made of a headline, any text a
// producer typed. It is always a single safe file name ending in .zip.
func FuzzArchiveName(f *testing.F) {
	for _, s := range []string{"Домогательства на работе — это преступление", "", "CON", "a/b\\c:d*e?f\"g<h>i|j", "\x00\x01", "...", "\xff"} {
		f.Add(s, 1)
	}
	f.Fuzz(func(t *testing.T, headline string, version int) {
		p := &hub.Package{ID: "01JD3Z8Q4VJ5K6XW0M2N7P9RST", Headlines: []hub.Text{{Value: headline}}, Version: version}
		name := hub.ArchiveName(p)
		base, ok := strings.CutSuffix(name, ".zip")
		switch {
		case !ok || base == "":
			t.Fatalf("ArchiveName(%q) = %q: not a name.zip", headline, name)
		case !utf8.ValidString(name), strings.ContainsFunc(name, unicode.IsControl), strings.ContainsAny(name, `<>:"/\|?*`):
			t.Fatalf("ArchiveName(%q) = %q: a character some file system refuses", headline, name)
		case filepath.Base(name) != name, !filepath.IsLocal(name):
			t.Fatalf("ArchiveName(%q) = %q: not one local file name", headline, name)
		}
	})
}

// FuzzPackageJSON: a package document arrives as JSON (the API's bodies
// are its fields; the catalog stores it so). Whatever decodes, Validate
// answers without panicking, with EINVALID when it refuses, and a package
// it accepts survives the JSON round trip the catalog puts it through.
func FuzzPackageJSON(f *testing.F) {
	for _, s := range []string{
		`{"campaign":"korgau123","language":"ru","headlines":[{"value":"Домогательства на работе — это преступление"}],"by":"Dobrye Vesti"}`,
		`{"campaign":"KORGAU","language":"ru"}`, `{"campaign":"a","language":"EN-gb","translations":["01JD3Z8Q4VJ5K6XW0M2N7P9RST"]}`,
		`{"campaign":"a","language":"kk-cyrl-kz","headlines":[{"value":" "}]}`, `{"campaign":"a","language":"ky","usageterms":"\u0007"}`,
		`{"campaign":"a","language":"ru","subjects":[{"code":"x","name":"y"}],"places":[{"name":"Almaty"}]}`, `[]`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p hub.Package
		if json.Unmarshal(b, &p) != nil {
			return
		}
		if err := p.Validate(); err != nil {
			if hub.ErrorCode(err) != hub.EINVALID {
				t.Fatalf("Validate: code %q, want EINVALID: %v", hub.ErrorCode(err), err)
			}
			return
		}
		if !hub.ValidCampaign(p.Campaign) {
			t.Fatalf("accepted campaign %q", p.Campaign)
		}
		if lang, err := hub.NormalizeLanguage(p.Language); err != nil || lang != p.Language {
			t.Fatalf("accepted language %q, which normalizes to %q (%v)", p.Language, lang, err)
		}
		j, err := json.Marshal(&p)
		if err != nil {
			t.Fatalf("marshal an accepted package: %v", err)
		}
		var back hub.Package
		if err := json.Unmarshal(j, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", j, err)
		}
		if err := back.Validate(); err != nil {
			t.Fatalf("the accepted package, through JSON, is refused: %v", err)
		}
		j2, _ := json.Marshal(&back)
		if !reflect.DeepEqual(j, j2) {
			t.Fatalf("the JSON round trip changes the package:\n%s\n%s", j, j2)
		}
	})
}
