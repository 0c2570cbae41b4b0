package push

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"time"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/ninjs"
	"github.com/syndication-hub/hub/hubclient"
	"github.com/syndication-hub/hub/progress"
)

// StateFile is kept in the pushed folder: the ids of the packages it
// became on each hub, so the next push updates them instead of creating
// new ones.
const StateFile = ".hub-push.json"

// Options configures a Pusher.
type Options struct {
	// Progress shows each upload; nil shows nothing.
	Progress progress.Reporter
	Logger   *slog.Logger
	// ResumableThreshold is the size from which a file is sent as a
	// resumable upload, which survives broken connections and restarts
	// of the hub; 0 is DefaultResumableThreshold, negative never.
	ResumableThreshold int64
	// ChunkSize is how much one request of a resumable upload carries;
	// 0 is DefaultChunkSize.
	ChunkSize int64
}

// Pusher pushes folders to one hub.
type Pusher struct {
	client        *hubclient.Client
	progress      progress.Reporter
	log           *slog.Logger
	resumableFrom int64 // -1: never
	tus           *resumable
}

// New returns a Pusher that acts through client.
func New(client *hubclient.Client, opts Options) *Pusher {
	p := &Pusher{client: client, progress: opts.Progress, log: opts.Logger, resumableFrom: opts.ResumableThreshold}
	switch {
	case p.resumableFrom == 0:
		p.resumableFrom = DefaultResumableThreshold
	case p.resumableFrom < 0:
		p.resumableFrom = -1
	}
	p.tus = &resumable{client: client, chunk: opts.ChunkSize, wait: sleep}
	if p.tus.chunk <= 0 {
		p.tus.chunk = DefaultChunkSize
	}
	if p.progress == nil {
		p.progress = progress.None{}
	}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	return p
}

// Request is one push.
type Request struct {
	Dir string
	// Manifest is the manifest's path; "" looks for one in Dir.
	Manifest string
	// Release releases the packages (a correction for released ones with
	// changes); Embargo schedules drafts for that time instead.
	Release bool
	Embargo *time.Time
}

// Result says what a push did, per language.
type Result struct {
	Packages []PackageResult
}

// PackageResult is what a push did to one language's package.
type PackageResult struct {
	Language string
	ID       string
	Created  bool
	// FieldsUpdated is true when the texts, credits or links changed.
	FieldsUpdated bool
	Uploaded      []string
	Unchanged     []string
	Deleted       []string
	// Released is "" when no release was asked for or needed, else what
	// happened: "released", "corrected", "scheduled", "unchanged".
	Released string
	Status   string
	Version  string
}

// state is the content of StateFile: package ids per language, per hub.
type state struct {
	Hubs map[string]*hubState `json:"hubs"`
}

type hubState struct {
	Packages map[string]string `json:"packages"` // language -> package id
	// Creating holds, per language, the Idempotency-Key of a create sent
	// but not yet answered: a push re-run after a crash sends it again
	// and gets the package the first one made, not a second.
	Creating map[string]string `json:"creating,omitempty"`
}

func loadState(dir string) (*state, error) {
	s := &state{Hubs: map[string]*hubState{}}
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	} else if err != nil {
		return nil, fmt.Errorf("read %s: %w", StateFile, err)
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("%s is damaged (%v); remove it to push as new packages", filepath.Join(dir, StateFile), err)
	}
	if s.Hubs == nil {
		s.Hubs = map[string]*hubState{}
	}
	return s, nil
}

// save writes the state whole or not at all, so an interrupted push never
// loses the ids of packages it created.
func (s *state) save(dir string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, StateFile+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", StateFile, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", StateFile, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", StateFile, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", StateFile, err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, StateFile)); err != nil {
		return fmt.Errorf("write %s: %w", StateFile, err)
	}
	return nil
}

// target is one language's package while it is being pushed.
type target struct {
	planned *PlannedPackage
	item    *hubclient.Package
	result  PackageResult
}

