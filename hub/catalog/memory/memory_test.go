package memory_test

import (
	"testing"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/catalog/memory"
	"github.com/syndication-hub/hub/hub/catalogtest"
)

func TestMemorySuite(t *testing.T) {
	catalogtest.Run(t, func(t *testing.T) (hub.Catalog, func() hub.Catalog) {
		c := memory.New()
		return c, func() hub.Catalog { return c } // one process: its replica is itself
	})
}
