package catalog

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsfault"
)

// records is a bucket of JSON records of one type, with an in-memory
// index kept by a watch: keys, campaigns, partners and webhooks, read on
// every request.
type records[T any] struct {
	js    jetstream.JetStream
	kv    jetstream.KeyValue
	noun  string
	log   *slog.Logger
	mu    sync.RWMutex
	index map[string]indexed[*T]
	// changed, when set, is told of every change the watch brings, from
	// this replica or another.
	changed func(key string)
}

// indexed is an index entry with the KV revision it came from, so a late
// watch event never replaces a newer local write.
type indexed[T any] struct {
	rev   uint64
	value T
}

func newRecords[T any](js jetstream.JetStream, kv jetstream.KeyValue, noun string, log *slog.Logger) *records[T] {
	return &records[T]{js: js, kv: kv, noun: noun, log: log, index: map[string]indexed[*T]{}}
}

func (r *records[T]) apply(e jetstream.KeyValueEntry) {
	var v *T
	if e.Operation() == jetstream.KeyValuePut {
		v = new(T)
		if err := json.Unmarshal(e.Value(), v); err != nil {
			r.log.Error("skip unreadable entry", "bucket", r.kv.Bucket(), "key", e.Key(), "err", err)
			return
		}
	}
	r.remember(e.Key(), e.Revision(), v)
	if r.changed != nil {
		r.changed(e.Key())
	}
}

// remember indexes v (nil for a deletion) unless a newer revision is known.
func (r *records[T]) remember(key string, rev uint64, v *T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cur, ok := r.index[key]; ok && cur.rev >= rev {
		return
	}
	r.index[key] = indexed[*T]{rev, v}
}

func (r *records[T]) create(ctx context.Context, key string, v *T) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", r.noun, err)
	}
	rev, err := putRevised(ctx, r.kv, r.js, r.noun, key, b, 0)
	if natsfault.Conflict(err) {
		return hub.Errorf(hub.ECONFLICT, "%s %s exists", r.noun, key)
	} else if err != nil {
		return fmt.Errorf("create %s %s: %w", r.noun, key, err)
	}
	c, err := r.copyOf(v)
	if err != nil {
		return err
	}
	r.remember(key, rev, c)
	return nil
}

// copyOf returns a deep copy of v, the form it has in the bucket: a
// caller changing a slice of what it was given (a campaign's hashtags, a
// partner's entitlements) must not change the index under everyone else.
func (r *records[T]) copyOf(v *T) (*T, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", r.noun, err)
	}
	c := new(T)
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("decode %s: %w", r.noun, err)
	}
	return c, nil
}

// indexedCopy returns a copy of what the index holds for key, or nil.
func (r *records[T]) indexedCopy(key string) *T {
	r.mu.RLock()
	e, ok := r.index[key]
	r.mu.RUnlock()
	if !ok || e.value == nil {
		return nil
	}
	v, err := r.copyOf(e.value)
	if err != nil {
		return nil
	}
	return v
}

// get answers from the index, and from the bucket when the index does not
// have the key yet (another replica may have written it a moment ago).
func (r *records[T]) get(ctx context.Context, key string) (*T, error) {
	r.mu.RLock()
	e, ok := r.index[key]
	r.mu.RUnlock()
	if ok && e.value != nil {
		return r.copyOf(e.value)
	}
	if ok || !validKey(key) {
		return nil, hub.Errorf(hub.ENOTFOUND, "no %s %s", r.noun, key)
	}
	v, _, err := r.read(ctx, key)
	return v, err
}

func (r *records[T]) read(ctx context.Context, key string) (*T, uint64, error) {
	e, err := r.kv.Get(ctx, key)
	if natsfault.Missing(err) {
		return nil, 0, hub.Errorf(hub.ENOTFOUND, "no %s %s", r.noun, key)
	} else if err != nil {
		return nil, 0, fmt.Errorf("get %s %s: %w", r.noun, key, err)
	}
	v := new(T)
	if err := json.Unmarshal(e.Value(), v); err != nil {
		return nil, 0, fmt.Errorf("decode %s %s: %w", r.noun, key, err)
	}
	return v, e.Revision(), nil
}

func (r *records[T]) update(ctx context.Context, key string, fn func(*T) error) (*T, error) {
	return r.change(ctx, key, false, fn)
}

// upsert is update, starting from a zero record when there is none.
func (r *records[T]) upsert(ctx context.Context, key string, fn func(*T) error) (*T, error) {
	return r.change(ctx, key, true, fn)
}

func (r *records[T]) change(ctx context.Context, key string, create bool, fn func(*T) error) (*T, error) {
	if !validKey(key) {
		return nil, hub.Errorf(hub.ENOTFOUND, "no %s %s", r.noun, key)
	}
	for range casAttempts {
		v, rev, err := r.read(ctx, key)
		if create && hub.ErrorCode(err) == hub.ENOTFOUND {
			v, rev, err = new(T), 0, nil
		}
		if err != nil {
			return nil, err
		}
		if err := fn(v); err != nil {
			return nil, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("encode %s: %w", r.noun, err)
		}
		newRev, err := putRevised(ctx, r.kv, r.js, r.noun, key, b, rev)
		if natsfault.Conflict(err) {
			continue
		} else if err != nil {
			return nil, fmt.Errorf("update %s %s: %w", r.noun, key, err)
		}
		c, err := r.copyOf(v)
		if err != nil {
			return nil, err
		}
		r.remember(key, newRev, c)
		return v, nil
	}
	return nil, hub.Errorf(hub.ECONFLICT, "%s %s is being changed by someone else; try again", r.noun, key)
}

// list returns copies of every record, ordered by key.
func (r *records[T]) list() []*T {
	r.mu.RLock()
	defer r.mu.RUnlock()
	keys := make([]string, 0, len(r.index))
	for k, e := range r.index {
		if e.value != nil {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, cmp.Compare)
	out := make([]*T, 0, len(keys))
	for _, k := range keys {
		c, err := r.copyOf(r.index[k].value)
		if err != nil {
			// It was decoded from JSON, so it encodes again.
			r.log.Error("skip a record that does not copy", "bucket", r.kv.Bucket(), "key", k, "err", err)
			continue
		}
		out = append(out, c)
	}
	return out
}

// validKey reports whether s can be a KV key; anything else is absent.
func validKey(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// delete removes a record under a revision check, so a concurrent update
// is not lost silently. Returns ENOTFOUND if the record is absent.
func (r *records[T]) delete(ctx context.Context, key string) error {
	if !validKey(key) {
		return hub.Errorf(hub.ENOTFOUND, "no %s %s", r.noun, key)
	}
	for range casAttempts {
		_, rev, err := r.read(ctx, key)
		if err != nil {
			return err
		}
		err = deleteRevised(ctx, r.kv, r.js, r.noun, key, rev)
		if natsfault.Conflict(err) {
			continue
		} else if err != nil {
			return fmt.Errorf("delete %s %s: %w", r.noun, key, err)
		}
		// The delete marker's revision is above rev; any older watch event
		// must not bring the record back.
		r.remember(key, rev+1, nil)
		return nil
	}
	return hub.Errorf(hub.ECONFLICT, "%s %s is being changed by someone else; try again", r.noun, key)
}
