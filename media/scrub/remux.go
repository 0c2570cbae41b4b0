package scrub

// Containers the hub cannot edit in place are remuxed by ffmpeg: the same
// packets (-c copy, never re-encoded) in a new file of the same container,
// without the data streams, attachments and cover pictures, without the
// chapters and without the tags (-map_metadata -1), written bit-exact so
// that ffmpeg adds no encoder tag of its own. That is WebM, Matroska, FLAC
// and Ogg (and an MP4 or MOV with a telemetry track, which bmff.go scrubs
// box by box afterwards). Titles, copyright notices and track languages go
// with the rest: the remux cannot tell them from the tags that identify.
// A Matroska or WebM file then names "Lavf" (no version) as the
// application that wrote it, an element it must have. ffmpeg 5.1 moves the
// other streams of a Matroska file with Opus audio by Opus's pre-skip (a
// few milliseconds) when it remuxes it: the packets stay the same bytes.
//
// ffmpeg runs without a shell, its demuxer forced from the sniffed type,
// reading only files, under a time limit; its output is a temporary file
// beside the source, removed afterwards. Without ffmpeg these files are
// not parsed (an anonymized package refuses them).

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/syndication-hub/hub/hub"
)

const (
	remuxTimeout = 30 * time.Minute // one ffmpeg run, at most
	remuxStderr  = 4 << 10          // bytes of ffmpeg's complaints kept for the log
	remuxMaxKeys = 4096             // tags one probe reports, at most
)

// remuxFormat names the container of a sniffed content type and ffmpeg's
// demuxer and muxer for it.
func remuxFormat(contentType string) (name, demuxer, muxer string) {
	switch contentType {
	case "video/webm", "audio/webm":
		return "WebM", "matroska", "webm"
	case "video/matroska", "video/x-matroska", "audio/matroska", "audio/x-matroska":
		return "Matroska", "matroska", "matroska"
	case "audio/flac", "audio/x-flac":
		return "FLAC", "flac", "flac"
	}
	return "Ogg", "ogg", "ogg"
}

// scrubRemux scrubs a WebM, Matroska, FLAC or Ogg file by an ffmpeg remux.
func (s *Scrubber) scrubRemux(ctx context.Context, dst io.Writer, src hub.ScrubSource, contentType string, p hub.ScrubPolicy, rep *hub.ScrubReport) error {
	name, demuxer, muxer := remuxFormat(contentType)
	rep.Format = name
	if s.ffmpeg == "" {
		return hub.NotParsed(name, "only ffmpeg can scrub %s files, and it is not installed", name)
	}
	job := remuxJob{format: name, demuxer: demuxer, muxer: muxer}
	var found avFindings
	if err := s.probe(ctx, src, job, &found); err != nil {
		return err
	}
	out, err := s.remux(ctx, src, job)
	if err != nil {
		return err
	}
	defer out.close()
	found.report(rep)
	if _, err := io.Copy(dst, section(out)); err != nil {
		return fmt.Errorf("scrub: %s: copy the remux: %w", name, err)
	}
	return nil
}

// remuxJob is one remux: the container's name for messages, ffmpeg's
// demuxer and muxer, and whether the streams keep their own metadata
// (language, track names: bmff.go scrubs what else the muxer writes of it).
type remuxJob struct {
	format, demuxer, muxer string
	keepStreamMetadata     bool
}

// remuxOut is ffmpeg's output: a temporary file beside the source.
type remuxOut struct {
	f    *os.File
	size int64
}

func (o *remuxOut) ReadAt(b []byte, off int64) (int, error) { return o.f.ReadAt(b, off) }
func (o *remuxOut) Size() int64                             { return o.size }
func (o *remuxOut) Path() string                            { return o.f.Name() }

func (o *remuxOut) close() {
	o.f.Close()
	os.Remove(o.f.Name())
}

