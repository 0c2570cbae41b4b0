// Package ninjstest validates the hub's package documents in tests: the
// profile against the hub's own schema (embedded in hub/ninjs), the strict
// form against IPTC's ninjs 2.2 schema. The api, pull and feeds tests all
// use it, so every path that sends a document is held to the same schema
// by the same validator.
//
// IPTC's schema is not in the repository (its licence is not the hub's,
// and it is IPTC's to publish). The strict tests read it from the file
// HUB_NINJS_SCHEMA names, else from shared/iptc/ninjs-schema_2.2.json
// beside the repository (../shared/iptc from the repository root), and skip
// when it is not there. StrictNames holds the strict form to the profile
// schema's ninjs part, so that no hub field reaches it even then.
package ninjstest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/syndication-hub/hub/hub/ninjs"
)

// SchemaEnv names the file of IPTC's ninjs 2.2 schema, when set.
const SchemaEnv = "HUB_NINJS_SCHEMA"

// sharedSchema is where IPTC's schema is looked for without SchemaEnv,
// relative to the repository root: the repositories sit side by side
// with shared/ under one folder.
const sharedSchema = "../shared/iptc/ninjs-schema_2.2.json"

// geoJSONSchema is the one schema IPTC's refers to (for places' geojson).
// The hub writes no geojson, so it stands in as a schema that accepts
// nothing: a document that ever carries geojson fails instead of passing
// unchecked.
const geoJSONSchema = "https://geojson.org/schema/GeoJSON.json"

// Schema is a compiled JSON Schema.
type Schema struct {
	name string
	s    *jsonschema.Schema
}

// Check validates doc, one JSON document.
func (s *Schema) Check(doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := s.s.Validate(v); err != nil {
		return fmt.Errorf("not valid against %s: %w", s.name, err)
	}
	return nil
}

// Assert fails t unless doc is valid; what says which document it is.
func (s *Schema) Assert(t testing.TB, what string, doc []byte) {
	t.Helper()
	if err := s.Check(doc); err != nil {
		t.Errorf("%s: %v\n%s", what, err, doc)
	}
}

// Profile is the hub's package profile schema, as hub/ninjs embeds it.
func Profile(t testing.TB) *Schema { t.Helper(); return ProfileDef(t, "") }

