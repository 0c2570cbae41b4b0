package server

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syndication-hub/hub/hub"
)

// sweeper collects the debris of uploads that died while the hub runs:
// blobs no record names and the blob store's unfinished writes (see
// hub.Service.Sweep for what is never touched). Every replica runs one;
// two sweeping at once do no harm: what one removed is no error to the
// other (both may count it).
type sweeper struct {
	service *hub.Service
	every   time.Duration
	grace   time.Duration
	log     *slog.Logger

	removed *prometheus.CounterVec
	runs    *prometheus.CounterVec
}

func newSweeper(service *hub.Service, every, grace time.Duration, log *slog.Logger) *sweeper {
	if every <= 0 {
		every = DefaultSweepEvery
	}
	if grace <= 0 {
		grace = DefaultSweepGrace
	}
	return &sweeper{
		service: service, every: every, grace: grace, log: log,
		removed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_sweep_removed_total",
			Help: "Debris of dead uploads the sweeper removed: orphan_blob (stored bytes no blob record names), partial_write (temporary files, incomplete multipart uploads).",
		}, []string{"kind"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hub_sweep_runs_total",
			Help: "Sweeps run, by result (ok, error).",
		}, []string{"result"}),
	}
}

// run sweeps every s.every until ctx ends; the first sweep comes one
// interval after start (the stores sweep their oldest debris on open).
func (s *sweeper) run(ctx context.Context) {
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sweep(ctx)
		}
	}
}

func (s *sweeper) sweep(parent context.Context) {
	ctx, cancel := context.WithTimeout(parent, s.every)
	defer cancel()
	rep, err := s.service.Sweep(ctx, s.grace)
	s.removed.WithLabelValues("orphan_blob").Add(float64(rep.Orphans))
	s.removed.WithLabelValues("partial_write").Add(float64(rep.Partials))
	s.removed.WithLabelValues("unheld_reference").Add(float64(rep.Unheld))
	if err != nil && parent.Err() != nil {
		return // the hub is stopping: a sweep cut short is no failure
	}
	if err != nil {
		s.runs.WithLabelValues("error").Inc()
		s.log.Warn("sweep", "orphan_blobs", rep.Orphans, "partial_writes", rep.Partials, "unheld_references", rep.Unheld, "err", err)
	} else {
		s.runs.WithLabelValues("ok").Inc()
		if rep.Orphans+rep.Partials+rep.Unheld > 0 {
			s.log.Info("sweep removed debris", "orphan_blobs", rep.Orphans, "partial_writes", rep.Partials, "unheld_references", rep.Unheld)
		} else {
			s.log.Debug("sweep found no debris")
		}
	}
}
