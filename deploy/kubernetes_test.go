package deploy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// kubernetesVersion is the Kubernetes release the manifests are checked
// against: the oldest minor release still maintained when this was
// written (1.35, 1.36 and 1.37 were), so a manifest valid here uses no
// field a maintained cluster lacks.
const kubernetesVersion = "v1.35.4"

// kubeconformModule is the kubeconform .ci/install-tools builds.
const kubeconformModule = "github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0"

var updateSchemas = flag.Bool("update-schemas", false,
	"regenerate kubernetes/schemas/ for the kinds the manifests use, from the OpenAPI document of k8s.io/kubernetes@"+kubernetesVersion+" (go mod download fetches it)")

// schemaDir holds the JSON schemas kubeconform validates against, one
// directory per Kubernetes version laid out as
// github.com/yannh/kubernetes-json-schema lays them out (its
// <version>-standalone-strict/<kind>-<group>-<version>.json), so that
// kubeconform's usual -schema-location template finds them and a file
// from that repository can replace one of ours.
const schemaDir = "kubernetes/schemas"

// manifest is one document of a YAML file under kubernetes/.
type manifest struct {
	file string
	doc  map[string]any
}

func (m manifest) apiVersion() string { s, _ := m.doc["apiVersion"].(string); return s }
func (m manifest) kind() string       { s, _ := m.doc["kind"].(string); return s }
func (m manifest) name() string {
	meta, _ := m.doc["metadata"].(map[string]any)
	s, _ := meta["name"].(string)
	return s
}

// readManifests reads every document of kubernetes/*.yaml.
func readManifests(t *testing.T) []manifest {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in kubernetes/: %v", err)
	}
	var out []manifest
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var doc map[string]any
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if doc != nil {
				out = append(out, manifest{file: f, doc: doc})
			}
		}
	}
	return out
}

// notAPIKinds are kinds of the manifests no Kubernetes API server serves,
// so kubeconform has no schema for them and skips them: kustomize's own
// file, which `kubectl apply -k` reads and never sends.
// TestKustomization checks it instead.
var notAPIKinds = []string{"Kustomization"}

// TestKubernetesManifests runs kubeconform -strict over kubernetes/*.yaml
// against the vendored schemas of kubernetesVersion: unknown fields (a
// misspelt or misplaced key), wrong types and missing required fields
// fail, as the API server would refuse them. No network: a kind without
// a vendored schema fails too (-update-schemas adds it).
func TestKubernetesManifests(t *testing.T) {
	manifests := readManifests(t)
	if *updateSchemas {
		generateSchemas(t, manifests)
	}
	files := map[string]bool{}
	want := 0
	for _, m := range manifests {
		files[m.file] = true
		if !slices.Contains(notAPIKinds, m.kind()) {
			want++
		}
	}
	result := kubeconform(t, slices.Sorted(maps.Keys(files))...)
	for _, r := range result.Resources {
		t.Errorf("%s: %s %s: %s: %s", r.Filename, r.Kind, r.Name, r.Status, r.Msg)
	}
	if result.Summary.Valid != want {
		t.Errorf("kubeconform found %d valid resources of %d: %+v", result.Summary.Valid, want, result.Summary)
	}
}

// kubeconformResult is kubeconform's JSON output: the resources that are
// not valid, and the counts.
type kubeconformResult struct {
	Resources []struct{ Filename, Kind, Name, Status, Msg string }
	Summary   struct{ Valid, Invalid, Errors, Skipped int }
}

