// Package push is the producer's side of `hub push DIR`: a folder whose
// manifest describes a campaign package in one or more languages becomes
// one package per language on the hub, linked through translations.
// Pushing again updates those packages, uploading only the files whose
// bytes changed, and can release them or schedule them for an embargo.
package push

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/syndication-hub/hub/hub"
)

// ManifestNames are the manifest files looked for in a folder, in order.
var ManifestNames = []string{"hub.yaml", "hub.yml", "hub.json"}

// Manifest describes a campaign package: what all its languages share,
// and each language's texts and files.
type Manifest struct {
	Campaign        string   `yaml:"campaign" json:"campaign"`
	By              string   `yaml:"by" json:"by"`
	CopyrightNotice string   `yaml:"copyrightnotice" json:"copyrightnotice"`
	UsageTerms      string   `yaml:"usageterms" json:"usageterms"`
	ContentWarning  string   `yaml:"contentwarning" json:"contentwarning"`
	Anonymized      bool     `yaml:"anonymized" json:"anonymized"`
	Subjects        []string `yaml:"subjects" json:"subjects"`
	Places          []string `yaml:"places" json:"places"`
	// Assets are the files every language's package carries (a poster
	// without text, a video with its own subtitles).
	Assets []AssetSpec `yaml:"assets" json:"assets"`
	// Languages maps a BCP 47 tag ("kk", "ky", "ru", "en") to that
	// language's package.
	Languages map[string]LanguageSpec `yaml:"languages" json:"languages"`
}

// LanguageSpec is one language's package.
type LanguageSpec struct {
	Headline    string      `yaml:"headline" json:"headline"`
	Description string      `yaml:"description" json:"description"`
	Body        string      `yaml:"body" json:"body"`
	Assets      []AssetSpec `yaml:"assets" json:"assets"`
}

// AssetSpec names a file of the folder as an asset.
type AssetSpec struct {
	// File is the path of the file, relative to the folder.
	File string `yaml:"file" json:"file"`
	// Name is the asset's name on the hub; the file's base name when "".
	Name     string `yaml:"name" json:"name"`
	Type     string `yaml:"type" json:"type"`
	Caption  string `yaml:"caption" json:"caption"`
	Credit   string `yaml:"credit" json:"credit"`
	Language string `yaml:"language" json:"language"`
	Primary  bool   `yaml:"primary" json:"primary"`
}

// Plan is a manifest checked against its folder: every file found and
// hashed, one package per language, ready to push.
type Plan struct {
	Dir      string
	Manifest string // the manifest's path
	Campaign string
	Packages []PlannedPackage // sorted by language
}

// PlannedPackage is what one language's package should be.
type PlannedPackage struct {
	Language string
	Fields   Fields
	Assets   []PlannedAsset
}

// PlannedAsset is a file with its hash, as it should be on the hub.
type PlannedAsset struct {
	AssetSpec
	Path   string // absolute
	Size   int64
	SHA256 string
}

// ManifestError lists everything wrong with a manifest and its folder, so
// a producer fixes it all in one go; nothing has been sent when it is
// returned.
type ManifestError struct {
	Manifest string
	Problems []string
}

func (e *ManifestError) Error() string {
	if len(e.Problems) == 1 {
		return e.Manifest + ": " + e.Problems[0]
	}
	return e.Manifest + ":\n  - " + strings.Join(e.Problems, "\n  - ")
}

