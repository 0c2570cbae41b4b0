package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// leaderReads is a bucket whose Get asks its stream's leader, for a
// bucket kept on more than one NATS server.
//
// Why: nats.go makes every bucket allow direct gets, and on a cluster
// every replica of the stream answers them, the one on the client's own
// server first. A follower answers from what it has applied, which may
// trail what the leader confirmed by a moment (nats-server issue 4710).
// So a package created through one hub replica could be a 404 on the
// next request, through the same replica or another: the cluster proof
// (bench/cluster) met it about once in a thousand releases. A revision
// check catches a stale read before a write, but "there is no such
// package" is an answer. The leader's STREAM.MSG.GET sees every write it
// confirmed.
type leaderReads struct {
	jetstream.KeyValue
	nc     *nats.Conn
	stream string // KV_<bucket>
	prefix string // $KV.<bucket>.
	// timeout bounds a read whose context has no deadline, as every
	// JetStream call is bounded (its DefaultTimeout): a request that
	// reached a leader dying with it is never answered.
	timeout time.Duration
}

// readFromLeader wraps kv, a bucket of js, so its Get reads from the leader.
func readFromLeader(js jetstream.JetStream, kv jetstream.KeyValue) jetstream.KeyValue {
	return leaderReads{KeyValue: kv, nc: js.Conn(), stream: "KV_" + kv.Bucket(), prefix: "$KV." + kv.Bucket() + ".",
		timeout: js.Options().DefaultTimeout}
}

// Get returns the key's latest value as the leader has it, and
// ErrKeyNotFound for a key never written, deleted or purged, as the
// bucket's own Get does.
func (b leaderReads) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	// The bucket's own Get refuses a key that is not a literal subject
	// token; this one must too: last_by_subj takes wildcards, so "a.>"
	// or "*" would answer with some other key's value.
	if !literalKey(key) {
		return nil, jetstream.ErrInvalidKey
	}
	req, err := json.Marshal(struct {
		LastBySubject string `json:"last_by_subj"`
	}{b.prefix + key})
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); !ok && b.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.timeout)
		defer cancel()
	}
	msg, err := b.nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+b.stream, req)
	if err != nil {
		return nil, fmt.Errorf("read %s from the leader of %s: %w", key, b.stream, err)
	}
	var resp struct {
		Error   *jetstream.APIError `json:"error"`
		Message *struct {
			Sequence uint64    `json:"seq"`
			Header   []byte    `json:"hdrs"`
			Data     []byte    `json:"data"`
			Time     time.Time `json:"time"`
		} `json:"message"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return nil, fmt.Errorf("read %s from the leader of %s: %w", key, b.stream, err)
	}
	switch {
	case resp.Error != nil && resp.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound:
		return nil, jetstream.ErrKeyNotFound
	case resp.Error != nil:
		return nil, fmt.Errorf("read %s from the leader of %s: %w", key, b.stream, resp.Error)
	case resp.Message == nil:
		return nil, fmt.Errorf("read %s from the leader of %s: an answer without a message", key, b.stream)
	}
	op := jetstream.KeyValuePut
	if len(resp.Message.Header) > 0 {
		h, err := nats.DecodeHeadersMsg(resp.Message.Header)
		if err != nil {
			return nil, fmt.Errorf("read %s from the leader of %s: %w", key, b.stream, err)
		}
		switch h.Get("KV-Operation") {
		case "DEL", "PURGE":
			op = jetstream.KeyValueDelete
		}
	}
	if op != jetstream.KeyValuePut {
		return nil, jetstream.ErrKeyNotFound
	}
	return leaderEntry{bucket: b.Bucket(), key: key, value: resp.Message.Data, revision: resp.Message.Sequence, created: resp.Message.Time}, nil
}

// leaderEntry is a value read from the leader.
type leaderEntry struct {
	bucket, key string
	value       []byte
	revision    uint64
	created     time.Time
}

func (e leaderEntry) Bucket() string                  { return e.bucket }
func (e leaderEntry) Key() string                     { return e.key }
func (e leaderEntry) Value() []byte                   { return e.value }
func (e leaderEntry) Revision() uint64                { return e.revision }
func (e leaderEntry) Created() time.Time              { return e.created }
func (e leaderEntry) Delta() uint64                   { return 0 }
func (e leaderEntry) Operation() jetstream.KeyValueOp { return jetstream.KeyValuePut }

// literalKey is nats.go's rule for a key (its own check is not
// exported): letters, digits and -/_=. only, no empty token.
func literalKey(key string) bool {
	if key == "" || key[0] == '.' || key[len(key)-1] == '.' || strings.Contains(key, "..") {
		return false
	}
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("-/_=.", r):
		default:
			return false
		}
	}
	return true
}
