package pull

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
)

// StateDir is where `hub pull` keeps its state inside the destination:
// state.json (the change-log cursor and what is mirrored), partial/
// (downloads under way and files about to be moved into place) and lock.
// It is on the same file system as the package folders, so moving a
// finished file into place is a rename.
const StateDir = ".hub-pull"

// State is what `hub pull` remembers between runs.
type State struct {
	// Hub is the hub this destination mirrors.
	Hub string `json:"hub"`
	// Cursor is the change-log position everything up to which has been
	// mirrored (the release stream's sequence).
	Cursor string `json:"cursor,omitempty"`
	// Packages are the packages mirrored, by id.
	Packages map[string]*PackageState `json:"packages"`
	// Failed are the packages that could not be mirrored, by id, tried
	// again at every poll, after every announcement received over NATS,
	// and on the next run.
	Failed map[string]*Failure `json:"failed,omitempty"`
}

// PackageState is one package as it is mirrored.
type PackageState struct {
	Campaign string `json:"campaign"`
	Language string `json:"language"`
	// Dir is the package's folder, relative to the destination.
	Dir     string `json:"dir"`
	Version int    `json:"version"`
	// Status is "released", "withdrawn" or "purged".
	Status string `json:"status"`
	// Files are the assets in Dir, by asset name.
	Files map[string]FileState `json:"files,omitempty"`
	// Installing is the version being moved into place; set before the
	// first rename, so a run that stopped midway does not move the new
	// version's files aside as if they were the old one's.
	Installing int       `json:"installing,omitempty"`
	Mirrored   time.Time `json:"mirrored"`
	// TakedownConfirmed is when the hub recorded this agent's
	// confirmation that a withdrawn or purged package's files are gone;
	// nil until then (see confirmTakedowns).
	TakedownConfirmed *time.Time `json:"takedownconfirmed,omitempty"`
	// TakedownRefused is why the hub refused the confirmation for good (a
	// key without a partner record, an outlet the notice was not for);
	// it is not sent again.
	TakedownRefused string `json:"takedownrefused,omitempty"`
}

// owesTakedown reports whether hub pull has yet to confirm that it took
// the package down: it mirrored the package here (Dir), and its status
// became withdrawn or purged, which is saved only once the files are
// removed and the folder synced.
func (ps *PackageState) owesTakedown() bool {
	return ps.Dir != "" && (ps.Status == "withdrawn" || ps.Status == "purged") &&
		ps.TakedownConfirmed == nil && ps.TakedownRefused == ""
}

// FileState is one mirrored asset file.
type FileState struct {
	// Local is the file's name in the package folder.
	Local  string `json:"local"`
	SHA256 string `json:"sha256"`
	Size   int64  `json:"size"`
}

// Package folder contents that are not assets: package.json is the
// package as the hub sent it (its profile), ninjs.json the same in the
// strict ninjs form, for newsroom systems that validate against IPTC's
// schema.
const (
	SidecarName       = "package.json"
	StrictSidecarName = ninjs.StrictFileName
	NoticeName        = "WITHDRAWN.txt"
	VersionsName      = ".versions"
)

func (p *Puller) statePath() string  { return filepath.Join(p.dest, StateDir, "state.json") }
func (p *Puller) partialDir() string { return filepath.Join(p.dest, StateDir, "partial") }

func (p *Puller) loadState() error {
	b, err := p.fs.ReadFile(p.statePath())
	if errors.Is(err, fs.ErrNotExist) {
		p.state = &State{Hub: p.client.BaseURL(), Packages: map[string]*PackageState{}}
		return nil
	} else if err != nil {
		return fmt.Errorf("read the state of %s: %w", p.dest, err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("the state file %s is damaged (%v); move it away to mirror everything again", p.statePath(), err)
	}
	if s.Hub != p.client.BaseURL() {
		return fmt.Errorf("%s mirrors the hub at %s, not %s; use another destination folder", p.dest, s.Hub, p.client.BaseURL())
	}
	if s.Packages == nil {
		s.Packages = map[string]*PackageState{}
	}
	p.state = &s
	return nil
}

// saveState replaces the state file whole (write a temporary file, sync,
// rename, sync the folder), so a crash or a full disk leaves the previous
// state intact.
func (p *Puller) saveState() error {
	b, err := json.MarshalIndent(p.state, "", "  ")
	if err != nil {
		return err
	}
	if err := p.writeFileAtomic(p.statePath(), append(b, '\n')); err != nil {
		return p.destError("save the state", err)
	}
	return nil
}

// writeFileAtomic writes b to path through a temporary file in the
// partial folder: watch-folder software never sees a half-written file,
// and a failure leaves what was at path untouched.
func (p *Puller) writeFileAtomic(path string, b []byte) error {
	tmp := filepath.Join(p.partialDir(), "tmp-"+filepath.Base(path)+"-"+randomSuffix())
	f, err := p.fs.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = p.fs.Rename(tmp, path)
	}
	if err != nil {
		p.fs.Remove(tmp)
		return err
	}
	return p.fs.SyncDir(filepath.Dir(path))
}

// destError explains a failure to write into the destination; a full
// disk is said in so many words.
func (p *Puller) destError(doing string, err error) error {
	if isDiskFull(err) {
		return fmt.Errorf("%s: the destination %s is full (%w); free some space and run hub pull again: it resumes where it stopped, and nothing half-written was moved into place", doing, p.dest, err)
	}
	return fmt.Errorf("%s in %s: %w", doing, p.dest, err)
}

// safeName checks one path component that came from the hub (a campaign,
// a language, an id). The hub refuses separators, control characters and
// dot names already; this is a second line of defence against anything
// that would land outside the destination, or in hub pull's own state
// folder (a campaign named ".hub-pull").
func safeName(s string) error {
	switch {
	case s == "" || s == "." || s == "..":
		return fmt.Errorf("%q is not a name", s)
	case !utf8.ValidString(s):
		return fmt.Errorf("%q is not valid UTF-8", s)
	case strings.ContainsAny(s, `/\`) || strings.ContainsRune(s, filepath.Separator):
		return fmt.Errorf("%q contains a path separator", s)
	case strings.ContainsFunc(s, unicode.IsControl):
		return fmt.Errorf("%q contains a control character", s)
	case strings.HasPrefix(s, "."):
		return fmt.Errorf("%q starts with a dot: hub pull keeps its own state in such names", s)
	case !filepath.IsLocal(s):
		return fmt.Errorf("%q is not a plain file name here", s)
	}
	return nil
}

// localNames are the file names a package's assets get in its folder
// (by the hub's own rule, hub.FileNames): valid on every system and
// distinct even where names differ only in case, never one the folder
// uses itself (the sidecars, the notice), nor a hidden name such as
// .versions or one of the state folder's: those get a leading underscore.
func localNames(assets []string) []string {
	names := make([]string, len(assets))
	for i, a := range assets {
		names[i] = a
		if strings.HasPrefix(a, ".") || strings.HasPrefix(a, "_") ||
			strings.EqualFold(a, SidecarName) || strings.EqualFold(a, StrictSidecarName) || strings.EqualFold(a, NoticeName) {
			names[i] = "_" + a
		}
	}
	return hub.FileNames(names, SidecarName, StrictSidecarName, NoticeName)
}

// packageDir returns a package's folder, relative to the destination:
// <campaign>/<language>/<id>.
func packageDir(campaign, language, id string) (string, error) {
	for _, part := range []string{campaign, language, id} {
		if err := safeName(part); err != nil {
			return "", fmt.Errorf("package folder: %w", err)
		}
	}
	return filepath.Join(campaign, language, id), nil
}
