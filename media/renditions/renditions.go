// Package renditions makes the smaller, safer copies of an asset that the
// hub shows and offers beside the original: a thumbnail and a web-sized
// picture of posters, infographics and documents, a poster frame and a
// light MP4 preview of videos, a waveform of audio.
//
// It reads one asset's stored (already scrubbed) bytes from a local file
// and writes files into a directory; storing them and recording the
// results is the caller's (the hub's worker). Pictures are decoded,
// scaled and encoded in Go, refusing before decoding what claims too many
// pixels; videos, audio and PDF pages go through ffmpeg, ffprobe and
// pdftoppm, run by media/tools without a shell, under a deadline, a CPU
// cap and a memory limit, with the demuxer forced from the sniffed type
// and only the file and pipe protocols allowed, so a "video" that is
// really a playlist cannot make ffmpeg read other files or fetch URLs.
//
// Every planned rendition ends in a final state: ready, failed (with a
// reason a producer can read) or unavailable (a tool is not installed).
package renditions

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"strings"
	"time"

	"github.com/syndication-hub/hub/media/tools"
)

// Rendition names.
const (
	Thumbnail = "thumbnail" // a small picture, fit in ThumbnailSize
	Web       = "web"       // a picture for the web, fit in WebSize
	Poster    = "poster"    // a video's frame, fit in WebSize
	Preview   = "preview"   // a video's light MP4 copy
	Waveform  = "waveform"  // an audio's waveform picture
)

// States of a Result.
const (
	Ready       = "ready"
	Failed      = "failed"
	Unavailable = "unavailable"
)

// Sizes of what is made.
const (
	// ThumbnailSize and WebSize bound the longer side of thumbnails and
	// of web pictures and posters, in pixels; nothing is upscaled.
	ThumbnailSize = 320
	WebSize       = 1280
	// PreviewWidth and PreviewHeight bound a preview's frame (480p);
	// PreviewSeconds is how much of a video a preview holds.
	PreviewWidth   = 854
	PreviewHeight  = 480
	PreviewSeconds = 600
	// WaveformWidth and WaveformHeight are a waveform's size.
	WaveformWidth  = 1280
	WaveformHeight = 200
	// MaxSide is the longest side of a picture the hub decodes.
	MaxSide = 50000
)

// Defaults of Options.
const (
	DefaultThreads     = 1
	DefaultCPUSeconds  = 600
	DefaultMaxPixels   = 100_000_000
	DefaultMemoryBytes = 1 << 30
)

// Options configure a Maker.
type Options struct {
	// Tools are the programs videos, audio and PDF need; a missing one
	// makes what needs it unavailable.
	Tools tools.Tools
	// Threads is ffmpeg's -threads; 0 means DefaultThreads.
	Threads int
	// CPUSeconds caps the processor time of one video or audio job (a
	// preview, a waveform); 0 means DefaultCPUSeconds. Probes, posters and
	// PDF pages get less.
	CPUSeconds int
	// Timeout bounds the wall-clock time of one video or audio job; 0
	// means twice CPUSeconds and a minute (tools run at lower priority).
	Timeout time.Duration
	// MaxPixels is the most pixels a picture may have to be decoded (a
	// 16-bit one counts double); 0 means DefaultMaxPixels.
	MaxPixels int64
	// MemoryBytes caps the address space of each tool run; 0 means
	// DefaultMemoryBytes.
	MemoryBytes int64
	Logger      *slog.Logger
}

// Maker makes renditions. It holds no state between calls and is safe
// for concurrent use.
type Maker struct {
	tools      tools.Tools
	threads    int
	cpuSeconds int
	timeout    time.Duration
	maxPixels  int64
	memory     int64
	logger     *slog.Logger
}

// New returns a Maker.
func New(opts Options) *Maker {
	if opts.Threads <= 0 {
		opts.Threads = DefaultThreads
	}
	if opts.CPUSeconds <= 0 {
		opts.CPUSeconds = DefaultCPUSeconds
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2*time.Duration(opts.CPUSeconds)*time.Second + time.Minute
	}
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	if opts.MemoryBytes <= 0 {
		opts.MemoryBytes = DefaultMemoryBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Maker{tools: opts.Tools, threads: opts.Threads, cpuSeconds: opts.CPUSeconds, timeout: opts.Timeout,
		maxPixels: opts.MaxPixels, memory: opts.MemoryBytes, logger: opts.Logger}
}

// Result is the outcome of one rendition.
type Result struct {
	Name string // Thumbnail, Web, Poster, Preview, Waveform
	// State is Ready, Failed or Unavailable (a tool is missing).
	State string
	// Reason says, for a person, why a rendition failed or is
	// unavailable.
	Reason string
	// Path is the file in the directory given to Make, when ready.
	Path string
	// ContentType is image/jpeg, image/png or video/mp4, when ready.
	ContentType   string
	Width, Height int
	// Duration is a preview's length in seconds.
	Duration float64
}

// Facts are what making the renditions learned of the asset: from
// ffprobe for video and audio, from the header for pictures. Width and
// Height are as displayed (a picture's EXIF orientation and a video's
// rotation applied); zero when unknown.
type Facts struct {
	Width, Height          int
	Duration               float64 // seconds
	VideoCodec, AudioCodec string  // ffprobe's codec names
}

// kind is what a content type is to this package.
type kind int

const (
	none kind = iota
	picture
	vector
	document
	video
	audio
)

// baseType is contentType without parameters, in lower case.
func baseType(contentType string) string {
	base, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		base, _, _ = strings.Cut(contentType, ";")
	}
	return strings.ToLower(strings.TrimSpace(base))
}