// remux runs ffmpeg on src and opens its output.
func (s *Scrubber) remux(ctx context.Context, src hub.ScrubSource, job remuxJob) (*remuxOut, error) {
	if src.Path() == "" {
		return nil, hub.NotParsed(job.format, "ffmpeg needs it in a file, and it is not in one")
	}
	tmp, err := os.CreateTemp(filepath.Dir(src.Path()), ".scrub-remux-*")
	if err != nil {
		return nil, fmt.Errorf("scrub: %s: remux: %w", job.format, err)
	}
	path := tmp.Name()
	tmp.Close()
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error", "-protocol_whitelist", "file,pipe",
		"-f", job.demuxer, "-i", "file:" + src.Path(),
		"-map", "0:V?", "-map", "0:a?", "-map", "0:s?", "-dn", "-c", "copy"}
	if job.keepStreamMetadata {
		args = append(args, "-map_metadata:g", "-1")
	} else {
		args = append(args, "-map_metadata", "-1")
	}
	args = append(args, "-map_chapters", "-1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-flags:a", "+bitexact",
		"-y", "-f", job.muxer, "file:"+path)
	var msg bytes.Buffer
	if err := s.ffmpegRun(ctx, job, args, nil, &remuxLimit{w: &msg, n: remuxStderr}, msg.String); err != nil {
		os.Remove(path)
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("scrub: %s: remux: %w", job.format, err)
	}
	out := &remuxOut{f: f}
	fi, err := f.Stat()
	if err != nil {
		out.close()
		return nil, fmt.Errorf("scrub: %s: remux: %w", job.format, err)
	}
	out.size = fi.Size()
	if out.size == 0 {
		out.close()
		return nil, hub.NotParsed(job.format, "ffmpeg's remux is empty")
	}
	return out, nil
}

// ffmpegRun runs ffmpeg with args under the remux time limit, its
// standard output read by stdout (discarded when nil) and its standard
// error written to stderr. A failure is NotParsed; what ffmpeg said is
// logged when log is set (never for a run that lists tag values).
func (s *Scrubber) ffmpegRun(ctx context.Context, job remuxJob, args []string, stdout func(io.Reader) error, stderr io.Writer, log func() string) error {
	run, cancel := context.WithTimeout(ctx, remuxTimeout)
	defer cancel()
	cmd := exec.CommandContext(run, s.ffmpeg, args...)
	cmd.WaitDelay = 10 * time.Second
	cmd.Stderr = stderr
	if stdout == nil {
		return s.ffmpegErr(ctx, run, job, cmd.Run(), log)
	}
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("scrub: %s: ffmpeg: %w", job.format, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("scrub: %s: start ffmpeg: %w", job.format, err)
	}
	readErr := stdout(pipe)
	_, _ = io.Copy(io.Discard, pipe)
	if err := s.ffmpegErr(ctx, run, job, cmd.Wait(), log); err != nil {
		return err
	}
	if readErr != nil {
		return fmt.Errorf("scrub: %s: read ffmpeg's output: %w", job.format, readErr)
	}
	return nil
}

func (s *Scrubber) ffmpegErr(ctx, run context.Context, job remuxJob, err error, log func() string) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("scrub: %s: ffmpeg: %w", job.format, ctx.Err())
	case errors.Is(run.Err(), context.DeadlineExceeded):
		s.logger.Warn("ffmpeg timed out", "format", job.format, "after", remuxTimeout)
		return hub.NotParsed(job.format, "ffmpeg took longer than %s to remux it", remuxTimeout)
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return fmt.Errorf("scrub: %s: run ffmpeg: %w", job.format, err)
	}
	if log != nil {
		s.logger.Warn("ffmpeg failed", "format", job.format, "err", err, "stderr", log())
	} else {
		s.logger.Warn("ffmpeg failed", "format", job.format, "err", err)
	}
	return hub.NotParsed(job.format, "ffmpeg could not read it to remove its metadata")
}

// remuxLimit passes on the first n bytes written to it and drops the rest.
type remuxLimit struct {
	w io.Writer
	n int
}

