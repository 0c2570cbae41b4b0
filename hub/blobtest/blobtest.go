// Package blobtest is the conformance suite for hub.BlobStore drivers. Every
// driver runs the same suite from a two-line test, so the disk and S3 stores
// cannot drift apart in what callers may rely on.
package blobtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"github.com/syndication-hub/hub/hub"
)

const (
	// partSpan is above the S3 driver's default part size, so objects of
	// this size take the multipart path there.
	partSpan = 17 << 20

	// bigSize is the large-object size: above 100 MiB, several parts, and
	// far more than the heap growth bigHeapLimit allows, so a driver that
	// buffers whole objects fails.
	bigSize = 110 << 20

	// bigHeapLimit is the most the heap may grow while one big object is
	// stored or read back. A driver holding one 16 MiB part plus garbage the
	// collector has not reclaimed yet stays well below it.
	bigHeapLimit = 64 << 20
)

// Run runs the suite against the stores open returns. open is called once
// per subtest and must return an empty store; it registers its own cleanup
// with t, and may check there that the store is empty again, since every
// subtest deletes what it wrote.
func Run(t *testing.T, open func(t *testing.T) hub.BlobStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s hub.BlobStore)
	}{
		{"PutKnownSize", testPutKnownSize},
		{"PutUnknownSize", testPutUnknownSize},
		{"Empty", testEmpty},
		{"Seek", testSeek},
		{"Stat", testStat},
		{"Missing", testMissing},
		{"Delete", testDelete},
		{"InvalidKeys", testInvalidKeys},
		{"Overwrite", testOverwrite},
		{"OverwriteWhileOpen", testOverwriteWhileOpen},
		{"ConcurrentKeys", testConcurrentKeys},
		{"ConcurrentSameKey", testConcurrentSameKey},
		{"ReaderFails", testReaderFails},
		{"ContextCanceled", testContextCanceled},
		{"ShortRead", testShortRead},
		{"LongRead", testLongRead},
		{"Check", testCheck},
		{"Big", testBig},
		{"List", testList},
		{"SweepPartial", testSweepPartial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

// newKey returns a fresh key and deletes it when the test ends, so the store
// is empty again for the driver's own teardown check.
func newKey(t *testing.T, s hub.BlobStore) string {
	t.Helper()
	key := ulid.Make().String()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("cleanup: Delete(%s): %v", key, err)
		}
	})
	return key
}

// data returns n deterministic bytes that differ for each seed.
func data(seed uint64, n int) []byte {
	b := make([]byte, n)
	newGen(seed, int64(n)).Read(b)
	return b
}

// gen yields size deterministic pseudo-random bytes without holding them,
// so a test can store an object much larger than the memory it may use.
type gen struct {
	rng  *rand.ChaCha8
	left int64
}

func newGen(seed uint64, size int64) *gen {
	var s [32]byte
	for i := range 8 {
		s[i] = byte(seed >> (8 * i))
	}
	return &gen{rng: rand.NewChaCha8(s), left: size}
}

func (g *gen) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > g.left {
		p = p[:g.left]
	}
	g.rng.Read(p)
	g.left -= int64(len(p))
	return len(p), nil
}

// onlyReader hides everything but Read (WriterTo, Seeker, ReaderAt, Len), so
// a driver sees a plain stream like a request body.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func put(t *testing.T, s hub.BlobStore, key string, b []byte, size int64) {
	t.Helper()
	n, err := s.Put(t.Context(), key, onlyReader{bytes.NewReader(b)}, size)
	if err != nil {
		t.Fatalf("Put(%s, %d bytes, size %d): %v", key, len(b), size, err)
	}
	if n != int64(len(b)) {
		t.Fatalf("Put(%s) = %d bytes, want %d", key, n, len(b))
	}
}

func readAll(t *testing.T, s hub.BlobStore, key string) []byte {
	t.Helper()
	b, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("Open(%s): %v", key, err)
	}
	defer b.Close()
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return got
}

func assertContent(t *testing.T, s hub.BlobStore, key string, want []byte) {
	t.Helper()
	got := readAll(t, s, key)
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: read %d bytes (sha256 %x), want %d bytes (sha256 %x)",
			key, len(got), sha256.Sum256(got), len(want), sha256.Sum256(want))
	}
}

func assertCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := hub.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

// assertAbsent checks that nothing is visible under key, through both Stat
// and Open.
func assertAbsent(t *testing.T, s hub.BlobStore, key string) {
	t.Helper()
	ctx := context.Background() // t.Context may be the one the test cancelled
	_, err := s.Stat(ctx, key)
	assertCode(t, "Stat of "+key, err, hub.ENOTFOUND)
	b, err := s.Open(ctx, key)
	if err == nil {
		b.Close()
	}
	assertCode(t, "Open of "+key, err, hub.ENOTFOUND)
}

func testPutKnownSize(t *testing.T, s hub.BlobStore) {
	for _, n := range []int{1, 1000, partSpan} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			key := newKey(t, s)
			b := data(uint64(n), n)
			put(t, s, key, b, int64(n))
			assertContent(t, s, key, b)
		})
	}
}

func testPutUnknownSize(t *testing.T, s hub.BlobStore) {
	for _, n := range []int{1, 1000, partSpan} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			key := newKey(t, s)
			b := data(uint64(n), n)
			put(t, s, key, b, -1)
			assertContent(t, s, key, b)
		})
	}
}

func testEmpty(t *testing.T, s hub.BlobStore) {
	for _, size := range []int64{0, -1} {
		t.Run(fmt.Sprint("size", size), func(t *testing.T) {
			key := newKey(t, s)
			put(t, s, key, nil, size)
			assertContent(t, s, key, nil)
			st, err := s.Stat(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			if st.Size != 0 {
				t.Fatalf("Stat size %d, want 0", st.Size)
			}
		})
	}
}

func testSeek(t *testing.T, s hub.BlobStore) {
	const n = 100_000
	key := newKey(t, s)
	want := data(7, n)
	put(t, s, key, want, n)

	b, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if st := b.Stat(); st.Size != n {
		t.Fatalf("Blob.Stat size %d, want %d", st.Size, n)
	}

	readAt := func(what string, offset int64, whence int, wantPos int64, length int) {
		t.Helper()
		pos, err := b.Seek(offset, whence)
		if err != nil {
			t.Fatalf("%s: Seek(%d, %d): %v", what, offset, whence, err)
		}
		if pos != wantPos {
			t.Fatalf("%s: Seek(%d, %d) = %d, want %d", what, offset, whence, pos, wantPos)
		}
		got := make([]byte, length)
		if _, err := io.ReadFull(b, got); err != nil {
			t.Fatalf("%s: read %d bytes at %d: %v", what, length, pos, err)
		}
		if !bytes.Equal(got, want[pos:pos+int64(length)]) {
			t.Fatalf("%s: bytes at %d differ", what, pos)
		}
	}
	readAt("middle", n/2, io.SeekStart, n/2, 1000)
	readAt("start", 0, io.SeekStart, 0, 10)
	readAt("relative", 90, io.SeekCurrent, 100, 10)
	readAt("last byte", n-1, io.SeekStart, n-1, 1)
	if k, err := b.Read(make([]byte, 1)); k != 0 || err != io.EOF {
		t.Fatalf("read after last byte = %d, %v; want 0, EOF", k, err)
	}
	readAt("from end", -10, io.SeekEnd, n-10, 10)
	readAt("tail after Seek from end", -n/4, io.SeekEnd, n-n/4, n/4)

	// After ranged reads, Stat still reports the whole object.
	if st := b.Stat(); st.Size != n {
		t.Fatalf("Blob.Stat size after reads %d, want %d", st.Size, n)
	}
	// A read from the start after seeking around yields the whole object.
	if _, err := b.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("full read after seeks: %d bytes differ from the %d stored", len(got), n)
	}
}

func testStat(t *testing.T, s hub.BlobStore) {
	const n = 12345
	key := newKey(t, s)
	before := time.Now().Add(-time.Minute) // tolerates clock skew to S3
	put(t, s, key, data(3, n), n)
	st, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != n {
		t.Fatalf("Stat size %d, want %d", st.Size, n)
	}
	if st.ModTime.Before(before) || st.ModTime.After(time.Now().Add(time.Minute)) {
		t.Fatalf("Stat modtime %v is not about now", st.ModTime)
	}
	b, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if bs := b.Stat(); bs.Size != n || !bs.ModTime.Equal(st.ModTime) {
		t.Fatalf("Blob.Stat %+v, Store.Stat %+v", bs, st)
	}
}