func kindOf(base string) kind {
	switch {
	case decoderFor(base) != nil:
		return picture
	case base == "image/svg+xml":
		return vector
	case base == "application/pdf":
		return document
	case strings.HasPrefix(base, "video/"):
		return video
	case strings.HasPrefix(base, "audio/"):
		return audio
	}
	return none
}

// Plan says which renditions an asset of contentType gets, in the order
// Make returns them; none for a type the hub makes none of.
func (m *Maker) Plan(contentType string) []string {
	switch kindOf(baseType(contentType)) {
	case picture, vector, document:
		return []string{Thumbnail, Web}
	case video:
		return []string{Thumbnail, Poster, Preview}
	case audio:
		return []string{Waveform}
	}
	return nil
}

// Make makes every planned rendition of src, sniffed as contentType, into
// dir, and returns one Result per name Plan gives, in its order, each in
// a final state. Files it makes are named for their rendition
// (thumbnail.jpg, preview.mp4, ...); it leaves nothing else in dir.
func (m *Maker) Make(ctx context.Context, src, contentType, dir string) ([]Result, Facts) {
	base := baseType(contentType)
	j := &job{m: m, ctx: ctx, src: src, dir: dir, base: base, results: map[string]*Result{}}
	names := m.Plan(contentType)
	for _, name := range names {
		j.results[name] = &Result{Name: name}
	}
	j.run(kindOf(base))
	out := make([]Result, 0, len(names))
	for _, name := range names {
		r := j.results[name]
		if r.State == "" {
			// Unreachable unless a step forgot one; never leave it pending.
			r.State, r.Reason = Failed, "the hub could not make it"
		}
		if r.State != Ready {
			r.Path, r.ContentType, r.Width, r.Height, r.Duration = "", "", 0, 0, 0
		}
		out = append(out, *r)
	}
	return out, j.facts
}

// job is one call of Make.
type job struct {
	m       *Maker
	ctx     context.Context
	src     string
	dir     string
	base    string
	results map[string]*Result
	facts   Facts
}

func (j *job) run(k kind) {
	defer func() {
		// A decoder that panics on a hostile file fails what is left,
		// without taking the worker down.
		if v := recover(); v != nil {
			j.m.logger.Error("renditions: panic", "type", j.base, "panic", fmt.Sprint(v))
			j.failRest(fmt.Sprintf("the %s could not be read", noun(k)))
		}
	}()
	if j.stopped() {
		return
	}
	switch k {
	case picture:
		j.picture()
	case vector:
		j.unavailable("the hub cannot draw SVG graphics (it has no renderer for them)", Thumbnail, Web)
	case document:
		j.document()
	case video:
		j.video()
	case audio:
		j.audio()
	}
}

func noun(k kind) string {
	switch k {
	case video:
		return "video"
	case audio:
		return "audio"
	case document:
		return "document"
	}
	return "picture"
}

// ready records a made rendition.
func (j *job) ready(name string, r Result) {
	if res, ok := j.results[name]; ok {
		r.Name, r.State, r.Reason = name, Ready, ""
		*res = r
	}
}

// fail records why the named renditions failed (those already final are
// left as they are).
func (j *job) fail(reason string, names ...string) {
	j.final(Failed, reason, names...)
}

func (j *job) unavailable(reason string, names ...string) {
	j.final(Unavailable, reason, names...)
}

func (j *job) final(state, reason string, names ...string) {
	for _, name := range names {
		if r, ok := j.results[name]; ok && r.State == "" {
			r.State, r.Reason = state, reason
		}
	}
}

// failRest fails every rendition not yet final.
func (j *job) failRest(reason string) {
	for name := range j.results {
		j.fail(reason, name)
	}
}

// stopped fails what is left when the caller gave up, and says so.
func (j *job) stopped() bool {
	if err := j.ctx.Err(); err != nil {
		j.failRest("the hub stopped before it was made (" + err.Error() + ")")
		return true
	}
	return false
}