func (l *remuxLimit) Write(b []byte) (int, error) {
	if k := min(l.n, len(b)); k > 0 {
		l.n -= k
		if _, err := l.w.Write(b[:k]); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// probe asks ffmpeg what src has that the remux drops: the tags (by name,
// never value), chapters, data streams, attachments and cover pictures.
func (s *Scrubber) probe(ctx context.Context, src hub.ScrubSource, job remuxJob, found *avFindings) error {
	if src.Path() == "" {
		return hub.NotParsed(job.format, "ffmpeg needs it in a file, and it is not in one")
	}
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "info", "-protocol_whitelist", "file,pipe",
		"-f", job.demuxer, "-i", "file:" + src.Path(), "-map", "0", "-c", "copy", "-f", "ffmetadata", "pipe:1"}
	var listing bytes.Buffer // the streams, which ffmpeg lists on stderr
	err := s.ffmpegRun(ctx, job, args, func(r io.Reader) error { return remuxTags(r, found) }, &remuxLimit{w: &listing, n: 1 << 20}, nil)
	if err != nil {
		return err
	}
	remuxStreams(&listing, found)
	return nil
}

// remuxTags reads ffmpeg's ffmetadata output and notes each tag by its
// name; all of them go.
func remuxTags(r io.Reader, found *avFindings) error {
	br := bufio.NewReaderSize(r, 16<<10)
	section, n := "", 0
	continued := false
	for {
		line, err := remuxLine(br)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		cont := continued
		// A value's newline is escaped by a backslash, itself escaped.
		trailing := len(line) - len(strings.TrimRight(line, "\\"))
		continued = trailing%2 == 1
		switch {
		case cont, line == "", line[0] == ';' || line[0] == '#':
			continue
		case line[0] == '[':
			section = line
			if section == "[CHAPTER]" {
				found.remove("chapters", "chapters")
			}
			continue
		}
		if section == "[CHAPTER]" {
			continue
		}
		if n++; n > remuxMaxKeys {
			return nil
		}
		key, _, _ := strings.Cut(line, "=")
		where := "tags"
		if section == "[STREAM]" {
			where = "stream tags"
		}
		if f := remuxKeyKind(key).field(); f != "" {
			found.remove(f, where)
		}
	}
}

// remuxLine reads one line, of which it keeps the first 16 KiB (a value
// may be a picture).
func remuxLine(br *bufio.Reader) (string, error) {
	line, more, err := br.ReadLine()
	if err != nil {
		return "", err
	}
	s := string(line)
	for more {
		if _, more, err = br.ReadLine(); err != nil {
			return s, nil
		}
	}
	return s, nil
}

// remuxKeyKind judges an ffmpeg tag by its name.
func remuxKeyKind(key string) avKind {
	k := strings.ToLower(key)
	if i := strings.LastIndexByte(k, '-'); i > 0 && len(k)-i == 4 { // location-eng
		k = k[:i]
	}
	switch {
	case strings.Contains(k, "location"), strings.Contains(k, "gps"), strings.Contains(k, "iso6709"):
		return avLocation
	case strings.Contains(k, "serial"):
		return avSerial
	}
	switch k {
	case "make", "model", "manufacturer", "com.android.manufacturer", "com.android.model":
		return avDevice
	case "encoder", "encoded_by", "encoder_options", "software", "tool", "writing_app", "muxing_app", "_statistics_writing_app", "vendor", "vendor_id":
		return avSoftware
	case "artist", "album_artist", "author", "composer", "performer", "conductor", "lyricist", "writer", "director", "producer", "artists":
		return avAuthor
	case "date", "creation_time", "year", "originaldate", "date_recorded", "date_released", "_statistics_writing_date_utc":
		return avDate
	case "comment", "description", "synopsis", "keywords", "summary", "purl":
		return avComment
	case "title":
		return avTitle
	case "copyright", "license":
		return avCopyright
	case "language":
		return avLanguage
	case "album", "genre", "track", "disc", "tracktotal", "disctotal", "totaltracks", "totaldiscs":
		return avAlbum
	case "lyrics":
		return avLyrics
	case "publisher":
		return avPublisher
	case "metadata_block_picture", "coverart", "cover_art":
		return avCover
	case "handler_name", "duration", "bps", "number_of_frames", "number_of_bytes", "_statistics_tags", "major_brand", "minor_version", "compatible_brands", "alpha_mode", "stereo_mode":
		return avTech
	}
	return avOther
}

// remuxStreams reads ffmpeg's listing of the streams and notes those the
// remux drops.
func remuxStreams(r io.Reader, found *avFindings) {
	br := bufio.NewReader(r)
	for {
		line, err := remuxLine(br)
		if err != nil {
			return
		}
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "Stream #") {
			continue
		}
		switch {
		case strings.Contains(line, ": Data:"):
			found.remove(avDataTrack.field(), "stream")
		case strings.Contains(line, ": Attachment:"):
			found.remove(avAttachment.field(), "attachment")
		case strings.Contains(line, "(attached pic)"):
			found.remove(avCover.field(), "stream")
		}
	}
}