func testMissing(t *testing.T, s hub.BlobStore) {
	assertAbsent(t, s, ulid.Make().String())
}

func testDelete(t *testing.T, s hub.BlobStore) {
	key := newKey(t, s)
	put(t, s, key, data(1, 100), 100)
	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	assertAbsent(t, s, key)
	if err := s.Delete(t.Context(), key); err != nil {
		t.Fatalf("Delete of a deleted key: %v", err)
	}
	if err := s.Delete(t.Context(), ulid.Make().String()); err != nil {
		t.Fatalf("Delete of a key never stored: %v", err)
	}
}

func testInvalidKeys(t *testing.T, s hub.BlobStore) {
	ctx := t.Context()
	for _, key := range []string{"../x", "a/b", "", "..", ".", "short", "01ARZ3NDEKTSV4RRFFQ69G5FA/", "../../../../etc/passwd", "01ARZ3NDEK TSV4RRFFQ69G5FAV", "01ARZ3NDEK\x00TSV4RRFFQ69G5FAV"} {
		_, err := s.Put(ctx, key, bytes.NewReader([]byte("x")), 1)
		assertCode(t, fmt.Sprintf("Put(%q)", key), err, hub.EINVALID)
		_, err = s.Stat(ctx, key)
		assertCode(t, fmt.Sprintf("Stat(%q)", key), err, hub.EINVALID)
		b, err := s.Open(ctx, key)
		if err == nil {
			b.Close()
		}
		assertCode(t, fmt.Sprintf("Open(%q)", key), err, hub.EINVALID)
		err = s.Delete(ctx, key)
		assertCode(t, fmt.Sprintf("Delete(%q)", key), err, hub.EINVALID)
	}
}

func testOverwrite(t *testing.T, s hub.BlobStore) {
	key := newKey(t, s)
	put(t, s, key, data(1, 5000), 5000)
	second := data(2, 3000)
	put(t, s, key, second, -1)
	assertContent(t, s, key, second)
	st, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size != int64(len(second)) {
		t.Fatalf("Stat size after overwrite %d, want %d", st.Size, len(second))
	}
}

// testOverwriteWhileOpen checks that a Blob never mixes two versions: after
// the key is overwritten it reads the version it opened, or fails.
func testOverwriteWhileOpen(t *testing.T, s hub.BlobStore) {
	const n = 100_000
	key := newKey(t, s)
	first := data(1, n)
	put(t, s, key, first, n)
	b, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	head := make([]byte, 10)
	if _, err := io.ReadFull(b, head); err != nil {
		t.Fatal(err)
	}
	put(t, s, key, data(2, n), n)

	if _, err := b.Seek(n/2, io.SeekStart); err != nil {
		t.Logf("Seek after overwrite fails: %v", err)
		return
	}
	rest, err := io.ReadAll(b)
	if err != nil {
		t.Logf("read after overwrite fails: %v", err)
		return
	}
	if !bytes.Equal(head, first[:10]) || !bytes.Equal(rest, first[n/2:]) {
		t.Fatal("a Blob opened before an overwrite read bytes of the new version")
	}
}

func testConcurrentKeys(t *testing.T, s hub.BlobStore) {
	const writers = 8
	keys := make([]string, writers)
	for i := range keys {
		keys[i] = newKey(t, s)
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			size := int64(256<<10 + i*1000)
			if i%2 == 1 {
				size = -1
			}
			_, errs[i] = s.Put(t.Context(), keys[i], onlyReader{bytes.NewReader(data(uint64(i), 256<<10+i*1000))}, size)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	for i, key := range keys {
		assertContent(t, s, key, data(uint64(i), 256<<10+i*1000))
	}
}

// testConcurrentSameKey has writers race on one key with values of different
// lengths and content; the survivor must be one whole value, never a mix.
func testConcurrentSameKey(t *testing.T, s hub.BlobStore) {
	const writers = 6
	key := newKey(t, s)
	values := make([][]byte, writers)
	for i := range values {
		values[i] = data(uint64(100+i), 300<<10+i*7919)
	}
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() {
			size := int64(len(values[i]))
			if i%2 == 1 {
				size = -1
			}
			// Small reads interleave the writers as much as possible.
			r := &chunkReader{r: bytes.NewReader(values[i]), max: 4096}
			_, errs[i] = s.Put(t.Context(), key, r, size)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("writer %d: %v", i, err)
		}
	}
	got := readAll(t, s, key)
	for _, v := range values {
		if bytes.Equal(got, v) {
			return
		}
	}
	t.Fatalf("after concurrent writes %s holds %d bytes matching none of the %d values written", key, len(got), writers)
}

