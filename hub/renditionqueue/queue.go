// Package renditionqueue carries rendition jobs on a JetStream work queue
// (stream HUB_RENDITION_JOBS): a job is stored until a worker acks it, a
// worker on any replica takes it, and a worker that dies mid-job (a crash,
// a restart) lets it be delivered again once its ack wait passes. Workers
// tell JetStream they are still at it while a long video job runs, so it
// is never handed to a second worker meanwhile.
package renditionqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
)

const (
	// Stream is the work queue's stream; Subject its one subject.
	Stream  = "HUB_RENDITION_JOBS"
	Subject = "hub.jobs.renditions"
	durable = "renditions"

	// ackWait is how long a job may go without word from its worker
	// before JetStream hands it to another; workers report every
	// ackWait/3 while they work.
	ackWait = time.Minute
	// MaxDeliver is how often a job is tried; the last try marks what it
	// could not make as failed instead of asking for another.
	MaxDeliver = 5
)

// Queue is the rendition job queue.
type Queue struct {
	js       jetstream.JetStream
	consumer jetstream.Consumer
	log      *slog.Logger
}

var _ hub.RenditionQueue = (*Queue)(nil)

// Options configure the queue.
type Options struct {
	Replicas int
	// Workers bounds the jobs in progress across the hub's replicas' pull
	// requests; each replica runs its own pool.
	Logger *slog.Logger
}

// Open creates or updates the stream and its consumer.
func Open(ctx context.Context, js jetstream.JetStream, opts Options) (*Queue, error) {
	if opts.Replicas < 1 {
		opts.Replicas = 1
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	cfg := jetstream.StreamConfig{
		Name: Stream, Description: "syndication hub: rendition jobs, one per stored blob, until a worker has done it",
		Subjects: []string{Subject}, Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage,
		Replicas: opts.Replicas, Duplicates: 10 * time.Minute,
	}
	if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return nil, fmt.Errorf("rendition job stream: %w", err)
	}
	c, err := js.CreateOrUpdateConsumer(ctx, Stream, jetstream.ConsumerConfig{
		Durable: durable, AckPolicy: jetstream.AckExplicitPolicy, AckWait: ackWait, MaxDeliver: MaxDeliver,
		BackOff: nil,
	})
	if err != nil {
		return nil, fmt.Errorf("rendition job consumer: %w", err)
	}
	return &Queue{js: js, consumer: c, log: opts.Logger}, nil
}

// Enqueue publishes a job; the same content and blob within the
// duplicate window is one job.
func (q *Queue) Enqueue(ctx context.Context, job hub.RenditionJob) error {
	b, err := json.Marshal(job)
	if err != nil {
		return fmt.Errorf("encode rendition job: %w", err)
	}
	msg := &nats.Msg{Subject: Subject, Data: b, Header: nats.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, job.SHA256+"."+job.BlobKey)
	if _, err := q.js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("queue rendition job for %s: %w", job.SHA256, err)
	}
	return nil
}

// Do is a job's work; last says it is the job's last try. An error asks
// for another try later.
type Do func(ctx context.Context, job hub.RenditionJob, last bool) error

// Work runs workers pulling jobs until ctx ends.
func (q *Queue) Work(ctx context.Context, workers int, do Do) {
	var wg sync.WaitGroup
	for range max(workers, 1) {
		wg.Go(func() { q.worker(ctx, do) })
	}
	wg.Wait()
}

func (q *Queue) worker(ctx context.Context, do Do) {
	for ctx.Err() == nil {
		// The wait is bounded by a context of its own, not FetchMaxWait,
		// so a hub stopping ends it at once (it held every stop up by up
		// to five seconds).
		wait, cancel := context.WithTimeout(ctx, 5*time.Second)
		batch, err := q.consumer.Fetch(1, jetstream.FetchContext(wait))
		if err != nil {
			cancel()
			if ctx.Err() == nil {
				q.log.Warn("rendition jobs: fetch", "err", err)
				sleep(ctx, 2*time.Second)
			}
			continue
		}
		for msg := range batch.Messages() {
			q.handle(ctx, msg, do)
		}
		cancel()
		err = batch.Error()
		if err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			q.log.Warn("rendition jobs: fetch", "err", err)
			sleep(ctx, 2*time.Second)
		}
	}
}

func (q *Queue) handle(ctx context.Context, msg jetstream.Msg, do Do) {
	var job hub.RenditionJob
	if err := json.Unmarshal(msg.Data(), &job); err != nil {
		q.log.Error("rendition jobs: unreadable job dropped", "err", err)
		_ = msg.Term()
		return
	}
	last := false
	if md, err := msg.Metadata(); err == nil {
		last = md.NumDelivered >= MaxDeliver
	}
	// Tell JetStream the job is in hand while it runs.
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(ackWait / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = msg.InProgress()
			}
		}
	}()
	err := do(ctx, job, last)
	close(done)
	switch {
	case err == nil:
		if err := msg.DoubleAck(context.WithoutCancel(ctx)); err != nil {
			q.log.Warn("rendition jobs: ack", "sha256", job.SHA256, "err", err)
		}
	case ctx.Err() != nil:
		_ = msg.Nak() // shutting down: another worker takes it at once
	default:
		q.log.Warn("rendition jobs: will try again", "sha256", job.SHA256, "err", err)
		_ = msg.NakWithDelay(10 * time.Second)
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
