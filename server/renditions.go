package server

import (
	"context"
	"log/slog"
	"runtime"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/renditions"
	"github.com/syndication-hub/hub/media/tools"
)

// renditionWorkers is the size of this replica's rendition pool: half the
// CPUs by default, so uploads and downloads keep the other half.
func (s *Server) renditionWorkers() int {
	if s.cfg.RenditionWorkers > 0 {
		return s.cfg.RenditionWorkers
	}
	return max(1, runtime.NumCPU()/2)
}

// renditionMaker adapts media/renditions to the domain's port.
type renditionMaker struct {
	m *renditions.Maker
}

func newRenditionMaker(t tools.Tools, threads int, log *slog.Logger) hub.RenditionMaker {
	return renditionMaker{renditions.New(renditions.Options{Tools: t, Threads: max(threads, 1), Logger: log})}
}

func (r renditionMaker) Plan(contentType string) []string { return r.m.Plan(contentType) }

func (r renditionMaker) Make(ctx context.Context, src, contentType, dir string) ([]hub.MadeRendition, hub.MediaFacts) {
	results, facts := r.m.Make(ctx, src, contentType, dir)
	out := make([]hub.MadeRendition, 0, len(results))
	for _, res := range results {
		out = append(out, hub.MadeRendition{Path: res.Path, Rendition: hub.Rendition{
			Name: res.Name, State: hub.RenditionState(res.State), Reason: res.Reason, ContentType: res.ContentType,
			Width: res.Width, Height: res.Height, Duration: res.Duration,
		}})
	}
	return out, hub.MediaFacts{Width: facts.Width, Height: facts.Height, Duration: facts.Duration,
		VideoCodec: facts.VideoCodec, AudioCodec: facts.AudioCodec}
}