// chunkReader returns at most max bytes per Read.
type chunkReader struct {
	r   io.Reader
	max int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.max {
		p = p[:c.max]
	}
	return c.r.Read(p)
}

var errBoom = errors.New("blobtest: reader failed on purpose")

// failingReader yields n bytes and then fails with errBoom.
type failingReader struct {
	r    io.Reader
	left int64
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.left <= 0 {
		return 0, errBoom
	}
	if int64(len(p)) > f.left {
		p = p[:f.left]
	}
	n, err := f.r.Read(p)
	f.left -= int64(n)
	return n, err
}

// failureCase is one shape a failed upload takes.
type failureCase struct {
	name        string
	total, fail int64 // declared length, and where the failure strikes
	known       bool
}

// failureCases cover a single request and a multipart upload in S3, with
// the size known or not.
func failureCases() []failureCase {
	return []failureCase{
		{"small/known", 100_000, 50_000, true},
		{"small/unknown", 100_000, 50_000, false},
		{"multipart/known", partSpan + 2<<20, partSpan, true},
		{"multipart/unknown", partSpan + 2<<20, partSpan, false},
	}
}

func sizeArg(known bool, total int64) int64 {
	if known {
		return total
	}
	return -1
}

func testReaderFails(t *testing.T, s hub.BlobStore) {
	for _, tc := range failureCases() {
		t.Run(tc.name, func(t *testing.T) {
			key := newKey(t, s)
			r := &failingReader{r: newGen(1, tc.total), left: tc.fail}
			_, err := s.Put(t.Context(), key, r, sizeArg(tc.known, tc.total))
			if !errors.Is(err, errBoom) {
				t.Fatalf("Put with a failing reader: %v, want an error wrapping %v", err, errBoom)
			}
			assertAbsent(t, s, key)
		})
	}
}

// cancelReader cancels its context after n bytes and keeps yielding, as a
// request body would after its client went away but before the hub noticed.
type cancelReader struct {
	r      io.Reader
	left   int64
	cancel context.CancelFunc
}

func (c *cancelReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		c.cancel()
	}
	if c.left > 0 && int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func testContextCanceled(t *testing.T, s hub.BlobStore) {
	for _, tc := range failureCases() {
		t.Run(tc.name, func(t *testing.T) {
			key := newKey(t, s)
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			r := &cancelReader{r: newGen(1, tc.total), left: tc.fail, cancel: cancel}
			_, err := s.Put(ctx, key, r, sizeArg(tc.known, tc.total))
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Put with ctx cancelled mid-stream: %v, want an error wrapping %v", err, context.Canceled)
			}
			assertAbsent(t, s, key)
		})
	}
	t.Run("before", func(t *testing.T) {
		key := newKey(t, s)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := s.Put(ctx, key, bytes.NewReader([]byte("x")), 1)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Put with ctx cancelled before: %v, want an error wrapping %v", err, context.Canceled)
		}
		assertAbsent(t, s, key)
	})
}

func testShortRead(t *testing.T, s hub.BlobStore) {
	for _, tc := range failureCases() {
		if !tc.known {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			key := newKey(t, s)
			// The reader ends cleanly at tc.fail, short of the declared total.
			_, err := s.Put(t.Context(), key, onlyReader{newGen(1, tc.fail)}, tc.total)
			assertCode(t, "Put of a short body", err, hub.EINVALID)
			assertAbsent(t, s, key)
		})
	}
	t.Run("at part boundary", func(t *testing.T) {
		// Ends exactly where an S3 part ends: no partial read to give it away.
		key := newKey(t, s)
		_, err := s.Put(t.Context(), key, onlyReader{newGen(1, 16<<20)}, 20<<20)
		assertCode(t, "Put of a short body", err, hub.EINVALID)
		assertAbsent(t, s, key)
	})
}

