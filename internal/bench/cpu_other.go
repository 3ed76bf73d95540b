//go:build !unix

package bench

import "time"

// cpuMeasured: without getrusage the CPU figures are "n/a".
const cpuMeasured = false

func processCPU() time.Duration { return 0 }
