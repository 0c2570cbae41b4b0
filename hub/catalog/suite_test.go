package catalog_test

import (
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalogtest"
	"github.com/syndication-hub/hub/hub/natstest"
)

// TestJetStreamSuite runs the catalog suite on a real embedded NATS; a
// replica is a second catalog on the same buckets, as another hub process
// would open.
func TestJetStreamSuite(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) (hub.Catalog, func() hub.Catalog) {
		srv := natstest.Start(t, "")
		return open(t, srv), func() hub.Catalog { return open(t, srv) }
	})
}