func testLongRead(t *testing.T, s hub.BlobStore) {
	for _, tc := range failureCases() {
		if !tc.known {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			key := newKey(t, s)
			// The reader holds more than the declared size.
			_, err := s.Put(t.Context(), key, onlyReader{newGen(1, tc.total)}, tc.fail)
			assertCode(t, "Put of a long body", err, hub.EINVALID)
			assertAbsent(t, s, key)
		})
	}
}

func testCheck(t *testing.T, s hub.BlobStore) {
	if err := s.Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
}

// testBig stores an object over 100 MiB with the size unknown and known,
// reads it back by sha256, and fails when the heap grows by more than
// bigHeapLimit on the way: a driver must stream, not buffer.
func testBig(t *testing.T, s hub.BlobStore) {
	if testing.Short() {
		t.Skip("stores two objects of 110 MiB; skipped with -short")
	}
	want := sha256.New()
	if _, err := io.Copy(want, newGen(42, bigSize)); err != nil {
		t.Fatal(err)
	}
	wantSum := want.Sum(nil)

	for _, size := range []int64{-1, bigSize} {
		t.Run(fmt.Sprint("size", size), func(t *testing.T) {
			key := newKey(t, s)
			peak := watchHeap(t)

			start := time.Now()
			n, err := s.Put(t.Context(), key, onlyReader{newGen(42, bigSize)}, size)
			if err != nil {
				t.Fatalf("Put: %v", err)
			}
			if n != bigSize {
				t.Fatalf("Put stored %d bytes, want %d", n, bigSize)
			}
			put := time.Since(start)
			checkHeap(t, "storing", peak())

			start = time.Now()
			b, err := s.Open(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			got := sha256.New()
			m, err := io.Copy(got, onlyReader{b})
			if err != nil {
				t.Fatalf("read back: %v", err)
			}
			if m != bigSize || !bytes.Equal(got.Sum(nil), wantSum) {
				t.Fatalf("read back %d bytes with sha256 %x, want %d bytes with %x", m, got.Sum(nil), bigSize, wantSum)
			}
			growth := peak()
			t.Logf("put %v, read %v, peak heap growth %.1f MiB", put, time.Since(start), float64(growth)/(1<<20))
			checkHeap(t, "storing and reading", growth)
		})
	}
}

func checkHeap(t *testing.T, what string, growth uint64) {
	t.Helper()
	if growth > bigHeapLimit {
		t.Fatalf("heap grew by %.1f MiB %s %d MiB; limit %d MiB: the driver buffers",
			float64(growth)/(1<<20), what, bigSize>>20, bigHeapLimit>>20)
	}
}

func heapInuse(samples []metrics.Sample) uint64 {
	metrics.Read(samples)
	var sum uint64
	for _, s := range samples {
		sum += s.Value.Uint64()
	}
	return sum
}

// watchHeap samples the in-use heap every few milliseconds until the test
// ends and returns a func reporting the peak growth so far over the level
// after a GC at the start.
func watchHeap(t *testing.T) (peak func() uint64) {
	// These two sum to what runtime.MemStats calls HeapInuse: spans holding
	// objects, live or not yet swept, and the free space inside them. Read
	// through runtime/metrics, they can be sampled without stopping the
	// world.
	names := []string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes"}
	samples := make([]metrics.Sample, len(names))
	for i, name := range names {
		samples[i].Name = name
	}
	runtime.GC()
	base := heapInuse(samples)

	var highest atomic.Uint64
	highest.Store(base)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			if v := heapInuse(samples); v > highest.Load() {
				highest.Store(v)
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
	})
	return func() uint64 { return highest.Load() - base }
}