// kubeconform validates files strictly against the schemas in schemaDir.
func kubeconform(t *testing.T, files ...string) kubeconformResult {
	t.Helper()
	bin := tool(t, "kubeconform", "run .ci/install-tools, or GOBIN=$HOME/.cache/hub-tools/bin go install "+kubeconformModule)
	args := []string{
		"-strict", "-summary", "-output", "json",
		"-kubernetes-version", strings.TrimPrefix(kubernetesVersion, "v"),
		"-schema-location", mustAbs(schemaDir) + "/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json",
		"-skip", strings.Join(notAPIKinds, ","),
	}
	cmd := exec.Command(bin, append(args, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var result kubeconformResult
	if jerr := json.Unmarshal(out, &result); jerr != nil {
		t.Fatalf("kubeconform: %v, output: %v\n%s%s", err, jerr, out, stderr.Bytes())
	}
	if err != nil && len(result.Resources) == 0 {
		t.Fatalf("kubeconform: %v\n%s%s", err, out, stderr.Bytes())
	}
	return result
}

// TestKubeconformRefuses keeps the manifest check honest: with the
// vendored schemas, kubeconform refuses a misspelt field, a misplaced one,
// a wrong type and a kind it has no schema for.
func TestKubeconformRefuses(t *testing.T) {
	b, err := os.ReadFile("kubernetes/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"misspelt field", "  replicas: 2", "  replica: 2", "additional properties 'replica' not allowed"},
		{"misplaced field", "          imagePullPolicy: IfNotPresent", "          imagePullPolicy: IfNotPresent\n          fsGroup: 10001", "additional properties 'fsGroup' not allowed"},
		{"wrong type", "  replicas: 2", "  replicas: two", "replicas"},
		{"unknown kind", "kind: Deployment", "kind: Deploymnt", "could not find schema for Deploymnt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spoilt := strings.Replace(string(b), tc.old, tc.new, 1)
			if spoilt == string(b) {
				t.Fatalf("deployment.yaml has no %q", tc.old)
			}
			path := filepath.Join(t.TempDir(), "deployment.yaml")
			if err := os.WriteFile(path, []byte(spoilt), 0o644); err != nil {
				t.Fatal(err)
			}
			result := kubeconform(t, path)
			if len(result.Resources) != 1 || !strings.Contains(result.Resources[0].Msg, tc.want) {
				t.Errorf("kubeconform: %+v, want one resource refused with %q", result, tc.want)
			}
		})
	}
}

// TestKubernetesSettings: the hub's settings in the example ConfigMap,
// the example Secret and the Deployment's own env are ones `hub serve`
// knows, with values it accepts, and the Deployment reads the ConfigMap
// and Secret by their names.
func TestKubernetesSettings(t *testing.T) {
	env := map[string]string{}
	var deployment map[string]any
	byName := map[string]string{} // ConfigMap/Secret name -> kind
	for _, m := range readManifests(t) {
		switch m.kind() {
		case "ConfigMap", "Secret":
			byName[m.name()] = m.kind()
			for _, field := range []string{"data", "stringData"} {
				data, _ := m.doc[field].(map[string]any)
				for k, v := range data {
					env[k] = fmt.Sprint(v)
				}
			}
		case "Deployment":
			deployment = m.doc
		}
	}
	if deployment == nil {
		t.Fatal("no Deployment in kubernetes/")
	}
	container := dig(deployment, "spec", "template", "spec", "containers", 0)
	for _, e := range asList(dig(container, "env")) {
		e, _ := e.(map[string]any)
		name, _ := e["name"].(string)
		if v, ok := e["value"].(string); ok {
			env[name] = v
		}
	}
	for _, from := range asList(dig(container, "envFrom")) {
		for field, kind := range map[string]string{"configMapRef": "ConfigMap", "secretRef": "Secret"} {
			name, _ := dig(from, field, "name").(string)
			if name != "" && byName[name] != kind {
				t.Errorf("the Deployment reads %s %s, which no example manifest defines", kind, name)
			}
		}
	}
	if err := checkHubEnv(env); err != nil {
		t.Errorf("the hub's settings in kubernetes/: %v", err)
	}
}

// TestKustomization: kustomization.yaml lists files that exist, and every
// manifest but the examples (which an operator copies and fills in).
func TestKustomization(t *testing.T) {
	b, err := os.ReadFile("kubernetes/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k struct{ Resources []string }
	if err := yaml.Unmarshal(b, &k); err != nil {
		t.Fatal(err)
	}
	for _, r := range k.Resources {
		if _, err := os.Stat(filepath.Join("kubernetes", r)); err != nil {
			t.Errorf("kustomization.yaml: %v", err)
		}
	}
	for _, m := range readManifests(t) {
		base := filepath.Base(m.file)
		if slices.Contains(notAPIKinds, m.kind()) || strings.Contains(base, ".example.") {
			continue
		}
		if !slices.Contains(k.Resources, base) {
			t.Errorf("kustomization.yaml does not list %s (%s %s)", base, m.kind(), m.name())
		}
	}
}

// dig walks maps by key and lists by index; nil where the path ends.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[p]
		case int:
			l, _ := v.([]any)
			if p >= len(l) {
				return nil
			}
			v = l[p]
		}
	}
	return v
}

