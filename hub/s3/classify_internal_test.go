package s3

import (
	"context"
	"fmt"
	"syscall"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/syndication-hub/hub/hub"
)

// TestClassify pins how the store's answers become domain errors. A full
// The engine's own answers on a full drive are met by TestFaultS3Full
// (server/); this table holds every wording the classification knows.
func TestClassify(t *testing.T) {
	s := &Store{endpoint: "minio:9000", bucket: "b"}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range []struct {
		name string
		ctx  context.Context
		err  error
		want string
	}{
		{"no such key", context.Background(), minio.ErrorResponse{Code: minio.NoSuchKey, StatusCode: 404}, hub.ENOTFOUND},
		{"storage full", context.Background(), minio.ErrorResponse{Code: "XMinioStorageFull", StatusCode: 507,
			Message: "Storage backend has reached its minimum free drive threshold. Please delete a few objects to proceed."}, hub.EFULL},
		{"threshold in the message", context.Background(), minio.ErrorResponse{Code: "InternalError", StatusCode: 500,
			Message: "Storage reached its minimum free drive threshold."}, hub.EFULL},
		{"no byte left on the drive", context.Background(), minio.ErrorResponse{Code: "InternalError", StatusCode: 500,
			Message: "We encountered an internal error, please try again.: cause(no space left on device)"}, hub.EFULL},
		{"slow down", context.Background(), minio.ErrorResponse{Code: "SlowDown", StatusCode: 503}, hub.EUNAVAILABLE},
		{"not initialized", context.Background(), minio.ErrorResponse{Code: "XMinioServerNotInitialized", StatusCode: 503}, hub.EUNAVAILABLE},
		{"refused", context.Background(), fmt.Errorf("dial: %w", syscall.ECONNREFUSED), hub.EUNAVAILABLE},
		{"access denied", context.Background(), minio.ErrorResponse{Code: "AccessDenied", StatusCode: 403}, hub.EINTERNAL},
		{"the caller went away", canceled, fmt.Errorf("put: %w", context.Canceled), hub.EINTERNAL},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := s.classify(tt.ctx, "put", "k", tt.err, true)
			if got := hub.ErrorCode(err); got != tt.want {
				t.Errorf("classify(%v) = %v (%s), want %s", tt.err, err, got, tt.want)
			}
		})
	}
}
