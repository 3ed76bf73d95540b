package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/store"
)

// maxReencryptPasses bounds `key rotate`: a pass re-encrypts what it finds
// under an old key, and what a process still on the old key wrote during
// it is left for the next one. Passes that keep finding work mean some
// instance still seals with an old key.
const maxReencryptPasses = 5

// keyRotate implements `roster key rotate [--reencrypt] [--batch N]`.
//
// With a key file (SQLite without ROSTER_ENCRYPTION_KEY) it puts a new key
// first in the file, waits until running servers, which re-read the file,
// seal with it, and re-encrypts every SSN (and stored idempotent response)
// sealed under another key, online, in batches. With --reencrypt, or when
// the keys come from ROSTER_ENCRYPTION_KEY (PostgreSQL: the operator puts
// the new key first on every instance), it only re-encrypts. Old keys stay
// in the ring: remove them once `roster key status` shows 0 under them.
func keyRotate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSetup("key rotate")
	only := s.fs.Bool("reencrypt", false, "add no key: re-encrypt what is sealed under keys other than the first (resumes an interrupted rotation)")
	batch := s.fs.Int("batch", 500, "rows per transaction, `N`")
	validate := func([]string) error {
		if *batch < 1 || *batch > 10000 {
			return fmt.Errorf("%w: --batch must be 1 to 10000", errUsage)
		}
		return nil
	}
	_, o, err := s.open(ctx, args, 0, "no arguments", validate, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	kr := o.store.Keyring()
	if !*only {
		path := kr.KeyFile()
		if path == "" {
			return fmt.Errorf("the keys come from ROSTER_ENCRYPTION_KEY, which this command cannot change: " +
				"put a new key first in it on every instance (see docs/SECURITY.md), then run \"roster key rotate --reencrypt\"")
		}
		id, err := secret.AddKeyToFile(path)
		if err != nil {
			return err
		}
		if err := kr.Reload(); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "added key %s first in %s; the other keys stay to read what they sealed\n", id, path)
		// A running server looks at the file at least every
		// ReloadInterval; after the wait everything it seals is under the
		// new key.
		wait := secret.ReloadInterval + 500*time.Millisecond
		fmt.Fprintf(stdout, "waiting %v for running servers to load it\n", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	current := kr.CurrentKeyID()
	var total store.ReencryptStats
	for pass := 1; ; pass++ {
		st, err := o.store.Reencrypt(ctx, *batch, func(p store.ReencryptStats) {
			fmt.Fprintf(stderr, "\rpass %d: %d scanned, %d re-encrypted", pass, p.Scanned, p.Reencrypted)
		})
		fmt.Fprintln(stderr)
		if err != nil {
			return fmt.Errorf("re-encrypt (run again to resume): %w", err)
		}
		total.Reencrypted += st.Reencrypted
		total.Scanned += st.Scanned
		if st.Reencrypted == 0 && st.Skipped == 0 {
			break
		}
		if pass == maxReencryptPasses {
			return fmt.Errorf("after %d passes values are still being sealed under old keys: is key %s first on every instance? Run \"roster key rotate --reencrypt\" again once it is", pass, current)
		}
	}
	fmt.Fprintf(stdout, "re-encrypted %d value(s) under key %s\n", total.Reencrypted, current)
	return printKeyStatus(ctx, o.store, stdout, false)
}

// keyStatus implements `roster key status [--json]`.
func keyStatus(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSetup("key status")
	asJSON := s.fs.Bool("json", false, "print JSON instead of text")
	_, o, err := s.open(ctx, args, 0, "no arguments", nil, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	return printKeyStatus(ctx, o.store, stdout, *asJSON)
}

// keyStatusJSON is one line of `key status --json`.
type keyStatusJSON struct {
	store.KeyUsage
	Current   bool `json:"current"`
	InKeyring bool `json:"in_keyring"`
}

func printKeyStatus(ctx context.Context, st *store.Store, stdout io.Writer, asJSON bool) error {
	usage, err := st.KeyUsage(ctx)
	if err != nil {
		return err
	}
	kr := st.Keyring()
	byID := map[string]store.KeyUsage{}
	for _, u := range usage {
		byID[u.KeyID] = u
	}
	// The ring's keys in their order, then ids only the data names.
	var rows []keyStatusJSON
	for _, id := range kr.KeyIDs() {
		u := byID[id]
		u.KeyID = id
		rows = append(rows, keyStatusJSON{KeyUsage: u, Current: id == kr.CurrentKeyID(), InKeyring: true})
		delete(byID, id)
	}
	for _, u := range usage {
		if _, left := byID[u.KeyID]; left {
			rows = append(rows, keyStatusJSON{KeyUsage: u})
		}
	}
	if asJSON {
		return printJSON(stdout, rows)
	}
	fmt.Fprintf(stdout, "%-16s %-9s %10s %10s %10s\n", "KEY", "", "SSNS", "RESPONSES", "WEBHOOKS")
	for _, r := range rows {
		note := ""
		switch {
		case r.Current:
			note = "current"
		case !r.InKeyring:
			note = "MISSING"
		}
		fmt.Fprintf(stdout, "%-16s %-9s %10d %10d %10d\n", r.KeyID, note, r.SSNs, r.Responses, r.Webhooks)
	}
	return nil
}