func asList(v any) []any { l, _ := v.([]any); return l }

// generateSchemas writes, for each kind the manifests use, the schema
// github.com/yannh/kubernetes-json-schema has for it under
// <version>-standalone-strict/, made the same way its build does
// (openapi2jsonschema --expanded --kubernetes --stand-alone --strict) from
// the same document, api/openapi-spec/swagger.json of the Kubernetes
// release: references inlined, apiVersion and kind limited to the
// resource's, no property beyond those listed, optional fields nullable,
// int-or-string and quantities as either.
func generateSchemas(t *testing.T, manifests []manifest) {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", "k8s.io/kubernetes@"+kubernetesVersion).Output()
	var mod struct{ Dir, Error string }
	if jerr := json.Unmarshal(out, &mod); err != nil || jerr != nil || mod.Error != "" {
		t.Fatalf("go mod download k8s.io/kubernetes@%s: %v %v %s", kubernetesVersion, err, jerr, mod.Error)
	}
	f, err := os.Open(filepath.Join(mod.Dir, "api", "openapi-spec", "swagger.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.UseNumber()
	var spec struct{ Definitions map[string]any }
	if err := dec.Decode(&spec); err != nil {
		t.Fatalf("swagger.json: %v", err)
	}
	defs := spec.Definitions
	// Most tools take a number where the API wants one of these, so the
	// schemas do too.
	defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] = map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
	defs["io.k8s.apimachinery.pkg.api.resource.Quantity"] = map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}
	byGVK := map[string]string{} // apiVersion/kind -> definition
	for name, d := range defs {
		d, _ := d.(map[string]any)
		props, _ := d["properties"].(map[string]any)
		for _, x := range asList(d["x-kubernetes-group-version-kind"]) {
			x, _ := x.(map[string]any)
			group, version, kind := x["group"].(string), x["version"].(string), x["kind"].(string)
			apiVersion := version
			if group != "" {
				apiVersion = group + "/" + version
			}
			byGVK[apiVersion+"/"+kind] = name
			if p, ok := props["apiVersion"].(map[string]any); ok {
				appendEnum(p, apiVersion)
			}
			if p, ok := props["kind"].(map[string]any); ok {
				appendEnum(p, kind)
			}
		}
	}
	noAdditionalProperties(defs)

	dir := filepath.Join(schemaDir, kubernetesVersion+"-standalone-strict")
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, m := range manifests {
		if slices.Contains(notAPIKinds, m.kind()) {
			continue
		}
		name, ok := byGVK[m.apiVersion()+"/"+m.kind()]
		if !ok {
			t.Fatalf("%s: Kubernetes %s has no %s %s (a custom resource? its CRD's schema is not generated here)", m.file, kubernetesVersion, m.apiVersion(), m.kind())
		}
		s, err := inline(defs[name], defs, nil)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		schema := s.(map[string]any)
		schema["$schema"] = "http://json-schema.org/schema#"
		if _, ok := schema["type"]; !ok {
			schema["type"] = "object"
		}
		schema["additionalProperties"] = false
		if props, ok := schema["properties"].(map[string]any); ok {
			noAdditionalProperties(props)
			schema["properties"] = nullableOptional(replaceIntOrString(props), nil, nil, "")
		}
		// <kind>-<group's first label>-<version>.json, core without group.
		parts := strings.Split(name, ".")
		file := strings.ToLower(parts[len(parts)-1])
		if group := parts[len(parts)-3]; group != "core" && group != "api" {
			file += "-" + group
		}
		file += "-" + parts[len(parts)-2] + ".json"
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(schema); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, file), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%s)", filepath.Join(dir, file), name)
	}
}