// testList checks that List names every finished object with its
// modification time, and stops at fn's error.
func testList(t *testing.T, s hub.BlobStore) {
	ctx := t.Context()
	want := map[string]bool{}
	for i := range 3 {
		key := newKey(t, s)
		if _, err := s.Put(ctx, key, newGen(uint64(i), 100), 100); err != nil {
			t.Fatal(err)
		}
		want[key] = true
	}
	seen := map[string]bool{}
	err := s.List(ctx, func(key string, mod time.Time) error {
		if time.Since(mod) > time.Minute || time.Until(mod) > time.Minute {
			t.Errorf("List: %s modified %v, not about now", key, mod)
		}
		seen[key] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("List did not name %s", key)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.List(ctx, func(string, time.Time) error { calls++; return stop }); !errors.Is(err, stop) || calls != 1 {
		t.Errorf("List with fn failing: %v after %d calls; want fn's error after 1", err, calls)
	}
}

// gatedReader yields its first n bytes, then waits for open to be closed
// and goes on, or ends in fail when that is set by then.
type gatedReader struct {
	r       io.Reader
	n       int64
	reached chan struct{}
	open    chan struct{}
	fail    error
	once    sync.Once
}

func (g *gatedReader) Read(p []byte) (int, error) {
	if g.n <= 0 {
		g.once.Do(func() { close(g.reached) })
		<-g.open
		if g.fail != nil {
			return 0, g.fail
		}
		return g.r.Read(p)
	}
	if int64(len(p)) > g.n {
		p = p[:g.n]
	}
	n, err := g.r.Read(p)
	g.n -= int64(n)
	return n, err
}

// testSweepPartial checks that a sweep leaves a Put in progress alone when
// keep claims its key or when it is younger than the cutoff, and removes it
// otherwise (as if its process had died), and that a finished object is
// never a partial write.
func testSweepPartial(t *testing.T, s hub.BlobStore) {
	ctx := t.Context()
	done := newKey(t, s)
	if _, err := s.Put(ctx, done, newGen(9, 100), 100); err != nil {
		t.Fatal(err)
	}
	start := func(key string, seed uint64) (*gatedReader, chan error) {
		// Past one S3 part, so a multipart upload is under way.
		g := &gatedReader{r: newGen(seed, partSpan+1000), n: partSpan, reached: make(chan struct{}), open: make(chan struct{})}
		errc := make(chan error, 1)
		go func() {
			_, err := s.Put(ctx, key, g, -1)
			errc <- err
		}()
		select {
		case <-g.reached:
		case err := <-errc:
			t.Fatalf("Put ended early: %v", err)
		}
		time.Sleep(200 * time.Millisecond) // the part is on its way
		return g, errc
	}

	live := newKey(t, s)
	g, errc := start(live, 1)
	if n, err := s.SweepPartial(ctx, time.Now().Add(-time.Hour), nil); err != nil || n != 0 {
		t.Fatalf("SweepPartial(an hour ago) = %d, %v; want 0 for a fresh Put", n, err)
	}
	if n, err := s.SweepPartial(ctx, time.Now().Add(time.Hour), func(k string) bool { return k == live }); err != nil || n != 0 {
		t.Fatalf("SweepPartial(keeping the key) = %d, %v; want 0", n, err)
	}
	close(g.open)
	if err := <-errc; err != nil {
		t.Fatalf("Put after the sweeps: %v", err)
	}
	b, err := s.Open(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	got := sha256.New()
	if _, err := io.Copy(got, b); err != nil {
		t.Fatal(err)
	}
	b.Close()
	wantSum := sha256.New()
	io.Copy(wantSum, newGen(1, partSpan+1000))
	if !bytes.Equal(got.Sum(nil), wantSum.Sum(nil)) {
		t.Fatal("the Put that ran during the sweeps stored other bytes")
	}

	dead := newKey(t, s)
	g, errc = start(dead, 2)
	n, err := s.SweepPartial(ctx, time.Now().Add(time.Hour), nil)
	if err != nil || n != 1 {
		t.Fatalf("SweepPartial(an hour from now) = %d, %v; want 1: the Put in progress", n, err)
	}
	g.fail = errors.New("the client is gone")
	close(g.open)
	if err := <-errc; err == nil {
		t.Fatal("a Put whose partial write was swept succeeded")
	}
	assertAbsent(t, s, dead)
	if _, err := s.Stat(ctx, done); err != nil {
		t.Fatalf("a finished object after the sweeps: %v", err)
	}
	if n, err := s.SweepPartial(ctx, time.Now().Add(time.Hour), nil); err != nil || n != 0 {
		t.Fatalf("SweepPartial with nothing unfinished = %d, %v; want 0", n, err)
	}
}
