package pull

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syndication-hub/hub/hub/ninjs"
	"github.com/syndication-hub/hub/hubclient"
)

// install mirrors a released package version: every asset downloaded and
// verified in the partial folder first, then the previous version's files
// moved aside, the new ones renamed into place, ninjs.json, and
// package.json last.
func (p *Puller) install(ctx context.Context, item *hubclient.Package) error {
	start := p.now()
	version, err := strconv.Atoi(item.Version)
	if err != nil {
		return fmt.Errorf("package %s has version %q: %w", item.ID, item.Version, err)
	}
	rel, err := packageDir(item.Campaign, item.Language, item.ID)
	if err != nil {
		return &packageError{id: item.ID, err: err}
	}
	prev := p.state.Packages[item.ID]
	files := map[string]FileState{}
	names := make([]string, len(item.Associations))
	for i, a := range item.Associations {
		names[i] = a.Name
	}
	locals := localNames(names)
	for i, a := range item.Associations {
		if !isSHA256(a.SHA256) || a.Size < 0 {
			return &packageError{id: item.ID, err: fmt.Errorf("asset %q has no valid sha256 and size; refusing it", a.Name)}
		}
		if _, dup := files[a.Name]; dup {
			return &packageError{id: item.ID, err: fmt.Errorf("two assets are named %q", a.Name)}
		}
		files[a.Name] = FileState{Local: locals[i], SHA256: a.SHA256, Size: a.Size}
	}

	// Download (or reuse) every asset before touching the folder.
	partial := map[string]string{} // sha256 -> verified partial file
	for _, a := range item.Associations {
		if _, done := partial[a.SHA256]; done {
			continue
		}
		p.reuse(prev, a, p.partialPath(item.ID, version, a.SHA256))
		path, err := p.fetch(ctx, item.ID, version, a)
		if err != nil {
			return err
		}
		partial[a.SHA256] = path
	}

	if prev == nil {
		prev = &PackageState{}
	}
	moveAside := prev.Status == "released" && prev.Installing == 0 && prev.Version > 0 && prev.Version != version
	prev.Campaign, prev.Language, prev.Dir, prev.Installing = item.Campaign, item.Language, rel, version
	p.state.Packages[item.ID] = prev
	if err := p.saveState(); err != nil {
		return err
	}
	dir := filepath.Join(p.dest, rel)
	if err := p.fs.MkdirAll(dir, 0o755); err != nil {
		return p.destError("create "+rel, err)
	}
	if moveAside {
		if err := p.moveAside(dir, prev); err != nil {
			return err
		}
	}
	// The last asset using a partial file takes it by rename; others with
	// the same bytes get a hard link, appearing whole just the same.
	uses := map[string]int{}
	for _, a := range item.Associations {
		uses[a.SHA256]++
	}
	for _, a := range item.Associations {
		target := filepath.Join(dir, files[a.Name].Local)
		src := partial[a.SHA256]
		if uses[a.SHA256]--; uses[a.SHA256] > 0 {
			p.fs.Remove(target)
			err = p.fs.Link(src, target)
		} else {
			err = p.fs.Rename(src, target)
		}
		if err != nil {
			return p.destError("move "+a.Name+" into place", err)
		}
	}
	if err := p.writeSidecars(dir, item); err != nil {
		return err
	}
	prev.Version, prev.Status, prev.Files, prev.Installing, prev.Mirrored = version, "released", files, 0, p.now().UTC()
	if err := p.saveState(); err != nil {
		return err
	}
	p.removePartials(item.ID)
	p.log.Info("mirrored", "package", item.ID, "version", version, "dir", rel, "files", len(files),
		"took", p.now().Sub(start).Round(time.Millisecond))
	return nil
}

// reuse seeds the partial file of an asset from the copy already in place
// when the previous version had the same bytes: a correction that changes
// one file downloads one file. fetch still verifies the bytes.
func (p *Puller) reuse(prev *PackageState, a ninjs.Association, partial string) {
	if prev == nil || prev.Status != "released" {
		return
	}
	for _, f := range prev.Files {
		if f.SHA256 != a.SHA256 {
			continue
		}
		if _, err := p.fs.Stat(partial); err == nil {
			return
		}
		if err := p.fs.Link(filepath.Join(p.dest, prev.Dir, f.Local), partial); err == nil {
			return
		}
	}
}

