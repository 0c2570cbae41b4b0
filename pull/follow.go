package pull

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hubclient"
	"github.com/syndication-hub/hub/publisher/wire"
)

// errNoNATS means this key has no NATS access at all, so there is no
// point in asking again: poll the change log for good.
var errNoNATS = errors.New("no NATS access")

// follow mirrors new releases until ctx ends: over NATS while it works,
// polling the change log while it does not (trying NATS again now and
// then).
func (p *Puller) follow(ctx context.Context) {
	if p.opts.NoNATS {
		p.log.Info("following the change log", "every", p.opts.PollInterval)
		p.poll(ctx, time.Time{})
		return
	}
	for ctx.Err() == nil {
		connected, err := p.followNATS(ctx)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errNoNATS) {
			p.log.Info("following the change log", "every", p.opts.PollInterval, "why", err)
			p.poll(ctx, time.Time{})
			return
		}
		if connected {
			// It worked until now: the credential expired or was rotated,
			// the consumer was reset, or NATS restarted. Ask the hub again
			// at once rather than polling meanwhile.
			p.log.Info("NATS connection ended; asking the hub for access again", "err", err)
			t := time.NewTimer(time.Second)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		p.log.Warn("NATS is out of reach; polling the change log meanwhile", "err", err, "every", p.opts.PollInterval,
			"retry_nats_in", p.opts.NATSRetry)
		p.poll(ctx, p.now().Add(p.opts.NATSRetry))
	}
}

// poll mirrors the change log every PollInterval until ctx ends or, when
// until is not zero, until then. A failure is logged and tried again.
func (p *Puller) poll(ctx context.Context, until time.Time) {
	for {
		more, err := p.pollOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			p.log.Error("mirroring from the change log failed; trying again", "err", err, "in", p.opts.PollInterval)
		}
		if !until.IsZero() && p.now().After(until) {
			return
		}
		if more && err == nil {
			continue
		}
		t := time.NewTimer(p.opts.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// followNATS mirrors what the partner's durable consumer delivers, acking
// each message only once its package is mirrored (or needs nothing), so
// nothing is lost to a crash: the consumer redelivers what was not acked.
// It reports whether it got as far as reading the consumer.
func (p *Puller) followNATS(ctx context.Context) (connected bool, _ error) {
	acc, err := p.client.MyNATS(ctx)
	if hubclient.StatusOf(err) == http.StatusNotFound {
		return false, fmt.Errorf("%w: the hub gives NATS access to keys of a partner record (%v)", errNoNATS, err)
	} else if err != nil {
		return false, fmt.Errorf("ask for NATS access: %w", err)
	}
	password, ok := p.client.NATSPassword(acc)
	if !ok {
		return false, fmt.Errorf("%w: the hub's NATS is run by its operator, who issues partners' credentials; hub pull polls instead", errNoNATS)
	}
	// The credential is the key. When the server ends the connection the
	// client reconnects with it; once the server refuses it twice (the
	// key expired or was revoked) the connection closes, and this run
	// ends and asks the hub again.
	nc, err := nats.Connect(acc.URL,
		nats.Name("hub pull"),
		nats.UserInfo(acc.User, password),
		nats.CustomInboxPrefix(acc.InboxPrefix),
		nats.Timeout(5*time.Second),
		nats.MaxReconnects(-1),
		// On an external cluster the server ends each connection when its
		// short-lived user JWT does; come back at once, since deliveries
		// made while away wait for the ack timeout.
		nats.ReconnectWait(100*time.Millisecond),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			p.log.Warn("NATS", "err", err)
		}),
	)
	if err != nil {
		return false, fmt.Errorf("connect to NATS at %s: %w", acc.URL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return false, err
	}
	cons, err := js.Consumer(ctx, acc.Stream, acc.Consumer)
	if err != nil {
		return false, fmt.Errorf("open consumer %s: %w", acc.Consumer, err)
	}
	// One message at a time: buffered messages' ack timers would run
	// while a large package downloads.
	it, err := cons.Messages(jetstream.PullMaxMessages(1))
	if err != nil {
		return false, fmt.Errorf("read consumer %s: %w", acc.Consumer, err)
	}
	defer it.Stop()
	p.log.Info("following releases over NATS", "url", acc.URL, "consumer", acc.Consumer)
	for {
		msg, err := it.Next(jetstream.NextContext(ctx))
		if err != nil {
			if ctx.Err() != nil {
				return true, ctx.Err()
			}
			return true, fmt.Errorf("receive from consumer %s: %w", acc.Consumer, err)
		}
		err = p.handleMsg(ctx, msg)
		var ackErr ackError
		if errors.As(err, &ackErr) {
			// Mirrored; only the ack's confirmation did not come (a
			// reconnect, or the hub resetting the consumer meanwhile). A nak
			// would hold the message back for a poll interval; if the ack
			// was lost it comes again after the ack wait, and mirroring it
			// twice changes nothing.
			p.log.Warn("the hub did not confirm an ack", "err", err)
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return true, ctx.Err() // not acked: redelivered to the next run
			}
			p.log.Error("mirroring failed; the hub will send it again", "err", err, "in", p.opts.PollInterval)
			msg.NakWithDelay(p.opts.PollInterval)
		}
	}
}

// handleMsg mirrors one announcement from NATS and acks it.
func (p *Puller) handleMsg(ctx context.Context, msg jetstream.Msg) error {
	an, err := wire.Decode(msg.Headers(), msg.Data())
	if err != nil {
		p.log.Warn("ignoring a message that is not a hub announcement", "subject", msg.Subject(), "err", err)
		return msg.Ack()
	}
	ev := event{Kind: an.ID.Event, ID: an.ID.Package, Version: an.ID.Version, Time: an.Time,
		Campaign: an.Campaign, Language: an.Language, Body: an.Body}
	stop := keepAlive(msg, 20*time.Second)
	err = p.mirror(ctx, ev)
	if err == nil {
		err = p.retryFailed(ctx, false)
	}
	if err == nil {
		err = p.confirmTakedowns(ctx)
	}
	stop()
	if err != nil {
		return err
	}
	// The consumer's stream sequence is the change log's cursor: a later
	// run that has to poll continues after this message.
	if md, err := msg.Metadata(); err == nil && p.advance(strconv.FormatUint(md.Sequence.Stream, 10)) {
		if err := p.saveState(); err != nil {
			return err
		}
	}
	// Double ack: the next message is asked for only once the hub has
	// taken this one off the partner's queue.
	if err := msg.DoubleAck(ctx); err != nil {
		return ackError{err}
	}
	return nil
}

// ackError is a message mirrored whose ack was not confirmed.
type ackError struct{ err error }

func (e ackError) Error() string { return "ack: " + e.err.Error() }
func (e ackError) Unwrap() error { return e.err }

// keepAlive tells the server every interval that msg is still being
// worked on, so a long download is not redelivered meanwhile.
func keepAlive(msg jetstream.Msg, every time.Duration) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				msg.InProgress()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
