package cluster

import (
	"time"

	"github.com/syndication-hub/hub/hub/webhooktest"
)

// receiver is one partner's way of being told of releases, each on a
// durable consumer of its own on the release stream: an outlet reading
// its consumer over NATS, or a webhook endpoint the hub delivers to.
type receiver interface {
	label() string
	// waitAll waits until every id of want has arrived, and returns how
	// long that took, or the ids still missing at timeout.
	waitAll(want map[string]bool, timeout time.Duration) (time.Duration, []string)
	// unexpected lists ids that arrived and are not in want.
	unexpected(want map[string]bool) []string
	counts() outletCounts
	// arrival is when id first arrived.
	arrival(id string) (time.Time, bool)
}

func (o *outlet) label() string { return o.name + " (NATS)" }

// webhookOutlet is a partner's webhook endpoint (hub/webhooktest: it checks
// every delivery's signature as the Standard Webhooks rules say, failing
// the test otherwise), deduplicating by webhook-id, which is the ce-id.
type webhookOutlet struct {
	name string
	recv *webhooktest.Receiver
}

func (w *webhookOutlet) label() string { return w.name + " (webhook)" }

// seen counts each accepted delivery by id, with the first arrival.
func (w *webhookOutlet) seen() (map[string]int, map[string]time.Time) {
	n, first := map[string]int{}, map[string]time.Time{}
	for _, ev := range w.recv.Events() {
		if n[ev.ID]++; n[ev.ID] == 1 {
			first[ev.ID] = ev.Arrived
		}
	}
	return n, first
}

func (w *webhookOutlet) waitAll(want map[string]bool, timeout time.Duration) (time.Duration, []string) {
	began := time.Now()
	for {
		n, _ := w.seen()
		var missing []string
		for id := range want {
			if n[id] == 0 {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 || time.Since(began) > timeout {
			return time.Since(began), missing
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *webhookOutlet) unexpected(want map[string]bool) []string {
	n, _ := w.seen()
	var out []string
	for id := range n {
		if !want[id] {
			out = append(out, id)
		}
	}
	return out
}

func (w *webhookOutlet) counts() outletCounts {
	n, _ := w.seen()
	c := outletCounts{distinct: len(n)}
	for _, k := range n {
		c.deliveries += k
	}
	c.redelivered = c.deliveries - c.distinct
	return c
}

func (w *webhookOutlet) arrival(id string) (time.Time, bool) {
	_, first := w.seen()
	t, ok := first[id]
	return t, ok
}
