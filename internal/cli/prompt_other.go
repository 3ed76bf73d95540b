//go:build !linux

package cli

import (
	"errors"
	"io"
	"os"
)

// promptHidden is implemented for Linux terminals only; elsewhere the
// password comes with --password-stdin.
func promptHidden(*os.File, io.Writer, string) (string, error) {
	return "", errors.New("prompting for a password is supported on Linux only: use --password-stdin")
}
