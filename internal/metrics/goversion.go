package metrics

import (
	"runtime"
	"runtime/debug"
)

// goVersion is the Go release the binary was built with.
func goVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.GoVersion != "" {
		return bi.GoVersion
	}
	return runtime.Version()
}