// moveAside moves the mirrored version's files to .versions/<n>/ in the
// package folder.
func (p *Puller) moveAside(dir string, prev *PackageState) error {
	aside := filepath.Join(dir, VersionsName, strconv.Itoa(prev.Version))
	if err := p.fs.MkdirAll(aside, 0o755); err != nil {
		return p.destError("keep the previous version aside", err)
	}
	names := []string{SidecarName, StrictSidecarName}
	for _, f := range prev.Files {
		names = append(names, f.Local)
	}
	for _, n := range names {
		err := p.fs.Rename(filepath.Join(dir, n), filepath.Join(aside, n))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return p.destError("keep the previous version aside", err)
		}
	}
	return nil
}

// takeDown mirrors a kill notice: the package's files (every version) are
// removed and WITHDRAWN.txt says why; package.json becomes the notice as
// the hub sent it (a tombstone after a purge), and ninjs.json the same in
// the strict form, pubstatus canceled, for systems that read only that. A
// package never mirrored here is only recorded. Once the removal is on
// disk, the hub is told (confirmTakedown): never before.
func (p *Puller) takeDown(ctx context.Context, item *hubclient.Package, ev event) error {
	version, _ := strconv.Atoi(item.Version)
	ps := p.state.Packages[item.ID]
	if ps == nil || ps.Dir == "" {
		p.state.Packages[item.ID] = &PackageState{Campaign: item.Campaign, Language: item.Language,
			Version: version, Status: item.Status, Mirrored: p.now().UTC()}
		p.removePartials(item.ID)
		return p.saveState()
	}
	dir := filepath.Join(p.dest, ps.Dir)
	for _, f := range ps.Files {
		if err := p.fs.Remove(filepath.Join(dir, f.Local)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return p.destError("remove "+f.Local+" of withdrawn package "+item.ID, err)
		}
	}
	if err := p.fs.RemoveAll(filepath.Join(dir, VersionsName)); err != nil {
		return p.destError("remove earlier versions of withdrawn package "+item.ID, err)
	}
	when := ev.Time
	if when.IsZero() {
		when = p.now()
	}
	if err := p.writeFileAtomic(filepath.Join(dir, NoticeName), notice(item, p.prevHeadline(dir, item), when)); err != nil {
		return p.destError("write the withdrawal notice of "+item.ID, err)
	}
	if err := p.writeSidecars(dir, item); err != nil {
		return err
	}
	// The sidecars' writes synced the folder, and with it the removals;
	// the confirmation below may only follow a removal a crash cannot
	// undo. Saying so once more costs one sync.
	if err := p.fs.SyncDir(dir); err != nil {
		return p.destError("sync the folder of withdrawn package "+item.ID, err)
	}
	ps.Version, ps.Status, ps.Files, ps.Installing, ps.Mirrored = max(version, ps.Version), item.Status, nil, 0, p.now().UTC()
	if err := p.saveState(); err != nil {
		return err
	}
	p.removePartials(item.ID)
	p.log.Warn("taken down: the hub sent a kill notice", "package", item.ID, "status", item.Status, "dir", ps.Dir)
	return p.confirmTakedown(ctx, item.ID)
}

// confirmTakedown tells the hub that package id's files are gone from
// here, when it is owed (see PackageState.owesTakedown), and records the
// answer. A hub that does not answer is asked again later, by
// confirmTakedowns; only a failure to save the state is returned.
func (p *Puller) confirmTakedown(ctx context.Context, id string) error {
	ps := p.state.Packages[id]
	if ps == nil || !ps.owesTakedown() {
		return nil
	}
	tk, err := p.client.ConfirmTakedown(ctx, id, "pull")
	switch status := hubclient.StatusOf(err); {
	case err == nil:
		when := p.now().UTC()
		if tk.Confirmed != nil {
			when = tk.Confirmed.UTC()
		}
		ps.TakedownConfirmed = &when
		p.log.Info("confirmed the takedown to the hub", "package", id, "confirmed", when)
	case status == http.StatusForbidden || status == http.StatusNotFound:
		// Not an outlet the notice was for, or a key of no outlet: asking
		// again changes nothing.
		ps.TakedownRefused = err.Error()
		p.log.Warn("the hub refused the takedown confirmation; not sending it again", "package", id, "err", err)
	default:
		if ctx.Err() == nil {
			p.confirmTried[id] = p.now()
			p.log.Warn("could not confirm the takedown to the hub; trying again at the next poll or run", "package", id, "err", err)
		}
		return nil
	}
	delete(p.confirmTried, id)
	return p.saveState()
}

