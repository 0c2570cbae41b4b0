package server_test

import (
	"bufio"
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
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
		{"media/scrub", engines, "scrubbing reads and writes bytes, nothing else"},
		{"media/credit", engines, "crediting reads and writes bytes, nothing else"},
		{"hub/staging", engines, "staging keeps bytes on the scratch disk, nothing else"},
		{"hub/natsfault", []string{"github.com/labstack/echo", "github.com/minio/minio-go", "github.com/nats-io/nats-server",
			module + "/hub/catalog", module + "/publisher"},
			"the fault classifier reads the NATS client's errors, of no one bucket or stream"},
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
		"hub/catalog":         {"server", "hub/backup"}, // the backup reads the blob records' buckets
		"hub/backup":          {"server"},
		"hub/search":          {"server"},
		"hub/disk":            {"server"},
		"hub/scratch":         {"server"},
		"hub/staging":         {"server", "hub/api"},
		"hub/renditionqueue":  {"server"},
		"media/renditions":    {"server"},
		"media/scrub":         {"server"},
		"media/credit":        {"server"},
		"media/tools":         {"server", "media/scrub", "media/renditions"},
		"hub/s3":              {"server", "hub/miniotest"},
		"hub/natsserver":      {"server", "hub/natstest", "hub/hubtest", "publisher/partners"},
		"hub/natsfault":       {"hub/catalog", "publisher/releases", "publisher/pickups", "publisher/audit", "publisher/webhooks"}, // the one classifier of NATS faults
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
		"portal":              {"server"},
		"portal/i18n":         {"portal"},
		"portal/browsertest":  {},
		"hub/websession":      {"hub/api", "portal"}, // the session cookie and CSRF header, read by both
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

// wiring are the constructors that assemble a hub. Only the composition
// root calls them, besides the tests of the part itself and the unit
// tests named here (filepath.Match patterns), each of which builds less than
// a hub on purpose.
var wiring = map[string][]string{
	"hub/api.New": {"hub/api/openapi_test.go"}, // the API over a service without a pickup log
	"hub/catalog.Open": {
		"hub/catalog/catalog_test.go",
		"hub/catalog/settle_test.go",    // the catalog on an external NATS the test stops
		"hub/catalog/listindex_test.go", // the catalog with a document cache of one
		"hub/catalog/snapshot_test.go",  // catalogs on one bucket, each with its snapshot file
		"hub/search/search_test.go",     // the search index beside a catalog, restarted, on a recreated bucket
		"hub/search_test.go",            // the differential test of search against CanRead
	},
	"hub/search.Open":      {"hub/search/search_test.go", "hub/search_test.go"},
	"hub/natsserver.Start": {"hub/natstest/natstest.go"},
	"hub.NewService": {
		"hub/*_test.go",             // the domain's own tests, over the in-memory catalog
		"hub/api/openapi_test.go",   // the API over a service without a pickup log
		"hub/search/search_test.go", // search over a catalog and its index, nothing else
	},
	"publisher/releases.Open":         {"feeds/invalidator_test.go"}, // the invalidator against a real release stream
	"publisher/releases.NewScheduler": {},
	"publisher/partners.New":          {},
	"publisher/webhooks.New":          {},
	"publisher/pickups.Open": {
		"publisher/pickups/pickups_test.go",
		"hub/pickup_test.go", // the domain's reads of an outlet's own reports, over the real pickup log
	},
	"feeds.NewInvalidator": {"feeds/invalidator_test.go"},
	"portal.New": {
		"portal/flows_browser_test.go", // lists the routes the portal registers, to visit every page
		"portal/matrix_test.go",        // lists the routes the portal registers, to give each a row
		"portal/partner_test.go",       // the set-up page with NATS access given in turn by no one and by an operator
	},
}

// TestOnlyTheCompositionRootWires reads every Go file, tests included,
// for calls of the wiring constructors: a test that needs a hub starts
// one through server (hub/hubtest wraps it), so a new part is wired once.
func TestOnlyTheCompositionRootWires(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly|parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		// The local name of each of the module's packages this file imports.
		local := map[string]string{}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if rest, ok := strings.CutPrefix(p, module+"/"); ok {
				name := rest[strings.LastIndex(rest, "/")+1:]
				if imp.Name != nil {
					name = imp.Name.Name
				}
				local[name] = rest
			}
		}
		full, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		ast.Inspect(full, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			var callee string
			switch fun := call.Fun.(type) {
			case *ast.SelectorExpr:
				if x, ok := fun.X.(*ast.Ident); ok && local[x.Name] != "" {
					callee = local[x.Name] + "." + fun.Sel.Name
				}
			case *ast.Ident: // a call inside the constructor's own package
				callee = dir + "." + fun.Name
			}
			allowed, watched := wiring[callee]
			if !watched || dir == "server" || strings.HasPrefix(callee, dir+".") && !strings.HasSuffix(rel, "_test.go") {
				return true
			}
			calls++
			if !slices.ContainsFunc(allowed, func(pattern string) bool { ok, _ := filepath.Match(pattern, rel); return ok }) {
				t.Errorf("%s calls %s: only the composition root (server) wires a hub; start one with server.Start or hub/hubtest, or name this file in wiring with the reason", rel, callee)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 {
		t.Error("found no call of a wiring constructor outside server: the check reads nothing")
	}
}
