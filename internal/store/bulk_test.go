package store_test

import (
	"testing"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/directory/storetest"
	"github.com/roster-dev/roster/internal/testdb"
)

func TestBulkConformance(t *testing.T) {
	t.Parallel()
	for _, backend := range testdb.Backends {
		t.Run(backend, func(t *testing.T) {
			storetest.RunBulk(t, func(t *testing.T) directory.Store {
				return testdb.Open(t, backend)
			})
		})
	}
}
