package natsfault_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/natsfault"
)

// TestClassify pins how NATS failures become domain errors. The engines'
// own faults (a stopped server, a full disk) are in server/faults_test.go;
// this covers the answers those tests cannot provoke one by one.
func TestClassify(t *testing.T) {
	bg := context.Background()
	failed := func() string { return "write: no space left on device" }
	for _, tt := range []struct {
		name        string
		err         error
		write       bool
		storeFailed func() string
		want        string
	}{
		{"insufficient resources", &jetstream.APIError{Code: 503, ErrorCode: natsfault.JSInsufficientResources, Description: "insufficient resources"}, true, nil, hub.EFULL},
		{"storage exceeded", &jetstream.APIError{Code: 500, ErrorCode: natsfault.JSStorageResourcesExceeded, Description: "insufficient storage resources available"}, true, nil, hub.EFULL},
		{"no space in the text", fmt.Errorf("nats: write failed: no space left on device"), true, nil, hub.EFULL},
		{"no responders", fmt.Errorf("put: %w", nats.ErrNoResponders), true, nil, hub.EUNAVAILABLE},
		{"timeout", fmt.Errorf("put: %w", context.DeadlineExceeded), true, nil, hub.EUNAVAILABLE},
		{"timeout of a failed embedded store", fmt.Errorf("put: %w", context.DeadlineExceeded), true, failed, hub.EFULL},
		{"a read of a failed embedded store", fmt.Errorf("get: %w", context.DeadlineExceeded), false, failed, hub.EUNAVAILABLE},
		{"JetStream off", jetstream.ErrJetStreamNotEnabled, false, nil, hub.EUNAVAILABLE},
		{"conflict stays", jetstream.ErrKeyExists, true, nil, hub.EINTERNAL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := natsfault.Classify(bg, tt.err, tt.write, tt.storeFailed)
			if got := hub.ErrorCode(err); got != tt.want {
				t.Errorf("classify(%v) = %v (%s), want %s", tt.err, err, got, tt.want)
			}
		})
	}
	if err := natsfault.Classify(bg, jetstream.ErrKeyExists, true, nil); !natsfault.Conflict(err) {
		t.Errorf("a conflict is no longer one after classify: %v", err)
	}
}

// TestPublishFailed pins what a failed publish says became of it: not
// saved only when it never reached NATS, unconfirmed (never failed) when
// NATS did not answer, EFULL for no room, and JetStream's own refusals
// and the caller's cancellation as they are.
func TestPublishFailed(t *testing.T) {
	bg := context.Background()
	canceled, cancel := context.WithCancel(bg)
	cancel()
	failed := func() string { return "write: no space left on device" }
	for _, tt := range []struct {
		name        string
		ctx         context.Context
		err         error
		storeFailed func() string
		want, says  string
	}{
		{"not sent", bg, fmt.Errorf("publish: %w", nats.ErrReconnectBufExceeded), nil, hub.EUNAVAILABLE, "NATS is not answering, so the report was not saved"},
		{"no responders", bg, jetstream.ErrNoStreamResponse, nil, hub.EUNAVAILABLE, "was not saved"},
		{"timeout", bg, fmt.Errorf("publish: %w", context.DeadlineExceeded), nil, hub.EUNAVAILABLE, "NATS did not confirm whether the report was saved"},
		{"connection lost", bg, nats.ErrConnectionClosed, nil, hub.EUNAVAILABLE, "did not confirm"},
		{"timeout of a failed embedded store", bg, context.DeadlineExceeded, failed, hub.EFULL, "nothing was changed"},
		{"no room", bg, &jetstream.APIError{Code: 503, ErrorCode: natsfault.JSInsufficientResources, Description: "insufficient resources"}, nil, hub.EFULL, "no room left"},
		{"a wrong stream stays", bg, &jetstream.APIError{Code: 400, ErrorCode: 10060, Description: "expected stream does not match"}, nil, hub.EINTERNAL, ""},
		{"the caller's cancellation stays", canceled, context.Canceled, nil, hub.EINTERNAL, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := natsfault.PublishFailed(tt.ctx, tt.err, "the report", tt.storeFailed)
			if got := hub.ErrorCode(err); got != tt.want || !strings.Contains(hub.ErrorMessage(err), tt.says) || !errors.Is(err, tt.err) {
				t.Errorf("PublishFailed(%v) = %v (%s), want %s saying %q", tt.err, err, got, tt.want, tt.says)
			}
		})
	}
}