// FindManifest returns the manifest in dir.
func FindManifest(dir string) (string, error) {
	var found []string
	for _, n := range ManifestNames {
		p := filepath.Join(dir, n)
		if _, err := os.Stat(p); err == nil {
			found = append(found, p)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("look for a manifest: %w", err)
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%s has no manifest: write %s describing the package (see `hub push --help`)", dir, strings.Join(ManifestNames, " or "))
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("%s has %d manifests (%s): keep one", dir, len(found), strings.Join(found, ", "))
}

// ParseManifest reads a manifest strictly: an unknown field, a duplicate
// key or a value of the wrong kind is an error naming its line. Files
// ending in .json are JSON, all others YAML.
func ParseManifest(name string, b []byte) (*Manifest, error) {
	var m Manifest
	if strings.EqualFold(filepath.Ext(name), ".json") {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return nil, &ManifestError{Manifest: name, Problems: []string{jsonProblem(b, dec.InputOffset(), err)}}
		}
		if _, err := dec.Token(); !errors.Is(err, io.EOF) {
			return nil, &ManifestError{Manifest: name, Problems: []string{"data after the JSON object"}}
		}
		return &m, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &ManifestError{Manifest: name, Problems: []string{"the manifest is empty"}}
		}
		return nil, &ManifestError{Manifest: name, Problems: yamlProblems(err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, &ManifestError{Manifest: name, Problems: []string{"the manifest holds more than one YAML document"}}
	}
	return &m, nil
}

// sections names the manifest's structs as a producer knows them, with
// the fields each takes, for messages about unknown fields.
var sections = map[string]string{
	"Manifest":     "the top level (campaign, by, copyrightnotice, usageterms, contentwarning, anonymized, subjects, places, assets, languages)",
	"LanguageSpec": "a language (headline, description, body, assets)",
	"AssetSpec":    "an asset (file, name, type, caption, credit, language, primary)",
}

var yamlUnknownField = regexp.MustCompile(`^line (\d+): field (.+) not found in type push\.(\w+)$`)

func yamlProblems(err error) []string {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	out := make([]string, 0, len(te.Errors))
	for _, e := range te.Errors {
		if m := yamlUnknownField.FindStringSubmatch(e); m != nil {
			out = append(out, fmt.Sprintf("line %s: unknown field %q in %s", m[1], m[2], sections[m[3]]))
			continue
		}
		out = append(out, strings.ReplaceAll(e, "push.", ""))
	}
	return out
}

func jsonProblem(b []byte, offset int64, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		offset = syn.Offset
	case errors.As(err, &typ):
		offset = typ.Offset
	}
	offset = min(offset, int64(len(b)))
	// The decoder stops after the unknown field's value; the line to show
	// is the field's own.
	if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if i := bytes.LastIndex(b[:offset], []byte(f)); i >= 0 {
			offset = int64(i)
		}
	}
	line := 1 + bytes.Count(b[:offset], []byte("\n"))
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if f, ok := strings.CutPrefix(msg, "unknown field "); ok {
		msg = "unknown field " + f + " (see `hub push --help` for the fields)"
	}
	return "line " + strconv.Itoa(line) + ": " + msg
}

// Fields are the package fields a manifest sets, in the shape the hub
// stores them, so they compare with what the hub has.
type Fields struct {
	Campaign        string
	Language        string
	Headlines       []hub.Text
	Descriptions    []hub.Text
	Bodies          []hub.Text
	Subjects        []hub.Subject
	Places          []hub.Place
	By              string
	CopyrightNotice string
	UsageTerms      string
	ContentWarning  string
	Anonymized      bool
	Translations    []string
}

func texts(s string) []hub.Text {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return []hub.Text{{Value: s}}
}

