package renditions

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/syndication-hub/hub/media/tools"
)

// How the tools are bounded besides Options: a probe reads headers, a
// poster or a PDF page decodes a little.
const (
	probeSeconds = 30
	stillSeconds = 120
	// maxProbeOutput is the most ffprobe may print about one file.
	maxProbeOutput = 4 << 20
	// waveformSamples is the most samples a waveform is drawn from:
	// showwavespic keeps them all (as 16-bit mono) until the end, so an
	// hour at 8 kHz, and longer audio at a lower rate (down to
	// waveformMinRate, which bounds the length drawn).
	waveformSamples = 8000 * 3600
	waveformRate    = 8000
	waveformMinRate = 500
	// Preview bitrates, about 1 Mbit/s in all.
	previewVideoRate = "900k"
	previewAudioRate = "96k"
)

// demuxerFor is the ffmpeg demuxer a sniffed type is read with: forced,
// so that a file whose bytes say it is a playlist or a concat script is
// not read as one. "" for a type the hub does not read.
func demuxerFor(base string) string {
	switch base {
	case "video/mp4", "video/quicktime", "video/3gpp", "video/3gp", "video/3gpp2", "video/3g2", "video/x-m4v",
		"video/mj2", "audio/mp4", "audio/x-m4a", "audio/m4a", "audio/x-mp4a", "audio/3gpp", "audio/3gpp2":
		return "mov"
	case "audio/mpeg", "audio/mp3", "audio/x-mpeg":
		return "mp3"
	case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave":
		return "wav"
	case "video/webm", "audio/webm", "video/matroska", "video/x-matroska", "audio/matroska", "audio/x-matroska":
		return "matroska"
	case "audio/ogg", "video/ogg", "audio/opus":
		return "ogg"
	case "audio/flac", "audio/x-flac":
		return "flac"
	case "video/mp2t":
		return "mpegts"
	case "video/mpeg":
		return "mpeg"
	case "video/x-msvideo", "video/avi", "video/msvideo":
		return "avi"
	case "video/x-flv":
		return "flv"
	case "video/x-ms-asf", "video/asf", "video/x-ms-wmv", "audio/x-ms-wma":
		return "asf"
	case "audio/aac", "audio/x-aac":
		return "aac"
	case "audio/aiff", "audio/x-aiff":
		return "aiff"
	case "audio/amr", "audio/amr-nb":
		return "amr"
	case "audio/basic":
		return "au"
	}
	return ""
}

// limits for a probe, a still (a poster, a PDF page) and a job (a
// preview, a waveform).
func (m *Maker) probeLimits() tools.Limits {
	return tools.Limits{Timeout: probeSeconds * time.Second, CPUSeconds: probeSeconds, MemoryBytes: m.memory}
}

func (m *Maker) stillLimits() tools.Limits {
	return tools.Limits{Timeout: min(m.timeout, 2*stillSeconds*time.Second), CPUSeconds: min(m.cpuSeconds, stillSeconds),
		MemoryBytes: m.memory}
}

func (m *Maker) jobLimits() tools.Limits {
	return tools.Limits{Timeout: m.timeout, CPUSeconds: m.cpuSeconds, MemoryBytes: m.memory}
}

// ffmpegArgs begins every ffmpeg run: no standard input, errors only,
// the file and pipe protocols only, the demuxer forced; pre goes before
// the input (a seek).
func (j *job) ffmpegArgs(demuxer, src string, pre ...string) []string {
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error",
		"-threads", strconv.Itoa(j.m.threads), "-filter_threads", strconv.Itoa(j.m.threads)}
	args = append(args, pre...)
	return append(args, inputArgs(demuxer, src)...)
}

// inputArgs name one input the safe way: protocols whitelisted, demuxer
// forced, the path given as a file: URL so no part of it is read as an
// option or a protocol.
func inputArgs(demuxer, src string) []string {
	args := []string{"-protocol_whitelist", "file,pipe", "-f", demuxer}
	if demuxer == "mov" {
		args = append(args, "-enable_drefs", "0") // the default, said: no references to other files
	}
	return append(args, "-i", "file:"+src)
}

