package cli

import (
	"fmt"

	"github.com/roster-dev/roster/internal/httpapi"
)

// checkPprofAddr validates a --pprof flag before anything is opened: a
// non-loopback address is a command line that does not parse (exit 2),
// not a failure after the database was touched.
func checkPprofAddr(addr string) error {
	if addr == "" {
		return nil
	}
	if err := httpapi.CheckPprofAddr(addr); err != nil {
		return fmt.Errorf("%w: --pprof: %w", errUsage, err)
	}
	return nil
}