// Check validates m against dir and hashes every file it names. All
// problems are reported together; headlines are required when the
// packages are to be released.
func Check(dir, manifestPath string, m *Manifest, release bool) (*Plan, error) {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if m.Campaign == "" {
		add("campaign is required: the slug of the campaign, such as \"korgau123\"")
	} else if !hub.ValidCampaign(m.Campaign) {
		add("campaign %q is not a slug: use lowercase letters, digits and dashes", m.Campaign)
	}
	if len(m.Languages) == 0 {
		add("languages is required: at least one language with its headline, such as \"ru: {headline: ...}\"")
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("folder %s: %w", dir, err)
	}
	plan := &Plan{Dir: absDir, Manifest: manifestPath, Campaign: m.Campaign}
	files := map[string]*PlannedAsset{} // by file, so each is hashed once
	asset := func(where string, a AssetSpec) (PlannedAsset, bool) {
		ok := true
		if a.File == "" {
			add("%s: file is required", where)
			return PlannedAsset{}, false
		}
		rel := filepath.FromSlash(a.File)
		if !filepath.IsLocal(rel) {
			add("%s: file %q must be a path inside the folder", where, a.File)
			return PlannedAsset{}, false
		}
		if a.Name == "" {
			a.Name = filepath.Base(rel)
		}
		if err := hub.ValidAssetName(a.Name); err != nil {
			add("%s: %s", where, hub.ErrorMessage(err))
			ok = false
		}
		if a.Type != "" {
			if _, err := hub.ParseAssetType(a.Type); err != nil {
				add("%s: %s", where, hub.ErrorMessage(err))
				ok = false
			}
		}
		if a.Language != "" {
			lang, err := hub.NormalizeLanguage(a.Language)
			if err != nil {
				add("%s: %s", where, hub.ErrorMessage(err))
				ok = false
			}
			a.Language = lang
		}
		p := filepath.Join(absDir, rel)
		if f, seen := files[p]; seen {
			return PlannedAsset{AssetSpec: a, Path: p, Size: f.Size, SHA256: f.SHA256}, ok && f.SHA256 != ""
		}
		files[p] = &PlannedAsset{}
		fi, err := os.Stat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			add("%s: file %q does not exist in %s", where, a.File, absDir)
			return PlannedAsset{}, false
		case err != nil:
			add("%s: file %q: %v", where, a.File, err)
			return PlannedAsset{}, false
		case !fi.Mode().IsRegular():
			add("%s: %q is not a regular file", where, a.File)
			return PlannedAsset{}, false
		case fi.Size() == 0:
			add("%s: file %q is empty", where, a.File)
			return PlannedAsset{}, false
		}
		sum, err := hashFile(p)
		if err != nil {
			add("%s: %v", where, err)
			return PlannedAsset{}, false
		}
		files[p] = &PlannedAsset{Size: fi.Size(), SHA256: sum}
		return PlannedAsset{AssetSpec: a, Path: p, Size: fi.Size(), SHA256: sum}, ok
	}
	var shared []PlannedAsset
	for i, a := range m.Assets {
		if pa, ok := asset(fmt.Sprintf("assets[%d]", i), a); ok {
			shared = append(shared, pa)
		}
	}
	var subjects []hub.Subject
	for _, s := range m.Subjects {
		subjects = append(subjects, hub.Subject{Name: s})
	}
	var places []hub.Place
	for _, s := range m.Places {
		places = append(places, hub.Place{Name: s})
	}
	seen := map[string]string{}
	for _, tag := range sortedKeys(m.Languages) {
		spec := m.Languages[tag]
		lang, err := hub.NormalizeLanguage(tag)
		if err != nil {
			add("languages: %s", hub.ErrorMessage(err))
			continue
		}
		if other, dup := seen[lang]; dup {
			add("languages: %q and %q are the same language", other, tag)
			continue
		}
		seen[lang] = tag
		if release && strings.TrimSpace(spec.Headline) == "" {
			add("languages.%s: a headline is required to release", tag)
		}
		pp := PlannedPackage{Language: lang, Fields: Fields{
			Campaign: m.Campaign, Language: lang, Headlines: texts(spec.Headline), Descriptions: texts(spec.Description),
			Bodies: texts(spec.Body), Subjects: subjects, Places: places, By: m.By, CopyrightNotice: m.CopyrightNotice,
			UsageTerms: m.UsageTerms, ContentWarning: m.ContentWarning, Anonymized: m.Anonymized,
		}}
		pp.Assets = append(pp.Assets, shared...)
		for i, a := range spec.Assets {
			if pa, ok := asset(fmt.Sprintf("languages.%s.assets[%d]", tag, i), a); ok {
				pp.Assets = append(pp.Assets, pa)
			}
		}
		names, primaries := map[string]bool{}, 0
		for _, a := range pp.Assets {
			if names[a.Name] {
				add("languages.%s: two assets are named %q; give one a name", tag, a.Name)
			}
			names[a.Name] = true
			if a.Primary {
				primaries++
			}
		}
		if primaries > 1 {
			add("languages.%s: %d assets are marked primary; a package has one", tag, primaries)
		}
		plan.Packages = append(plan.Packages, pp)
	}
	if len(problems) > 0 {
		return nil, &ManifestError{Manifest: manifestPath, Problems: problems}
	}
	return plan, nil
}

// Load finds, parses and checks the manifest of dir (or the one at
// manifestPath when it is not "").
func Load(dir, manifestPath string, release bool) (*Plan, error) {
	if manifestPath == "" {
		var err error
		if manifestPath, err = FindManifest(dir); err != nil {
			return nil, err
		}
	}
	b, err := os.ReadFile(manifestPath)
	if err != nil {
		return nil, fmt.Errorf("read the manifest: %w", err)
	}
	m, err := ParseManifest(manifestPath, b)
	if err != nil {
		return nil, err
	}
	return Check(dir, manifestPath, m, release)
}

func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
