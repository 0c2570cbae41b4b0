package server_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/syndication-hub/hub"

// goList returns, for every package of the module (tests left out), its
// direct imports and all its dependencies, as `go list -deps` sees them.
func goList(t *testing.T) (imports, deps map[string][]string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-f",
		"{{.ImportPath}}|{{join .Imports \" \"}}|{{join .Deps \" \"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports, deps = map[string][]string{}, map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		parts := strings.Split(sc.Text(), "|")
		if len(parts) != 3 {
			t.Fatalf("go list printed %q", sc.Text())
		}
		imports[parts[0]], deps[parts[0]] = strings.Fields(parts[1]), strings.Fields(parts[2])
	}
	return imports, deps
}

// TestImportRules holds the layout README describes to the code: the
// domain knows no transport or engine, feeds know no delivery, the client
// tools know no server part, and only the composition root wires the
// server's parts together.
func TestImportRules(t *testing.T) {
	imports, deps := goList(t)
	if len(imports) == 0 {
		t.Fatal("go list found no packages")
	}
	engines := []string{"github.com/labstack/echo", "github.com/minio/minio-go", "github.com/nats-io/nats.go",
		"github.com/nats-io/nats-server"}
	never := []struct {
		pkg    string
		refuse []string
		why    string
	}{
		{"hub", engines, "the domain talks to engines only through its ports"},
		{"hub/ninjs", engines, "the document formats are pure"},
		{"feeds", []string{module + "/publisher/webhooks", module + "/publisher/partners", module + "/hub/api", module + "/server"},
			"feeds render and invalidate; delivery and access are not theirs"},
		{"hubclient", []string{"github.com/labstack/echo", "github.com/minio/minio-go", "github.com/nats-io/nats-server",
			module + "/hub/catalog", module + "/server"}, "the client is what outlets and producers run"},
		{"pull", []string{"github.com/labstack/echo", "github.com/minio/minio-go", "github.com/nats-io/nats-server",
			module + "/hub/catalog", module + "/server"}, "the ingest agent runs at outlets"},
		{"push", []string{"github.com/labstack/echo", "github.com/minio/minio-go", "github.com/nats-io/nats-server",
			module + "/hub/catalog", module + "/server"}, "the upload tool runs at producers"},
	}
	for _, rule := range never {
		pkg := module + "/" + rule.pkg
		if _, ok := deps[pkg]; !ok {
			t.Errorf("package %s is gone: update this rule", pkg)
			continue
		}
		for _, d := range deps[pkg] {
			for _, r := range rule.refuse {
				if d == r || strings.HasPrefix(d, r+"/") {
					t.Errorf("%s depends on %s: %s", rule.pkg, d, rule.why)
				}
			}
		}
	}
	for _, d := range imports[module+"/hub"] {
		if strings.HasPrefix(d, module+"/") {
			t.Errorf("the domain imports %s: it imports nothing of the module, the module imports it", d)
		}
	}

	// The server's parts, and who may import them: the composition root,
	// the test kits that start a hub or a driver (for their option
	// types), and the parts that build on one another.
	wired := map[string][]string{
		"hub/api":             {"server"},
		"hub/catalog":         {"server"},
		"hub/disk":            {"server"},
		"hub/s3":              {"server", "hub/miniotest"},
		"hub/natsserver":      {"server", "hub/natstest", "hub/hubtest", "publisher/partners"},
		"publisher/releases":  {"server"},
		"publisher/partners":  {"server", "hub/hubtest"},
		"publisher/webhooks":  {"server", "hub/hubtest"},
		"publisher/pickups":   {"server"},
		"publisher/audit":     {"server"},
		"server":              {"cmd/hub", "hub/hubtest"},
		"feeds":               {"server", "hub/api"},
		"hub/ninjs/ninjstest": {},
		"hub/blobtest":        {},
		"hub/webhooktest":     {},
		"hub/catalog/memory":  {},
		"hub/catalogtest":     {},
		"publisher/wire":      {"feeds", "pull", "publisher/releases", "publisher/partners", "publisher/webhooks"},
		"publisher":           {"publisher/releases", "publisher/pickups", "publisher/audit"},
		"hub/natstest":        {},
		"hub/miniotest":       {},
		"hub/hubtest":         {},
		"cmd/hub":             {},
		"hub/ninjs":           nil, // anyone: the document formats
		"hubclient":           nil,
		"progress":            nil,
		"pull":                {"cmd/hub"},
		"push":                {"cmd/hub"},
		"hub":                 nil,
		"bench":               {},
	}
	for importer, list := range imports {
		for _, imported := range list {
			rel, ok := strings.CutPrefix(imported, module+"/")
			if !ok {
				continue
			}
			allowed, known := wired[rel]
			if !known {
				t.Errorf("%s imports %s, which this test has no rule for: add one", importer, imported)
				continue
			}
			if allowed == nil {
				continue
			}
			if !slices.Contains(allowed, strings.TrimPrefix(importer, module+"/")) {
				t.Errorf("%s imports %s; only %v may: the composition root (server) wires the parts", importer, imported, allowed)
			}
		}
	}
}