// confirmTakedowns sends every confirmation still owed, oldest package
// id first: those whose call failed before (each at most once per
// PollInterval), and those taken down by a version of hub pull that did
// not confirm.
func (p *Puller) confirmTakedowns(ctx context.Context) error {
	ids := slices.Sorted(maps.Keys(p.state.Packages))
	for _, id := range ids {
		if ctx.Err() != nil {
			return nil
		}
		if tried, ok := p.confirmTried[id]; ok && p.now().Sub(tried) < p.opts.PollInterval {
			continue
		}
		if err := p.confirmTakedown(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// writeSidecars writes ninjs.json, the strict form made from what the hub
// sent, and then package.json, the hub's bytes as they came: package.json
// arriving still means the folder is complete.
func (p *Puller) writeSidecars(dir string, item *hubclient.Package) error {
	strict, err := json.MarshalIndent(ninjs.Strict(item.Item), "", "  ")
	if err != nil {
		return fmt.Errorf("package %s as ninjs: %w", item.ID, err)
	}
	if err := p.writeFileAtomic(filepath.Join(dir, StrictSidecarName), append(strict, '\n')); err != nil {
		return p.destError("write the ninjs sidecar of "+item.ID, err)
	}
	if err := p.writeFileAtomic(filepath.Join(dir, SidecarName), indent(item.Raw)); err != nil {
		return p.destError("write the sidecar of "+item.ID, err)
	}
	return nil
}

// prevHeadline is the headline to name in a withdrawal notice: the
// notice's own, else the one of the sidecar in place. A purge names none,
// since the person who withdrew consent may be named in it.
func (p *Puller) prevHeadline(dir string, item *hubclient.Package) string {
	if item.Status == "purged" {
		return ""
	}
	if len(item.Headlines) > 0 {
		return item.Headlines[0].Value
	}
	b, err := p.fs.ReadFile(filepath.Join(dir, SidecarName))
	if err != nil {
		return ""
	}
	var old ninjs.Item
	if json.Unmarshal(b, &old) == nil && len(old.Headlines) > 0 {
		return old.Headlines[0].Value
	}
	return ""
}

func notice(item *hubclient.Package, headline string, when time.Time) []byte {
	var b bytes.Buffer
	if item.Status == "purged" {
		b.WriteString("WITHDRAWN AND PURGED - DO NOT USE\n\n" +
			"Someone in this package withdrew their consent. The hub deleted it, and hub pull removed\n" +
			"its files from this folder. Delete every copy you made of it, wherever it is, and take\n" +
			"down anything you published from it.\n\n")
	} else {
		b.WriteString("WITHDRAWN - DO NOT USE\n\n" +
			"The producer withdrew this package (a kill notice). hub pull removed its files from this\n" +
			"folder. If you published anything from it, take it down.\n\n")
	}
	fmt.Fprintf(&b, "Package:   %s (version %s)\n", item.ID, item.Version)
	if headline != "" {
		fmt.Fprintf(&b, "Headline:  %s\n", headline)
	}
	fmt.Fprintf(&b, "Campaign:  %s\nLanguage:  %s\nWithdrawn: %s\n", item.Campaign, item.Language, when.UTC().Format(time.RFC3339))
	if item.URI != "" {
		fmt.Fprintf(&b, "Hub:       %s\n", item.URI)
	}
	return b.Bytes()
}

// removePartials deletes what is left in the partial folder for a
// package: downloads of versions that will never be needed again.
func (p *Puller) removePartials(id string) {
	entries, err := p.fs.ReadDir(p.partialDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), id+".") {
			p.fs.Remove(filepath.Join(p.partialDir(), e.Name()))
		}
	}
}

// removeTemporaries deletes temporary files a run that was killed left in
// the partial folder (partial downloads stay, to be resumed).
func (p *Puller) removeTemporaries() {
	entries, err := p.fs.ReadDir(p.partialDir())
	if err != nil {
		return
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "tmp-") {
			p.fs.Remove(filepath.Join(p.partialDir(), e.Name()))
		}
	}
}

// indent makes the sidecar readable by the people at the outlet.
func indent(raw []byte) []byte {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return raw
	}
	b.WriteByte('\n')
	return b.Bytes()
}
