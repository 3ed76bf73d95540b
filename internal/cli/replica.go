package cli

import (
	"github.com/roster-dev/roster/internal/httpapi"
	"github.com/roster-dev/roster/internal/store"
)

// registerReplicaMetrics exports how user lists and searches were served
// with a read replica configured (ROSTER_DB_READ): a growing
// roster_db_replica_fallback_reads means the replica lags by more than
// the store waits for it, or fails, and the primary does its work.
func registerReplicaMetrics(m *httpapi.Metrics, st *store.Store) {
	m.Gauge("roster_db_replica_reads", "User lists and searches served by the read replica since start.",
		func() float64 { served, _ := st.ReplicaReads(); return float64(served) })
	m.Gauge("roster_db_replica_fallback_reads", "User lists and searches served by the primary since start because the read replica was behind or failing.",
		func() float64 { _, fellBack := st.ReplicaReads(); return float64(fellBack) })
}
