package s3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/syndication-hub/hub/hub"
)

// DefaultStallTimeout is how long an S3 request may move no byte, in
// either direction, before it fails, when Options.StallTimeout is 0.
const DefaultStallTimeout = 15 * time.Second

// dialTimeout bounds connecting to the endpoint.
const dialTimeout = 10 * time.Second

// newTransport is the HTTP transport of the S3 client. A total timeout
// would cut off multi-gigabyte transfers, so every request has a progress
// watchdog instead: each connection fails a read or write that moves no
// byte for stall (a stalled peer, whose TCP window stays shut, or one that
// sends nothing back). The server must also start its answer within stall
// of the request's last byte.
func newTransport(stall time.Duration, secure bool) *http.Transport {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 15 * time.Second}
	t := &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &progressConn{Conn: c, stall: stall}, nil
		},
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       time.Minute,
		TLSHandshakeTimeout:   dialTimeout,
		ResponseHeaderTimeout: stall,
		ExpectContinueTimeout: time.Second,
		// minio-go sets its own compression headers; a transparent gzip
		// would change the bytes it checksums.
		DisableCompression: true,
	}
	if secure {
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return t
}

// progressConn extends its deadline by stall before every read and write,
// so an operation fails only when no byte has moved for stall. A pending
// read (the transport waits for the answer while the body goes out) sees
// the deadline a write extends, so a long upload that keeps moving is
// never cut off. An idle pooled connection times out and is dropped.
type progressConn struct {
	net.Conn
	stall time.Duration
}

func (c *progressConn) Read(p []byte) (int, error) {
	if err := c.Conn.SetDeadline(time.Now().Add(c.stall)); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *progressConn) Write(p []byte) (int, error) {
	// Write in pieces, each extending the deadline, so one large buffer
	// that the peer takes slowly but steadily is not a stall.
	const piece = 64 << 10
	var n int
	for len(p) > 0 {
		chunk := p[:min(len(p), piece)]
		if err := c.Conn.SetDeadline(time.Now().Add(c.stall)); err != nil {
			return n, err
		}
		m, err := c.Conn.Write(chunk)
		n += m
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}

// storageFullCodes are S3 error codes that mean the store has no room.
var storageFullCodes = map[string]bool{
	"XMinioStorageFull":              true,
	"XMinioAdminBucketQuotaExceeded": true,
}

// unavailableCodes are S3 error codes that mean the store is not serving
// now but may soon.
var unavailableCodes = map[string]bool{
	"SlowDown":                   true,
	"ServiceUnavailable":         true,
	"XMinioServerNotInitialized": true,
	"XMinioReadQuorum":           true,
	"XMinioWriteQuorum":          true,
	"XMinioBackendDown":          true,
	"RequestTimeout":             true,
}

// classify turns the store's failures into domain errors: ENOTFOUND for a
// missing key, EFULL when the store has no room, EUNAVAILABLE when it does
// not answer (a refused or broken connection, a stall, a 5xx saying it is
// busy or down). The caller's own cancellation and everything else pass
// through with context. write says whether the sentence may add "nothing
// was stored" (a write).
func (s *Store) classify(ctx context.Context, op, key string, err error, write bool) error {
	if err == nil {
		return nil
	}
	var herr *hub.Error
	if errors.As(err, &herr) {
		return err
	}
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		// The caller went away; a deadline that passed (the caller's own,
		// as /readyz sets) is the store not answering in time.
		return fmt.Errorf("s3: %s %s: %w", op, key, err)
	}
	after := ""
	if write {
		after = "; nothing was stored"
	}
	resp := minio.ToErrorResponse(err)
	switch {
	case resp.Code == minio.NoSuchKey:
		return hub.Errorf(hub.ENOTFOUND, "Blob %s does not exist.", key)
	case storageFullCodes[resp.Code] || strings.Contains(resp.Message, "minimum free drive threshold") ||
		// A drive with no byte left: MinIO answers InternalError with
		// the cause appended (seen on a full tmpfs, MinIO 2025).
		strings.Contains(resp.Message, "no space left on device") ||
		errors.Is(err, syscall.ENOSPC):
		return fmt.Errorf("%w: %w", hub.Errorf(hub.EFULL,
			"the blob store (S3 at %s) is full%s; free space there and try again", s.endpoint, after), err)
	case unavailableCodes[resp.Code], resp.StatusCode == http.StatusServiceUnavailable,
		resp.StatusCode == http.StatusBadGateway, resp.StatusCode == http.StatusGatewayTimeout,
		resp.Code == "" && notAnswering(err):
		return fmt.Errorf("%w: %w", hub.Errorf(hub.EUNAVAILABLE,
			"the blob store (S3 at %s) is not answering%s; try again in a minute", s.endpoint, after), err)
	}
	return fmt.Errorf("s3: %s %s in bucket %s: %w", op, key, s.bucket, err)
}

// notAnswering reports whether err is a transport failure: the endpoint
// refused, dropped or stalled the connection, or its deadline passed.
func notAnswering(err error) bool {
	var nerr net.Error
	var operr *net.OpError
	switch {
	case errors.As(err, &nerr), errors.As(err, &operr),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, context.DeadlineExceeded):
		return true
	}
	// minio-go flattens some transport errors into strings.
	msg := err.Error()
	for _, s := range []string{"connection refused", "connection reset", "broken pipe", "i/o timeout",
		"timeout awaiting response headers", "server closed", "EOF", "no such host"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
