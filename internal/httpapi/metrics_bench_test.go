package httpapi

import (
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
)

// BenchmarkMetricsObserve is the per-request cost of the metrics: one
// counter, one histogram, the auth-note checks.
func BenchmarkMetricsObserve(b *testing.B) {
	m := NewMetrics()
	note := &directory.AuthNote{}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.observe("truv", "GET /v1/users/{id}/{$}", 200, 3*time.Millisecond, note, nil)
		}
	})
}
