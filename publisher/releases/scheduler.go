package releases

import (
	"context"
	"time"

	"github.com/syndication-hub/hub/hub"
)

// Scheduler fires embargoes on time and drains the outbox: the loop every
// replica runs. State lives in the catalog, so it survives restarts and a
// release missed while the hub was down goes out on start.
type Scheduler struct {
	svc *hub.Service
	// ReconcileEvery is how often pending announcements are retried.
	ReconcileEvery time.Duration
	// MaxSleep bounds a wait, so another replica's newly scheduled embargo
	// is noticed within it.
	MaxSleep time.Duration
	OnError  func(error)
}

// NewScheduler returns the loop for svc.
func NewScheduler(svc *hub.Service, onError func(error)) *Scheduler {
	return &Scheduler{svc: svc, ReconcileEvery: 10 * time.Second, MaxSleep: 500 * time.Millisecond, OnError: onError}
}

// Run loops until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	report := func(err error) {
		if err != nil && s.OnError != nil && ctx.Err() == nil {
			s.OnError(err)
		}
	}
	_, err := s.svc.Reconcile(ctx)
	report(err)
	lastReconcile := time.Now()
	for {
		_, err := s.svc.FireDue(ctx)
		report(err)
		if time.Since(lastReconcile) >= s.ReconcileEvery {
			_, err := s.svc.Reconcile(ctx)
			report(err)
			lastReconcile = time.Now()
		}
		wait := s.MaxSleep
		if next, ok := s.svc.NextEmbargo(ctx); ok {
			if d := next.Sub(s.svc.Now()); d < wait {
				wait = max(d, 0)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-s.svc.Scheduled():
		case <-t.C:
		}
		t.Stop()
	}
}
