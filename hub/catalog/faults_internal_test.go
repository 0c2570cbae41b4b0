package catalog

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/syndication-hub/hub/hub"
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
		{"insufficient resources", &jetstream.APIError{Code: 503, ErrorCode: jsInsufficientResources, Description: "insufficient resources"}, true, nil, hub.EFULL},
		{"storage exceeded", &jetstream.APIError{Code: 500, ErrorCode: jsStorageResourcesExceeded, Description: "insufficient storage resources available"}, true, nil, hub.EFULL},
		{"no space in the text", fmt.Errorf("nats: write failed: no space left on device"), true, nil, hub.EFULL},
		{"no responders", fmt.Errorf("put: %w", nats.ErrNoResponders), true, nil, hub.EUNAVAILABLE},
		{"timeout", fmt.Errorf("put: %w", context.DeadlineExceeded), true, nil, hub.EUNAVAILABLE},
		{"timeout of a failed embedded store", fmt.Errorf("put: %w", context.DeadlineExceeded), true, failed, hub.EFULL},
		{"a read of a failed embedded store", fmt.Errorf("get: %w", context.DeadlineExceeded), false, failed, hub.EUNAVAILABLE},
		{"JetStream off", jetstream.ErrJetStreamNotEnabled, false, nil, hub.EUNAVAILABLE},
		{"conflict stays", jetstream.ErrKeyExists, true, nil, hub.EINTERNAL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := classify(bg, tt.err, tt.write, tt.storeFailed)
			if got := hub.ErrorCode(err); got != tt.want {
				t.Errorf("classify(%v) = %v (%s), want %s", tt.err, err, got, tt.want)
			}
		})
	}
	if err := classify(bg, jetstream.ErrKeyExists, true, nil); !isConflict(err) {
		t.Errorf("a conflict is no longer one after classify: %v", err)
	}
}
