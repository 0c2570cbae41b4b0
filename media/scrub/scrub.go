// Package scrub removes identifying metadata from assets as they arrive
// (see hub.Scrubber): location and device identifiers always, names,
// dates, software and comments in anonymized packages. Pictures and
// documents are rewritten by segment, chunk and box surgery in Go,
// streamed, without re-encoding; video and audio likewise where their
// boxes can be overwritten in place, and remuxed by ffmpeg (never
// re-encoded) only where they cannot.
//
// Each container has its own file: what it removes is listed there, with
// the reason for what it keeps.
package scrub

import (
	"context"
	"io"
	"log/slog"
	"mime"

	"github.com/syndication-hub/hub/hub"
)

// Scrubber is the hub's hub.Scrubber.
type Scrubber struct {
	ffmpeg string // ffmpeg's path; "" when it is not installed
	logger *slog.Logger
}

// Options configure a Scrubber.
type Options struct {
	// FFmpeg is the path of ffmpeg, for the containers only a remux can
	// scrub; "" leaves them unscrubbed (refused in anonymized packages).
	FFmpeg string
	Logger *slog.Logger
}

// New returns a Scrubber.
func New(opts Options) *Scrubber {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scrubber{ffmpeg: opts.FFmpeg, logger: opts.Logger}
}

// Scrub writes src, scrubbed, to dst.
func (s *Scrubber) Scrub(ctx context.Context, dst io.Writer, src hub.ScrubSource, contentType string, p hub.ScrubPolicy, rep *hub.ScrubReport) error {
	base, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		base = contentType
	}
	switch base {
	case "text/plain", "text/vtt", "application/x-subrip":
		// Plain text, captions and subtitles have no place for hidden
		// fields: what they hold is the author's words, which the
		// producer wrote for publication.
		rep.Format = "text"
		_, err := io.Copy(dst, section(src))
		return err
	case "image/jpeg":
		return scrubJPEG(ctx, dst, src, p, rep)
	case "image/png", "image/apng", "image/vnd.mozilla.apng":
		return scrubPNG(ctx, dst, src, p, rep)
	case "image/webp":
		return scrubWebP(ctx, dst, src, p, rep)
	case "image/gif":
		return scrubGIF(ctx, dst, src, p, rep)
	case "image/svg+xml":
		return scrubSVG(ctx, dst, src, p, rep)
	case "video/mp4", "video/quicktime", "video/x-m4v", "audio/mp4", "audio/x-m4a", "video/3gpp", "video/3gpp2":
		return s.scrubBMFF(ctx, dst, src, base, p, rep)
	case "audio/mpeg":
		return scrubMP3(dst, src, p, rep)
	case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave":
		return scrubWAV(dst, src, p, rep)
	case "video/webm", "audio/webm", "video/matroska", "video/x-matroska", "audio/matroska", "audio/x-matroska", "audio/flac", "audio/x-flac", "audio/ogg", "video/ogg":
		return s.scrubRemux(ctx, dst, src, base, p, rep)
	case "application/pdf":
		return s.scrubPDF(ctx, dst, src, p, rep)
	case "application/zip", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"application/vnd.openxmlformats-officedocument.presentationml.presentation":
		return s.scrubOOXML(ctx, dst, src, base, p, rep)
	}
	return hub.NotParsed(base, "the hub has no scrubber for %s files", base)
}

// section reads all of src from the start.
func section(src hub.ScrubSource) *io.SectionReader {
	return io.NewSectionReader(src, 0, src.Size())
}
