package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/roster-dev/roster/internal/directory"
)

// auditJSON is one entry of `roster audit --json` (one object per line,
// so the output streams into jq or a log shipper).
type auditJSON struct {
	At         string   `json:"at"`
	Actor      string   `json:"actor"`
	Action     string   `json:"action"`
	TargetType string   `json:"target_type"`
	TargetID   string   `json:"target_id"`
	Fields     []string `json:"fields"`
	RequestID  string   `json:"request_id,omitempty"`
	ID         string   `json:"id"`
}

// parseSince reads --since: a duration back from now ("24h", "90m") or a
// time (RFC 3339, or a date YYYY-MM-DD in UTC).
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: --since %q: want a duration (24h) or a time (2006-01-02 or RFC 3339)", errUsage, s)
}

// auditCmd is `roster audit --tenant T [--since DURATION|TIME] [--user ID]
// [--json]`: the tenant's audit log, oldest first.
func auditCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	s := newSetup("audit").withTenant()
	since := s.fs.String("since", "", "only entries from this long ago (24h) or since this time (RFC 3339 or YYYY-MM-DD)")
	user := s.fs.String("user", "", "only entries about this user (or group, or credential) id")
	asJSON := s.fs.Bool("json", false, "print one JSON object per line")
	var from time.Time
	_, o, err := s.open(ctx, args, 0, "no arguments besides the flags", func([]string) error {
		var err error
		from, err = parseSince(*since, time.Now())
		return err
	}, stderr)
	if err != nil {
		return err
	}
	defer o.Close()
	es, err := o.svc.ListAudit(ctx, *s.tenant, directory.AuditQuery{Since: from, TargetID: *user})
	if err != nil {
		return describe(tenantError(*s.tenant, err))
	}
	if *asJSON {
		for _, e := range es {
			if err := printJSONLine(stdout, toAuditJSON(e)); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tACTOR\tACTION\tTARGET\tFIELDS\tREQUEST_ID")
	for _, e := range es {
		fields := strings.Join(e.Fields, ",")
		if fields == "" {
			fields = "-"
		}
		rid := e.RequestID
		if rid == "" {
			rid = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Format(time.RFC3339Nano), e.Actor, e.Action, e.TargetID, fields, rid)
	}
	return tw.Flush()
}

func toAuditJSON(e *directory.AuditEntry) auditJSON {
	fields := e.Fields
	if fields == nil {
		fields = []string{}
	}
	return auditJSON{At: e.At.Format(time.RFC3339Nano), Actor: e.Actor, Action: e.Action, TargetType: e.TargetType,
		TargetID: e.TargetID, Fields: fields, RequestID: e.RequestID, ID: e.ID}
}

func printJSONLine(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
