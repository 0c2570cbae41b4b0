package push_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/push"
)

// FuzzManifest: a push manifest is a producer's file, YAML or JSON.
// Whatever its bytes, parsing fails with a ManifestError that names at
// least one problem, or gives a manifest that survives a JSON round trip;
// checking it against a folder fails the same way, or plans packages whose
// every file lies inside the folder, with names the hub accepts, distinct
// per package, at most one primary, and languages in canonical form.
func FuzzManifest(f *testing.F) {
	for _, s := range []string{
		"campaign: korgau123\nlanguages:\n  ru:\n    headline: Домогательства на работе\n    assets: [{file: poster.png, primary: true}]\n  kk: {headline: Жұмыстағы қудалау}\nassets:\n  - file: sub/video.mp4\n    name: Видео.mp4\n",
		"campaign: korgau123\nlanguages: {ru: {assets: [{file: ../outside.png}]}}\n",
		"campaign: korgau123\nlanguages: {ru: {assets: [{file: /etc/passwd}, {file: poster.png, name: a/b}]}}\n",
		"campaign: korgau123\nlanguages: {RU: {}, ru: {}}\n", "campaign: x\nunknown: 1\n", "campaign: x\ncampaign: y\n", "---\n---\n", "",
		"campaign: [1]\n", "campaign: korgau123\nlanguages: {ru: {assets: [{file: poster.png}, {file: poster.png}]}}\n",
		"campaign: korgau123\nlanguages: {ru: {assets: [{file: sub/../poster.png, name: \"x\\u0000\"}]}}\n",
	} {
		f.Add([]byte(s), false)
	}
	for _, s := range []string{
		`{"campaign":"korgau123","languages":{"ru":{"headline":"x","assets":[{"file":"poster.png","type":"picture"}]}}}`,
		`{"campaign":"korgau123"} {}`, `{"languages":{"en-gb":{"assets":[{"file":"sub\\video.mp4"}]}}}`, `{"x":1}`, `[`,
	} {
		f.Add([]byte(s), true)
	}
	dir := f.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "poster.png"), []byte("\x89PNG\r\n\x1a\nposter"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "video.mp4"), []byte("\x00\x00\x00\x18ftypmp42video"), 0o644)
	os.WriteFile(filepath.Join(filepath.Dir(dir), "outside.png"), []byte("outside"), 0o644)
	f.Fuzz(func(t *testing.T, b []byte, asJSON bool) {
		name := filepath.Join(dir, "hub.yaml")
		if asJSON {
			name = filepath.Join(dir, "hub.json")
		}
		m, err := push.ParseManifest(name, b)
		if err != nil {
			requireProblems(t, err)
			return
		}
		j, err := json.Marshal(m)
		if err != nil {
			t.Fatalf("marshal a parsed manifest: %v", err)
		}
		back, err := push.ParseManifest("again.json", j)
		if err != nil {
			t.Fatalf("the manifest as JSON does not parse: %v\n%s", err, j)
		}
		if j2, _ := json.Marshal(back); string(j2) != string(j) {
			t.Fatalf("the JSON round trip changes the manifest:\n%s\n%s", j, j2)
		}
		plan, err := push.Check(dir, name, m, false)
		if err != nil {
			requireProblems(t, err)
			return
		}
		if !hub.ValidCampaign(plan.Campaign) {
			t.Fatalf("planned campaign %q", plan.Campaign)
		}
		langs := map[string]bool{}
		for _, p := range plan.Packages {
			if l, err := hub.NormalizeLanguage(p.Language); err != nil || l != p.Language || langs[l] {
				t.Fatalf("planned language %q (%v), twice: %v", p.Language, err, langs[l])
			}
			langs[p.Language] = true
			names, primaries := map[string]bool{}, 0
			for _, a := range p.Assets {
				rel, err := filepath.Rel(plan.Dir, a.Path)
				if err != nil || !filepath.IsLocal(rel) {
					t.Fatalf("planned file %q is outside %s", a.Path, plan.Dir)
				}
				if err := hub.ValidAssetName(a.Name); err != nil || names[a.Name] {
					t.Fatalf("planned asset name %q: %v, twice: %v", a.Name, err, names[a.Name])
				}
				names[a.Name] = true
				if a.Primary {
					primaries++
				}
				if a.Size == 0 || len(a.SHA256) != 64 {
					t.Fatalf("planned asset %+v without size or digest", a)
				}
			}
			if primaries > 1 {
				t.Fatalf("%d primaries in %s", primaries, p.Language)
			}
		}
	})
}

func requireProblems(t *testing.T, err error) {
	t.Helper()
	var me *push.ManifestError
	if !errors.As(err, &me) || len(me.Problems) == 0 {
		t.Fatalf("not a ManifestError with problems: %v", err)
	}
	for _, p := range me.Problems {
		if strings.TrimSpace(p) == "" {
			t.Fatalf("an empty problem in %q", me.Problems)
		}
	}
}
