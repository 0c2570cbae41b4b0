package server

import (
	"context"
	"log/slog"
	"runtime"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/media/renditions"
	"github.com/syndication-hub/hub/media/tools"
)

// renditionWorkers is the size of this replica's rendition pool: half the
// CPUs by default, so uploads and downloads keep the other half; a
// negative setting makes none here (a replica that only serves).
func (s *Server) renditionWorkers() int {
	switch {
	case s.cfg.RenditionWorkers < 0:
		return 0
	case s.cfg.RenditionWorkers > 0:
		return s.cfg.RenditionWorkers
	}
	return max(1, runtime.NumCPU()/2)
}

func newRenditionRuns() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hub_rendition_jobs_total",
		Help: "Rendition jobs this replica ran, by result: done (every rendition ended ready, failed or unavailable), retry (the stores did not answer; it runs again).",
	}, []string{"result"})
}

// makeRenditions runs one job and counts it.
func (s *Server) makeRenditions(ctx context.Context, job hub.RenditionJob, last bool) error {
	err := s.service.MakeRenditions(ctx, job, last)
	if err != nil {
		s.renditionRuns.WithLabelValues("retry").Inc()
	} else {
		s.renditionRuns.WithLabelValues("done").Inc()
	}
	return err
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