// Push checks the folder's manifest and files, then brings the hub's
// packages in line with them. Nothing is sent when the manifest or a file
// is wrong (a *ManifestError), or when an embargo is asked for a package
// that is already released.
func (p *Pusher) Push(ctx context.Context, req Request) (*Result, error) {
	if req.Release && req.Embargo != nil {
		return nil, errors.New("give --release or --embargo, not both")
	}
	plan, err := Load(req.Dir, req.Manifest, req.Release || req.Embargo != nil)
	if err != nil {
		return nil, err
	}
	st, err := loadState(plan.Dir)
	if err != nil {
		return nil, err
	}
	hs := st.Hubs[p.client.BaseURL()]
	if hs == nil {
		hs = &hubState{Packages: map[string]string{}}
		st.Hubs[p.client.BaseURL()] = hs
	}

	// Read what exists before changing anything, so the checks that
	// depend on the hub's state also come before the first upload.
	targets := make([]*target, len(plan.Packages))
	for i := range plan.Packages {
		t := &target{planned: &plan.Packages[i]}
		t.result.Language = t.planned.Language
		targets[i] = t
		id := hs.Packages[t.planned.Language]
		if id == "" {
			continue
		}
		item, err := p.client.Package(ctx, id)
		if hubclient.IsNotFound(err) {
			p.log.Warn("the package this folder was pushed to is gone from the hub; creating a new one", "language", t.planned.Language, "id", id)
			delete(hs.Packages, t.planned.Language)
			continue
		} else if err != nil {
			return nil, err
		}
		switch {
		case item.Status == string(hub.StatusWithdrawn) || item.Status == string(hub.StatusPurged):
			return nil, fmt.Errorf("package %s (%s) was %s and cannot change; remove %s from %s to push it as a new package",
				id, t.planned.Language, item.Status, t.planned.Language, filepath.Join(plan.Dir, StateFile))
		case req.Embargo != nil && item.Status == string(hub.StatusReleased):
			return nil, fmt.Errorf("package %s (%s) is released already; a correction goes out at once: push with --release instead of --embargo",
				id, t.planned.Language)
		}
		t.item, t.result.ID = item, id
	}
	for lang := range hs.Packages {
		if !slices.ContainsFunc(plan.Packages, func(pp PlannedPackage) bool { return pp.Language == lang }) {
			p.log.Warn("a language is no longer in the manifest; its package is left as it is", "language", lang, "id", hs.Packages[lang])
		}
	}

	for _, t := range targets {
		if t.item != nil {
			continue
		}
		f := t.planned.Fields
		// Recorded before the create goes out, so a re-run after a crash
		// reuses it whatever became of the first answer.
		if hs.Creating == nil {
			hs.Creating = map[string]string{}
		}
		key, ok := hs.Creating[t.planned.Language]
		if !ok {
			key = createKey(plan.Dir, f)
			hs.Creating[t.planned.Language] = key
			if err := st.save(plan.Dir); err != nil {
				return nil, err
			}
		}
		item, err := p.client.CreatePackageOnce(ctx, key, hubclient.PackageFields{Campaign: &f.Campaign, Language: &f.Language})
		if err != nil {
			return nil, fmt.Errorf("create the %s package: %w", t.planned.Language, err)
		}
		t.item, t.result.ID, t.result.Created = item, item.ID, true
		hs.Packages[t.planned.Language] = item.ID
		delete(hs.Creating, t.planned.Language)
		if err := st.save(plan.Dir); err != nil {
			return nil, err
		}
		p.log.Info("created", "language", t.planned.Language, "id", item.ID)
	}

	for _, t := range targets {
		for _, o := range targets {
			if o != t {
				t.planned.Fields.Translations = append(t.planned.Fields.Translations, o.result.ID)
			}
		}
		slices.Sort(t.planned.Fields.Translations)
		if err := p.syncFields(ctx, t); err != nil {
			return nil, err
		}
		if err := p.syncAssets(ctx, t); err != nil {
			return nil, err
		}
	}
	for _, t := range targets {
		if err := p.release(ctx, t, req); err != nil {
			return nil, err
		}
	}
	res := &Result{}
	for _, t := range targets {
		t.result.Status, t.result.Version = t.item.Status, t.item.Version
		res.Packages = append(res.Packages, t.result)
	}
	return res, nil
}

// fieldsOf reads the manifest-controlled fields of a package.
func fieldsOf(it *ninjs.Item) Fields {
	f := Fields{
		Campaign: it.Campaign, Language: it.Language, Headlines: it.Headlines, Descriptions: it.Descriptions,
		Bodies: it.Bodies, Subjects: it.Subjects, Places: it.Places, By: it.By, CopyrightNotice: it.CopyrightNotice,
		UsageTerms: it.UsageTerms, ContentWarning: it.ContentWarning, Anonymized: it.Anonymized,
		Translations: slices.Sorted(slices.Values(it.Translations)),
	}
	return f.normalized()
}