// probed is what ffprobe says of a file.
type probed struct {
	Streams []struct {
		Index       int    `json:"index"`
		CodecType   string `json:"codec_type"`
		CodecName   string `json:"codec_name"`
		Width       int    `json:"width"`
		Height      int    `json:"height"`
		SampleRate  string `json:"sample_rate"`
		Duration    string `json:"duration"`
		Disposition struct {
			AttachedPic int `json:"attached_pic"`
		} `json:"disposition"`
		Tags     map[string]string `json:"tags"`
		SideData []struct {
			Rotation float64 `json:"rotation"`
		} `json:"side_data_list"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

// probe runs ffprobe on src.
func (j *job) probe(demuxer, src string) (*probed, error) {
	args := []string{"-hide_banner", "-loglevel", "error", "-print_format", "json", "-show_format", "-show_streams"}
	out, err := j.m.tools.Run(j.ctx, j.m.probeLimits(), j.m.tools.FFprobe, append(args, inputArgs(demuxer, src)...)...)
	if err != nil {
		return nil, err
	}
	if len(out) > maxProbeOutput {
		return nil, fmt.Errorf("ffprobe: it printed %d bytes about the file, more than the hub reads", len(out))
	}
	var p probed
	if err := json.Unmarshal(out, &p); err != nil {
		return nil, fmt.Errorf("ffprobe: reading its report: %w", err)
	}
	return &p, nil
}

// video is the index of the first video stream that is not cover art,
// -1 when there is none, and its size as displayed.
func (p *probed) video() (index, width, height int, codec string) {
	for _, s := range p.Streams {
		if s.CodecType != "video" || s.Disposition.AttachedPic != 0 || s.Width <= 0 || s.Height <= 0 {
			continue
		}
		w, h := s.Width, s.Height
		rotation := 0.0
		for _, sd := range s.SideData {
			if sd.Rotation != 0 {
				rotation = sd.Rotation
			}
		}
		if r, err := strconv.ParseFloat(s.Tags["rotate"], 64); err == nil && rotation == 0 {
			rotation = r
		}
		if q := int(math.Abs(math.Round(rotation/90))) % 4; q == 1 || q == 3 {
			w, h = h, w
		}
		return s.Index, w, h, s.CodecName
	}
	return -1, 0, 0, ""
}

// audio is the first audio stream's codec and sample rate, "" when there
// is none.
func (p *probed) audio() (codec string, rate int) {
	for _, s := range p.Streams {
		if s.CodecType == "audio" {
			rate, _ := strconv.Atoi(s.SampleRate)
			return s.CodecName, rate
		}
	}
	return "", 0
}

// duration is the file's length in seconds, 0 when unknown.
func (p *probed) duration() float64 {
	seconds := func(s string) float64 {
		d, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(d) || math.IsInf(d, 0) || d <= 0 {
			return 0
		}
		return d
	}
	if d := seconds(p.Format.Duration); d > 0 {
		return d
	}
	for _, s := range p.Streams {
		if d := seconds(s.Duration); d > 0 {
			return d
		}
	}
	return 0
}

// video makes a video's poster, thumbnail and preview.
func (j *job) video() {
	demuxer := demuxerFor(j.base)
	if demuxer == "" {
		j.failRest(fmt.Sprintf("the hub cannot read %s videos", j.base))
		return
	}
	if j.m.tools.FFprobe == "" {
		j.unavailable("ffprobe is not installed on the hub, so it cannot read videos", Thumbnail, Poster, Preview)
		return
	}
	src, err := filepath.Abs(j.src)
	if err != nil {
		j.failRest(j.reason("the video could not be read", err))
		return
	}
	p, err := j.probe(demuxer, src)
	if err != nil {
		j.failRest(j.reason("the video could not be read", err))
		return
	}
	index, w, h, vcodec := p.video()
	acodec, rate := p.audio()
	j.facts = Facts{Width: w, Height: h, Duration: p.duration(), VideoCodec: vcodec, AudioCodec: acodec}
	if index < 0 {
		j.failRest("the video could not be read: it has no picture")
		return
	}
	if j.m.tools.FFmpeg == "" {
		j.unavailable("ffmpeg is not installed on the hub, so it cannot make pictures or previews of videos",
			Thumbnail, Poster, Preview)
		return
	}
	if j.poster(demuxer, src, index) {
		j.thumbnailOf(j.results[Poster].Path)
	} else {
		j.fail("the thumbnail is made from the poster, which failed", Thumbnail)
	}
	if j.stopped() {
		return
	}
	j.preview(demuxer, src, index, rate)
}

// poster takes a frame a tenth into the video (at 1 s when its length is
// unknown; at the start when that has none), fit in WebSize.
func (j *job) poster(demuxer, src string, index int) bool {
	at := 1.0
	if d := j.facts.Duration; d > 0 {
		at = d / 10
	}
	out := filepath.Join(j.dir, Poster+".jpg")
	filter := "scale=w='trunc(iw*sar)':h=ih,setsar=1," +
		fmt.Sprintf("scale=w='min(%d,iw)':h='min(%d,ih)':force_original_aspect_ratio=decrease", WebSize, WebSize)
	var err error
	for _, seek := range []string{strconv.FormatFloat(at, 'f', 3, 64), ""} {
		var pre []string
		if seek != "" {
			pre = []string{"-ss", seek}
		}
		os.Remove(out)
		args := append(j.ffmpegArgs(demuxer, src, pre...),
			"-map", "0:"+strconv.Itoa(index), "-frames:v", "1", "-vf", filter,
			"-c:v", "mjpeg", "-q:v", "3", "-pix_fmt", "yuvj420p", "-an", "-sn", "-dn", "-map_metadata", "-1",
			"-f", "image2", "-y", "file:"+out)
		if _, err = j.m.tools.Run(j.ctx, j.m.stillLimits(), j.m.tools.FFmpeg, args...); err != nil {
			break
		}
		if r, ok := pictureFile(out, "image/jpeg"); ok {
			j.ready(Poster, r)
			return true
		}
		// No frame there (the length was wrong): try the start.
	}
	os.Remove(out)
	if err != nil {
		j.fail(j.reason("the poster could not be made", err), Poster)
	} else {
		j.fail("the poster could not be made: the video has no frame the hub could read", Poster)
	}
	return false
}

// pictureFile is a picture a tool wrote, when it is there and reads.
func pictureFile(path, contentType string) (Result, bool) {
	f, err := os.Open(path)
	if err != nil {
		return Result{}, false
	}
	defer f.Close()
	var cfgW, cfgH int
	switch contentType {
	case "image/png":
		cfg, err := png.DecodeConfig(f)
		if err != nil {
			return Result{}, false
		}
		cfgW, cfgH = cfg.Width, cfg.Height
	default:
		d := decoderFor(contentType)
		cfg, err := d.config(f)
		if err != nil {
			return Result{}, false
		}
		cfgW, cfgH = cfg.Width, cfg.Height
	}
	return Result{Path: path, ContentType: contentType, Width: cfgW, Height: cfgH}, true
}

// preview makes an H.264/AAC MP4 of the first PreviewSeconds of the
// video, at most 480p and 30 frames a second, about 1 Mbit/s, its index
// first so it plays as it downloads.
func (j *job) preview(demuxer, src string, index, rate int) {
	out := filepath.Join(j.dir, Preview+".mp4")
	filter := "scale=w='trunc(iw*sar)':h=ih,setsar=1," +
		fmt.Sprintf("scale=w='min(%d,iw)':h='min(%d,ih)':force_original_aspect_ratio=decrease:force_divisible_by=2,setsar=1",
			PreviewWidth, PreviewHeight)
	args := append(j.ffmpegArgs(demuxer, src),
		"-t", strconv.Itoa(PreviewSeconds),
		"-map", "0:"+strconv.Itoa(index), "-map", "0:a:0?",
		"-vf", filter, "-fpsmax", "30",
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p",
		"-b:v", previewVideoRate, "-maxrate", "1000k", "-bufsize", "2000k",
		"-c:a", "aac", "-b:a", previewAudioRate, "-ac", "2")
	if rate > 48000 {
		args = append(args, "-ar", "48000")
	}
	args = append(args, "-threads", strconv.Itoa(j.m.threads),
		"-sn", "-dn", "-map_metadata", "-1", "-map_chapters", "-1",
		"-movflags", "+faststart", "-f", "mp4", "-y", "file:"+out)
	if _, err := j.m.tools.Run(j.ctx, j.m.jobLimits(), j.m.tools.FFmpeg, args...); err != nil {
		os.Remove(out)
		j.fail(j.reason("the preview could not be made", err), Preview)
		return
	}
	p, err := j.probe("mov", out)
	if err != nil {
		os.Remove(out)
		j.fail(j.reason("the preview could not be made: what ffmpeg wrote does not read back", err), Preview)
		return
	}
	_, w, h, _ := p.video()
	if w == 0 {
		os.Remove(out)
		j.fail("the preview could not be made: the video has no frame the hub could read", Preview)
		return
	}
	j.ready(Preview, Result{Path: out, ContentType: "video/mp4", Width: w, Height: h, Duration: p.duration()})
}

// audio reads an audio file's length and draws its waveform.
func (j *job) audio() {
	demuxer := demuxerFor(j.base)
	if demuxer == "" {
		j.failRest(fmt.Sprintf("the hub cannot read %s audio", j.base))
		return
	}
	if j.m.tools.FFprobe == "" || j.m.tools.FFmpeg == "" {
		j.unavailable("ffmpeg is not installed on the hub, so it cannot draw waveforms", Waveform)
		return
	}
	src, err := filepath.Abs(j.src)
	if err != nil {
		j.failRest(j.reason("the audio could not be read", err))
		return
	}
	p, err := j.probe(demuxer, src)
	if err != nil {
		j.failRest(j.reason("the audio could not be read", err))
		return
	}
	codec, _ := p.audio()
	j.facts = Facts{Duration: p.duration(), AudioCodec: codec}
	if codec == "" {
		j.failRest("the audio could not be read: it has no sound")
		return
	}
	// The rate and length drawn keep the samples showwavespic holds
	// within waveformSamples, however long the file says it is.
	rate := waveformRate
	if d := j.facts.Duration; d > 0 {
		rate = int(min(waveformRate, max(waveformMinRate, waveformSamples/d)))
	}
	length := waveformSamples / rate
	out := filepath.Join(j.dir, Waveform+".png")
	graph := fmt.Sprintf("[0:a:0]aformat=channel_layouts=mono,aresample=%d,showwavespic=s=%dx%d:colors=0x2b5c8a:filter=peak[w]",
		rate, WaveformWidth, WaveformHeight)
	args := append(j.ffmpegArgs(demuxer, src), "-t", strconv.Itoa(length),
		"-filter_complex", graph, "-map", "[w]", "-frames:v", "1",
		"-c:v", "png", "-map_metadata", "-1", "-f", "image2", "-y", "file:"+out)
	if _, err := j.m.tools.Run(j.ctx, j.m.jobLimits(), j.m.tools.FFmpeg, args...); err != nil {
		os.Remove(out)
		j.fail(j.reason("the waveform could not be made", err), Waveform)
		return
	}
	r, ok := pictureFile(out, "image/png")
	if !ok {
		os.Remove(out)
		j.fail("the waveform could not be made: the audio has no sound the hub could read", Waveform)
		return
	}
	j.ready(Waveform, r)
}

// document draws a PDF's first page with pdftoppm, its longer side
// WebSize, and makes the web picture and the thumbnail of it.
func (j *job) document() {
	if j.m.tools.Pdftoppm == "" {
		j.unavailable("pdftoppm is not installed on the hub, so it cannot draw PDF pages", Thumbnail, Web)
		return
	}
	src, err := filepath.Abs(j.src)
	if err != nil {
		j.failRest(j.reason("the document could not be read", err))
		return
	}
	tmp, err := os.MkdirTemp(j.dir, ".page-")
	if err != nil {
		j.failRest(j.reason("the document's page could not be drawn", err))
		return
	}
	defer os.RemoveAll(tmp)
	_, err = j.m.tools.Run(j.ctx, j.m.stillLimits(), j.m.tools.Pdftoppm,
		"-f", "1", "-l", "1", "-singlefile", "-png", "-scale-to", strconv.Itoa(WebSize), src, filepath.Join(tmp, "page"))
	if err != nil {
		j.failRest(j.reason("the document could not be read", err))
		return
	}
	page := filepath.Join(tmp, "page.png")
	f, err := os.Open(page)
	if err != nil {
		j.failRest(j.reason("the document could not be read: pdftoppm drew no page", err))
		return
	}
	defer f.Close()
	// pdftoppm drew it within WebSize; the header is checked all the same.
	cfg, err := png.DecodeConfig(f)
	if err == nil {
		if reason := j.m.tooLarge(cfg, headerInfo{bytesPerPixel: 4}); reason != "" {
			err = errors.New(reason)
		}
	}
	var img image.Image
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err == nil {
		img, err = png.Decode(bufio.NewReader(f))
	}
	if err != nil {
		j.failRest(j.reason("the document could not be read: the page pdftoppm drew does not read", err))
		return
	}
	j.fromImage(img, 1)
}