func appendEnum(p map[string]any, v string) {
	enum, _ := p["enum"].([]any)
	if !slices.Contains(enum, any(v)) {
		p["enum"] = append(enum, v)
	}
}

// noAdditionalProperties forbids properties beyond those listed in every
// object below v that lists some and says nothing of others, as kubectl's
// own validation did.
func noAdditionalProperties(v any) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	for _, child := range m {
		if c, ok := child.(map[string]any); ok {
			if _, has := c["properties"]; has {
				if _, set := c["additionalProperties"]; !set {
					c["additionalProperties"] = false
				}
			}
			noAdditionalProperties(c)
		}
	}
}

// inline replaces every {"$ref": "#/definitions/X"} below v with a copy
// of X, itself inlined; stack holds the definitions being inlined, to
// refuse a recursive one.
func inline(v any, defs map[string]any, stack []string) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			name := strings.TrimPrefix(ref, "#/definitions/")
			if slices.Contains(stack, name) {
				return nil, fmt.Errorf("%s refers to itself through %v", name, stack)
			}
			d, ok := defs[name]
			if !ok {
				return nil, fmt.Errorf("no definition %s", ref)
			}
			return inline(d, defs, append(stack, name))
		}
		out := make(map[string]any, len(v))
		for k, c := range v {
			ic, err := inline(c, defs, stack)
			if err != nil {
				return nil, err
			}
			out[k] = ic
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, c := range v {
			ic, err := inline(c, defs, stack)
			if err != nil {
				return nil, err
			}
			out[i] = ic
		}
		return out, nil
	}
	return v, nil
}

// replaceIntOrString turns a schema of format int-or-string below v into
// one taking either.
func replaceIntOrString(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, c := range v {
			if cm, ok := c.(map[string]any); ok && cm["format"] == "int-or-string" {
				out[k] = map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
				continue
			}
			out[k] = replaceIntOrString(c)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, c := range v {
			out[i] = replaceIntOrString(c)
		}
		return out
	}
	return v
}

// nullableOptional lets every field null that its object does not
// require: a "type": T of a schema below v becomes [T, "null"] unless the
// schema is a property its object lists as required. It walks as
// openapi2jsonschema's allow_null_optional_fields does, parent and
// grandparent included, so the result is the same file.
func nullableOptional(v, parent, grandParent any, key string) any {
	switch data := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(data))
		for k, c := range data {
			switch c := c.(type) {
			case map[string]any:
				out[k] = nullableOptional(c, data, parent, k)
			case []any:
				l := make([]any, len(c))
				for i, x := range c {
					l[i] = nullableOptional(x, c, parent, k)
				}
				out[k] = l
			case string:
				out[k] = c
				if k == "type" && c != "null" && !requires(grandParent, key) {
					out[k] = []any{c, "null"}
				}
			default:
				out[k] = c
			}
		}
		return out
	}
	return v
}

// requires reports whether schema lists key among its required
// properties.
func requires(schema any, key string) bool {
	m, ok := schema.(map[string]any)
	if !ok {
		return false
	}
	return slices.Contains(asList(m["required"]), any(key))
}
