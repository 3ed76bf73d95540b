package cli

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/roster-dev/roster/internal/httpapi"
	"github.com/roster-dev/roster/internal/store"
)

// registerReplicaMetrics adds the read replica's counters to serve's
// registry: how many lists and searches it served, and how many went to
// the primary because it was behind or failing.
func registerReplicaMetrics(m *httpapi.Metrics, st *store.Store) error {
	reg := m.Registry()
	for _, c := range []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "roster_db_replica_reads_total",
			Help: "User lists and searches served by the read replica since start."},
			func() float64 { served, _ := st.ReplicaReads(); return float64(served) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "roster_db_replica_fallback_reads_total",
			Help: "User lists and searches served by the primary since start because the read replica was behind or failing."},
			func() float64 { _, fellBack := st.ReplicaReads(); return float64(fellBack) }),
	} {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