// ProfileDef is one definition of the profile schema ("jsonfeed-hub", the
// JSON Feed extension), or the whole schema for "".
func ProfileDef(t testing.TB, def string) *Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(ninjs.ProfileSchema()))
	if err != nil {
		t.Fatalf("the profile schema is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	// Formats are asserted: a consumer's validator may well do so.
	c.AssertFormat()
	if err := c.AddResource(ninjs.ProfileSchemaURL, doc); err != nil {
		t.Fatalf("the profile schema: %v", err)
	}
	loc, name := ninjs.ProfileSchemaURL, "the hub's package profile schema"
	if def != "" {
		loc, name = loc+"#/$defs/"+def, name+" ("+def+")"
	}
	s, err := c.Compile(loc)
	if err != nil {
		t.Fatalf("compile %s: %v", name, err)
	}
	return &Schema{name: name, s: s}
}

// StrictPath returns where IPTC's ninjs 2.2 schema is looked for, and
// whether SchemaEnv said so.
func StrictPath(t testing.TB) (path string, fromEnv bool) {
	t.Helper()
	if p := os.Getenv(SchemaEnv); p != "" {
		return p, true
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, filepath.FromSlash(sharedSchema)), false
}

// Strict is IPTC's ninjs 2.2 schema. The test skips when the file is not
// there (also under CI: the file cannot be committed), and fails when
// SchemaEnv names a file that is missing or no schema.
func Strict(t testing.TB) *Schema {
	t.Helper()
	path, fromEnv := StrictPath(t)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !fromEnv {
		t.Skipf("IPTC's ninjs 2.2 schema is not at %s, so the strict ninjs documents are not checked against it: "+
			"save https://www.iptc.org/std/ninjs/ninjs-schema_2.2.json there, or set %s to a copy", path, SchemaEnv)
	}
	if err != nil {
		t.Fatalf("read IPTC's ninjs 2.2 schema (%s=%q): %v", SchemaEnv, os.Getenv(SchemaEnv), err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s is not JSON: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	loc := "file://" + filepath.ToSlash(path)
	if err := c.AddResource(loc, doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if err := c.AddResource(geoJSONSchema, false); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(loc)
	if err != nil {
		t.Fatalf("compile IPTC's ninjs 2.2 schema from %s: %v", path, err)
	}
	return &Schema{name: "IPTC's ninjs 2.2 schema", s: s}
}

// AssertStrict checks a strict document both ways: against IPTC's schema
// when it is there, and by StrictNames always.
func AssertStrict(t *testing.T, what string, doc []byte) {
	t.Helper()
	if err := StrictNames(doc); err != nil {
		t.Errorf("%s: %v\n%s", what, err, doc)
	}
	t.Run("IPTC schema/"+what, func(t *testing.T) { Strict(t).Assert(t, what, doc) })
}

// repoRoot is the folder of go.mod, found upwards from the working
// directory (a test runs in its package's folder).
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", errors.New("find the repository root: no go.mod above the working directory")
		}
		dir = up
	}
}

// strictAdded are the ninjs properties the strict form fills from hub
// fields that have no ninjs property of the same name, by the object
// they appear in: each is ninjs's, as ninjs.Strict maps them.
func strictAdded(kind string) []string {
	switch kind {
	case "item":
		return []string{"ednote"} // the content warning, as a note to the newsroom
	case "subject", "place":
		return []string{"literal"} // the hub's code
	}
	return nil
}

// StrictNames checks that a strict document has only the property names
// the profile schema's ninjs part lists (plus the ninjs properties
// ninjs.Strict fills from hub fields), at every level, and none of the
// hub's own. It needs no IPTC file, so it runs everywhere.
func StrictNames(doc []byte) error {
	var profile struct {
		Defs map[string]struct {
			Properties map[string]json.RawMessage `json:"properties"`
		} `json:"$defs"`
	}
	if err := json.Unmarshal(ninjs.ProfileSchema(), &profile); err != nil {
		return fmt.Errorf("read the profile schema: %w", err)
	}
	allowed := func(kind string) (ninjsNames, hubNames []string) {
		def := kind
		if _, split := profile.Defs["ninjs-"+kind]; split {
			def = "ninjs-" + kind
			for n := range profile.Defs[kind].Properties {
				hubNames = append(hubNames, n)
			}
		}
		for n := range profile.Defs[def].Properties {
			ninjsNames = append(ninjsNames, n)
		}
		return append(ninjsNames, strictAdded(kind)...), hubNames
	}
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	// Which profile definition describes the objects under each property.
	children := map[string]string{
		"standard": "standard", "headlines": "text", "descriptions": "text", "bodies": "text",
		"subjects": "subject", "places": "place", "associations": "association", "renditions": "rendition",
	}
	var problems []string
	var walk func(kind, path string, v any)
	walk = func(kind, path string, v any) {
		switch x := v.(type) {
		case []any:
			for i, e := range x {
				walk(kind, fmt.Sprintf("%s[%d]", path, i), e)
			}
		case map[string]any:
			ninjsNames, hubNames := allowed(kind)
			for name, child := range x {
				switch {
				case slices.Contains(hubNames, name):
					problems = append(problems, fmt.Sprintf("%s has the hub's own %q", path, name))
				case !slices.Contains(ninjsNames, name):
					problems = append(problems, fmt.Sprintf("%s has %q, which the profile schema's ninjs part does not list", path, name))
				case children[name] != "":
					walk(children[name], path+"."+name, child)
				}
			}
		default:
			problems = append(problems, fmt.Sprintf("%s is not an object", path))
		}
	}
	walk("item", "$", v)
	if len(problems) > 0 {
		slices.Sort(problems)
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}
