//go:build unix

package bench

import (
	"syscall"
	"time"
)

// cpuMeasured: getrusage gives the process's CPU time here.
const cpuMeasured = true

// processCPU is this process's user + system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
