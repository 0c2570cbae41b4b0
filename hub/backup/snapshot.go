package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"
)

// The JetStream stream snapshot and restore protocol ($JS.API.STREAM.
// SNAPSHOT and RESTORE), spoken directly: the snapshot carries the
// stream's messages with their sequence numbers and its consumers with
// their positions, which a copy message by message would lose.

// chunkSize is the size of the snapshot's chunks, both ways: the server's
// default, far below any max_payload the hub runs with.
const chunkSize = 128 << 10

// chunkWait bounds the wait for one chunk or its ack: the server itself
// gives up on a silent peer after 5 s (snapshot) or 5 s (restore).
const chunkWait = 30 * time.Second

// apiError is the error of a JetStream API response.
type apiError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s (JetStream error %d)", e.Description, e.ErrCode)
}

// snapshotResponse answers a snapshot request: the stream's configuration
// and state, kept as the server wrote them so no field a newer server
// knows is lost on the way back.
type snapshotResponse struct {
	Error  *apiError       `json:"error,omitempty"`
	Config json.RawMessage `json:"config"`
	State  json.RawMessage `json:"state"`
}

// snapshot streams a snapshot of stream name, with its consumers, to w
// and returns the stream's configuration and state at the snapshot.
func snapshot(ctx context.Context, nc *nats.Conn, name string, w io.Writer) (config, state json.RawMessage, err error) {
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, nil, fmt.Errorf("subscribe for the snapshot of %s: %w", name, err)
	}
	defer sub.Unsubscribe()
	req, _ := json.Marshal(map[string]any{"deliver_subject": inbox, "chunk_size": chunkSize})
	msg, err := request(ctx, nc, "$JS.API.STREAM.SNAPSHOT."+name, req)
	if err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w", name, err)
	}
	var resp snapshotResponse
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return nil, nil, fmt.Errorf("snapshot %s: decode the answer: %w", name, err)
	}
	if resp.Error != nil {
		return nil, nil, fmt.Errorf("snapshot %s: %w", name, resp.Error)
	}
	for {
		wait, cancel := context.WithTimeout(ctx, chunkWait)
		chunk, err := sub.NextMsgWithContext(wait)
		cancel()
		if err != nil {
			return nil, nil, fmt.Errorf("snapshot %s: wait for the next chunk: %w", name, err)
		}
		if len(chunk.Data) == 0 {
			// The end: a bare status 204 (or none), or the server's error.
			if st := chunk.Header.Get("Status"); st != "" && st != "204" {
				return nil, nil, fmt.Errorf("snapshot %s: the server ended it with %s %s", name, st, chunk.Header.Get("Description"))
			}
			return resp.Config, resp.State, nil
		}
		if _, err := w.Write(chunk.Data); err != nil {
			return nil, nil, fmt.Errorf("snapshot %s: write: %w", name, err)
		}
		if chunk.Reply != "" { // the ack that lets the server send more
			if err := chunk.Respond(nil); err != nil {
				return nil, nil, fmt.Errorf("snapshot %s: ack a chunk: %w", name, err)
			}
		}
	}
}

// restoreResponse answers a restore request, and each chunk with an
// error; the end's answer is a stream create response.
type restoreResponse struct {
	Error          *apiError `json:"error,omitempty"`
	DeliverSubject string    `json:"deliver_subject"`
}

// restore creates stream name from the snapshot r, with config (as the
// snapshot recorded it, replicas changed by the caller) and state.
// JetStream creates the stream only once every chunk has arrived, so a
// restore cut off half-way leaves no stream behind.
func restore(ctx context.Context, nc *nats.Conn, name string, config, state json.RawMessage, r io.Reader) error {
	req, _ := json.Marshal(map[string]json.RawMessage{"config": config, "state": state})
	msg, err := request(ctx, nc, "$JS.API.STREAM.RESTORE."+name, req)
	if err != nil {
		return fmt.Errorf("restore %s: %w", name, err)
	}
	var resp restoreResponse
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return fmt.Errorf("restore %s: decode the answer: %w", name, err)
	}
	if resp.Error != nil {
		return fmt.Errorf("restore %s: %w", name, resp.Error)
	}
	buf := make([]byte, chunkSize)
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			ack, err := sendChunk(ctx, nc, resp.DeliverSubject, buf[:n])
			if err != nil {
				return fmt.Errorf("restore %s: send a chunk: %w", name, err)
			}
			if len(ack.Data) > 0 {
				var e restoreResponse
				if json.Unmarshal(ack.Data, &e) == nil && e.Error != nil {
					return fmt.Errorf("restore %s: %w", name, e.Error)
				}
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return fmt.Errorf("restore %s: read the snapshot: %w", name, rerr)
		}
	}
	// An empty chunk ends the transfer; the answer comes when the stream
	// is made, which for a large one takes a while.
	done, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	end, err := sendChunk(done, nc, resp.DeliverSubject, nil)
	if err != nil {
		return fmt.Errorf("restore %s: finish: %w", name, err)
	}
	var created struct {
		Error *apiError `json:"error,omitempty"`
	}
	if err := json.Unmarshal(end.Data, &created); err != nil {
		return fmt.Errorf("restore %s: decode the end's answer: %w", name, err)
	}
	if created.Error != nil {
		return fmt.Errorf("restore %s: %w", name, created.Error)
	}
	return nil
}

// request sends one request and waits chunkWait at most for its answer.
func request(ctx context.Context, nc *nats.Conn, subject string, data []byte) (*nats.Msg, error) {
	wait, cancel := context.WithTimeout(ctx, chunkWait)
	defer cancel()
	return nc.RequestWithContext(wait, subject, data)
}

// interestWait bounds how long a chunk waits for the restoring server's
// subscription to be known where the client is connected.
const interestWait = 10 * time.Second

// sendChunk sends one chunk of a restore and returns the server's ack.
// On a cluster the server that receives the snapshot answers the restore
// request before its subscription has reached the other nodes' routes,
// so the first chunks may find no responder: nobody received them, and
// they are sent again until the subscription is known.
func sendChunk(ctx context.Context, nc *nats.Conn, subject string, data []byte) (*nats.Msg, error) {
	deadline := time.Now().Add(interestWait)
	for {
		msg, err := request(ctx, nc, subject, data)
		if !errors.Is(err, nats.ErrNoResponders) || time.Now().After(deadline) {
			return msg, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