// normalized makes empty lists nil, so equal fields compare equal.
func (f Fields) normalized() Fields {
	if len(f.Headlines) == 0 {
		f.Headlines = nil
	}
	if len(f.Descriptions) == 0 {
		f.Descriptions = nil
	}
	if len(f.Bodies) == 0 {
		f.Bodies = nil
	}
	if len(f.Subjects) == 0 {
		f.Subjects = nil
	}
	if len(f.Places) == 0 {
		f.Places = nil
	}
	if len(f.Translations) == 0 {
		f.Translations = nil
	}
	return f
}

// syncFields patches the package when its fields differ from the
// manifest's; an unchanged package is not touched, because any edit of a
// released package starts a revision.
func (p *Pusher) syncFields(ctx context.Context, t *target) error {
	want := t.planned.Fields.normalized()
	if reflect.DeepEqual(fieldsOf(&t.item.Item), want) {
		return nil
	}
	empty := func(v []hub.Text) *[]hub.Text {
		if v == nil {
			v = []hub.Text{}
		}
		return &v
	}
	subjects, places, translations := want.Subjects, want.Places, want.Translations
	if subjects == nil {
		subjects = []hub.Subject{}
	}
	if places == nil {
		places = []hub.Place{}
	}
	if translations == nil {
		translations = []string{}
	}
	item, err := p.client.UpdatePackage(ctx, t.result.ID, hubclient.PackageFields{
		Campaign: &want.Campaign, Headlines: empty(want.Headlines), Descriptions: empty(want.Descriptions), Bodies: empty(want.Bodies),
		Subjects: &subjects, Places: &places, By: &want.By, CopyrightNotice: &want.CopyrightNotice,
		UsageTerms: &want.UsageTerms, ContentWarning: &want.ContentWarning, Anonymized: &want.Anonymized,
		Translations: &translations,
	})
	if err != nil {
		return fmt.Errorf("update the %s package: %w", t.planned.Language, err)
	}
	t.item, t.result.FieldsUpdated = item, true
	p.log.Info("updated texts and credits", "language", t.planned.Language, "id", t.result.ID)
	return nil
}

// syncAssets uploads the files whose bytes (or type) differ from the
// hub's, sets captions, credits, languages and the primary flag where
// they differ, and deletes the assets the manifest no longer names.
func (p *Pusher) syncAssets(ctx context.Context, t *target) error {
	id, lang := t.result.ID, t.planned.Language
	have := map[string]ninjs.Association{}
	for _, a := range t.item.Associations {
		have[a.Name] = a
	}
	wanted := map[string]bool{}
	for _, a := range t.planned.Assets {
		wanted[a.Name] = true
		old, exists := have[a.Name]
		if exists && receivedSHA256(old) == a.SHA256 && (a.Type == "" || a.Type == old.Type) {
			t.result.Unchanged = append(t.result.Unchanged, a.Name)
			continue
		}
		got, err := p.upload(ctx, id, a)
		if err != nil {
			return fmt.Errorf("upload %s to the %s package: %w", a.File, lang, err)
		}
		have[a.Name] = *got
		t.result.Uploaded = append(t.result.Uploaded, a.Name)
	}
	for name := range have {
		if wanted[name] {
			continue
		}
		if err := p.client.DeleteAsset(ctx, id, name); err != nil {
			return fmt.Errorf("delete %s, no longer in the manifest, from the %s package: %w", name, lang, err)
		}
		delete(have, name)
		t.result.Deleted = append(t.result.Deleted, name)
		p.log.Info("deleted", "language", lang, "asset", name)
	}
	slices.Sort(t.result.Deleted)
	// Marking one asset primary unmarks the others, so that goes last.
	var primary *PlannedAsset
	for i := range t.planned.Assets {
		a := &t.planned.Assets[i]
		old := have[a.Name]
		var f hubclient.AssetFields
		if old.Caption != a.Caption {
			f.Caption = &a.Caption
		}
		if old.Credit != a.Credit {
			f.Credit = &a.Credit
		}
		if old.Language != a.Language {
			f.Language = &a.Language
		}
		if a.Primary {
			primary = a
		} else if old.Primary {
			f.Primary = new(bool)
		}
		if f == (hubclient.AssetFields{}) {
			continue
		}
		if _, err := p.client.UpdateAsset(ctx, id, a.Name, f); err != nil {
			return fmt.Errorf("set caption, credit or language of %s in the %s package: %w", a.Name, lang, err)
		}
	}
	if primary != nil && !have[primary.Name].Primary {
		yes := true
		if _, err := p.client.UpdateAsset(ctx, id, primary.Name, hubclient.AssetFields{Primary: &yes}); err != nil {
			return fmt.Errorf("mark %s primary in the %s package: %w", primary.Name, lang, err)
		}
	}
	item, err := p.client.Package(ctx, id)
	if err != nil {
		return err
	}
	t.item = item
	return nil
}

