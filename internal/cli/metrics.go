package cli

import (
	"github.com/roster-dev/roster/internal/config"
	"github.com/roster-dev/roster/internal/httpapi"
	"github.com/roster-dev/roster/internal/metrics"
)

// newMetrics returns serve's registry with the operational collectors
// that need no store; the caller adds the store's once it is open
// (Ops.AddStore) and gives Ops.ObserveCommit to the store.
func newMetrics(c *config.Config) (*httpapi.Metrics, *metrics.Ops, error) {
	m := httpapi.NewMetrics()
	commit, _, _ := buildVCS()
	backend := "sqlite"
	if config.IsPostgres(c.DB) {
		backend = "postgres"
	}
	ops, err := metrics.Register(m.Registry(), metrics.Options{
		Version: version(), Revision: commit, Backend: backend,
		// The webhook dispatcher, which needs the open store, adds its
		// stats with ops.AddWebhookStats once it runs.
	})
	if err != nil {
		return nil, nil, err
	}
	return m, ops, nil
}
