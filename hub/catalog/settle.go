package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub/natsfault"
)

// defaultSettleFor bounds how long a write whose outcome is unknown is
// retried before the caller is told so (Options.SettleFor); NATS coming
// back after a reconnect (2 s apart) or a leader election fits well
// within it.
const defaultSettleFor = 10 * time.Second

// fullStore returns the EFULL answer when err is JetStream refusing a write
// of kv for want of room, or kv's (embedded) store has failed a write and
// answers none until it restarts; else nil. Writes go around the classified
// bucket (they publish with their own message id), so they are told here.
func fullStore(kv jetstream.KeyValue, err error) error {
	var storeFailed func() string
	if b, ok := kv.(classified); ok {
		storeFailed = b.storeFailed
	}
	if natsfault.DiskFull(err) || storeFailed != nil && storeFailed() != "" {
		return natsfault.NoRoom("; nothing was changed", err)
	}
	return nil
}

// putRevised makes one revision-checked write of value under key (prev 0:
// a create, also over a deleted key) and answers only with what is known
// to have happened, so nothing is reported failed and then done.
//
// A write that failed before reaching NATS (natsfault.NotSent) is
// EUNAVAILABLE at once. Any other failure (a timeout, a connection broken
// mid-write, an ack lost in a leader change or on a slow disk) may have
// been stored, so the same message, carrying the same unique Nats-Msg-Id
// under the same expected revision, is sent again until it settles:
// success (or the stream's duplicate ack) means exactly one of the two
// landed; a conflict is read back, and the key's last message carrying our
// id means the first one landed (its revision is returned); another
// writer's message there leaves it unknown whether ours landed before it,
// so that is EUNAVAILABLE too, never a conflict a revision loop would
// retry (and so apply twice). The revision check makes a late landing of
// the first attempt impossible once either is decided. Still unsettled
// after natsfault.SettleFor, the answer is EUNAVAILABLE saying the outcome
// is unknown (natsfault.Unconfirmed). Plain stream publishes settle alike
// in natsfault.PublishOnce; this one adds the revision check.
func putRevised(ctx context.Context, kv jetstream.KeyValue, js jetstream.JetStream, noun, key string, value []byte, prev uint64) (uint64, error) {
	return writeRevised(ctx, kv, js, noun, key, value, prev, false)
}

// deleteRevised deletes key at revision prev with the same care.
func deleteRevised(ctx context.Context, kv jetstream.KeyValue, js jetstream.JetStream, noun, key string, prev uint64) error {
	_, err := writeRevised(ctx, kv, js, noun, key, nil, prev, true)
	return err
}

func writeRevised(ctx context.Context, kv jetstream.KeyValue, js jetstream.JetStream, noun, key string, value []byte, prev uint64, del bool) (uint64, error) {
	var idb [16]byte
	_, _ = rand.Read(idb[:])
	msgID := hex.EncodeToString(idb[:])
	subject := "$KV." + kv.Bucket() + "." + key
	stream := "KV_" + kv.Bucket()
	expect := prev
	write := func(ctx context.Context) (uint64, error) {
		m := nats.NewMsg(subject)
		m.Data = value
		if del {
			m.Header.Set("KV-Operation", "DEL")
		}
		ack, err := js.PublishMsg(ctx, m, jetstream.WithMsgID(msgID), jetstream.WithExpectLastSequencePerSubject(expect))
		if err != nil {
			return 0, err
		}
		return ack.Sequence, nil
	}
	// last reads the key's newest message: whether it is ours, and for a
	// create, whether the key is deleted (a create may go over it).
	type lastMsg struct {
		ours, deleted bool
		seq           uint64
	}
	last := func(ctx context.Context) (lastMsg, error) {
		st, err := js.Stream(ctx, stream)
		if err != nil {
			return lastMsg{}, err
		}
		m, err := st.GetLastMsgForSubject(ctx, subject)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return lastMsg{}, nil
		} else if err != nil {
			return lastMsg{}, err
		}
		op := m.Header.Get("KV-Operation")
		return lastMsg{ours: m.Header.Get(jetstream.MsgIDHeader) == msgID, deleted: op == "DEL" || op == "PURGE", seq: m.Sequence}, nil
	}
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("write %s %s: %w", noun, key, err) // nothing sent
	}
	rev, err := write(ctx)
	if natsfault.Conflict(err) && prev == 0 && !del {
		// A create over a deleted key, as jetstream's Create does.
		if l, lerr := last(ctx); lerr == nil && l.deleted {
			expect = l.seq
			rev, err = write(ctx)
		}
	}
	if err == nil || natsfault.Conflict(err) {
		return rev, err
	}
	if natsfault.NotSent(err) {
		return 0, natsfault.NotSaved(noun+" "+key, err)
	}
	if full := fullStore(kv, err); full != nil {
		// JetStream refused it for want of room, or its file store has
		// failed a write and answers none: nothing was stored.
		return 0, full
	}
	first := err
	// The caller may have gone; the answer still decides what a retry
	// meets, so settle regardless, within a bound.
	bound := defaultSettleFor
	if b, ok := kv.(classified); ok && b.settleFor > 0 {
		bound = b.settleFor
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), bound)
	defer cancel()
	for {
		select {
		case <-sctx.Done():
			return 0, natsfault.Unconfirmed(noun+" "+key, "it may appear once NATS answers again, so look before creating it again (or retry with the same Idempotency-Key)", first)
		case <-time.After(natsfault.SettleEvery):
		}
		actx, acancel := context.WithTimeout(sctx, 2*time.Second)
		rev, err := write(actx)
		if err == nil {
			acancel()
			return rev, nil
		}
		if natsfault.Conflict(err) {
			l, lerr := last(actx)
			acancel()
			switch {
			case lerr != nil:
				continue
			case l.ours:
				return l.seq, nil
			default:
				// Another writer's entry: ours may have landed before it
				// and been overwritten, which History 1 cannot show.
				return 0, natsfault.Unconfirmed(noun+" "+key, "it has changed since, so look at it before trying again", first)
			}
		}
		acancel()
	}
}