// upload streams one file with a progress display and checks that the
// hub stored the bytes that were hashed.
func (p *Pusher) upload(ctx context.Context, id string, a PlannedAsset) (*ninjs.Association, error) {
	f, err := os.Open(a.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := p.progress.Start(a.Name, a.Size, 0)
	var got *ninjs.Association
	if p.resumableFrom >= 0 && a.Size >= p.resumableFrom {
		got, err = p.tus.upload(ctx, id, a.Name, a.Type, f, a.Size, tr)
		if errors.Is(err, errUploadGone) {
			got, err = p.storedAsset(ctx, id, a)
		}
	} else {
		got, err = p.client.PutAsset(ctx, id, a.Name, io.TeeReader(io.LimitReader(f, a.Size), tr), a.Size, a.Type)
	}
	tr.Finish(err)
	if err != nil {
		return nil, err
	}
	if r := receivedSHA256(*got); r != a.SHA256 {
		return nil, fmt.Errorf("%s changed while it was pushed (sha256 %s, the hub received %s); push again", a.File, a.SHA256, r)
	}
	return got, nil
}

// storedAsset looks for asset a in package id after its resumable
// upload vanished from the hub: stored, when the last request's answer
// was lost on the way back; else it failed, and push must send it again.
func (p *Pusher) storedAsset(ctx context.Context, id string, a PlannedAsset) (*ninjs.Association, error) {
	item, err := p.client.Package(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, got := range item.Associations {
		if got.Name == a.Name && receivedSHA256(got) == a.SHA256 {
			return &got, nil
		}
	}
	return nil, fmt.Errorf("the hub lost the resumable upload of %s before it was stored (it is removed after an idle hour, or when the hub could not store it); push again", a.File)
}

// receivedSHA256 is the digest of the bytes the hub received for an
// asset: what a local file is compared with. The hub stores them scrubbed
// of identifying metadata, and then says what it received apart from
// what it stored; a file it had nothing to remove from is stored as sent.
func receivedSHA256(a ninjs.Association) string {
	if a.Received != nil {
		return a.Received.SHA256
	}
	return a.SHA256
}

// release releases, corrects or schedules a package as asked.
func (p *Pusher) release(ctx context.Context, t *target, req Request) error {
	if !req.Release && req.Embargo == nil {
		return nil
	}
	id, status := t.result.ID, hub.Status(t.item.Status)
	switch {
	case req.Embargo != nil:
		if status == hub.StatusReleased {
			return fmt.Errorf("package %s (%s) is released already; push with --release for a correction", id, t.planned.Language)
		}
		t.result.Released = "scheduled"
	case status == hub.StatusReleased:
		// A revision is pending exactly when the working version has not
		// been released yet.
		n, err := strconv.Atoi(t.item.Version)
		if err != nil {
			return fmt.Errorf("package %s has version %q: %w", id, t.item.Version, err)
		}
		if _, err := p.client.Version(ctx, id, n); err == nil {
			t.result.Released = "unchanged"
			return nil
		} else if !hubclient.IsNotFound(err) {
			return err
		}
		t.result.Released = "corrected"
	default:
		t.result.Released = "released"
	}
	item, err := p.client.Release(ctx, id, req.Embargo)
	if err != nil {
		return fmt.Errorf("release the %s package: %w", t.planned.Language, err)
	}
	t.item = item
	p.log.Info(t.result.Released, "language", t.planned.Language, "id", id, "version", item.Version)
	return nil
}

// createKey is the Idempotency-Key of the create of one language's
// package: derived from the manifest's campaign and language and the
// folder, plus a random part, so that another folder (or this one after
// its state file was removed to push as new packages) never meets the
// package an earlier push made. The state file keeps it until the create
// is answered.
func createKey(dir string, f Fields) string {
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	sum := sha256.Sum256([]byte(abs + "\n" + f.Campaign + "\n" + f.Language + "\n" + hex.EncodeToString(nonce[:])))
	return "push-" + hex.EncodeToString(sum[:16])
}
