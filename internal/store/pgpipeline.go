package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/roster-dev/roster/internal/directory"
)

// PostgreSQL creates are pipelined: the statements of one create (user
// row, claims, aliases, values, audit entry) go to the server in one pgx
// batch, one network round trip, instead of BEGIN, five statements and
// COMMIT, seven round trips each waiting for the last. A batch without
// explicit transaction control ends in one Sync, so PostgreSQL runs it as
// one implicit transaction: it commits at the Sync when every statement
// succeeded, and an error in any statement rolls back those before it and
// skips those after. Its results are read after the commit, so the
// create returns only once it is durable (Invariant 1), as before.
//
// The pipeline cannot branch on a result, so it takes only the path that
// needs none: the claims are inserted without ON CONFLICT, and a taken
// claim (or any other error the server reports) fails the whole batch,
// which wrote nothing; the create then runs again the transactional way
// (CreateUser's writeTx), which names the claim and its holder in one
// transaction, or retries a deadlock. Writes under an Idempotency-Key,
// whose mark must have matched exactly one row, take that way from the
// start.
//
// The batch is sent on the pool's connection through pgx itself, in the
// connection's configured exec mode (pgx's statement cache by default; a
// DSN's default_query_exec_mode=exec or simple_protocol for PgBouncer's
// transaction pooling works the same: the batch is then unnamed
// statements or one multi-statement query, still one implicit
// transaction). Nothing outlives the transaction on the connection.

// errPipelineFallback means the pipelined create wrote nothing and the
// transactional path must decide.
var errPipelineFallback = errors.New("pipelined create: fall back to a transaction")

// createUserPipelined sends the create as one batch. It returns
// errPipelineFallback when the transactional path must run instead.
func (s *Store) createUserPipelined(ctx context.Context, u *directory.User, userArgs []any, values [][]any,
	claims []directory.Claim, ch *directory.Change) error {
	if ch != nil && ch.Idempotency != nil {
		return errPipelineFallback
	}
	b := &pgx.Batch{}
	b.Queue(insertUserSQL, userArgs...)
	if q, args, _ := claimsInsert(u.TenantID, u.ID, claims, false); q != "" {
		b.Queue(q, args...)
	}
	aliases := make([][]any, len(u.Aliases))
	for i, a := range u.Aliases {
		aliases[i] = []any{u.TenantID, u.ID, int64(i), a.ID, a.Type, a.Value, strings.ToLower(a.Value)}
	}
	for _, q := range multiRowInserts(insertAliasesSQL, aliases) {
		b.Queue(q.sql, q.args...)
	}
	for _, q := range multiRowInserts(insertValuesSQL, values) {
		b.Queue(q.sql, q.args...)
	}
	if ch != nil {
		args, err := auditArgs(ch.Audit)
		if err != nil {
			return err
		}
		b.Queue(insertAuditSQL, args...)
		q, args, err := enqueueWebhooksSQL(ch)
		if err != nil {
			return err
		}
		if q != "" {
			b.Queue(q, args...)
		}
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return fmt.Errorf("insert user: %w", s.d.classify(err))
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) (err error) {
		var sc *stdlib.Conn
		switch c := dc.(type) {
		case *pgConn: // the store's own connector (unavailable.go)
			sc = c.conn
		case *stdlib.Conn:
			sc = c
		default:
			return errPipelineFallback
		}
		start := time.Now()
		br := sc.Conn().SendBatch(ctx, b)
		defer func() {
			// The batch's commit is not separable from its statements:
			// the observer is told the whole round trip.
			if s.observe != nil && err == nil {
				s.observe(1, time.Since(start))
			}
		}()
		var first error
		for range b.Len() {
			if _, err := br.Exec(); err != nil && first == nil {
				first = err
			}
		}
		return errors.Join(first, br.Close())
	})
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errPipelineFallback), errors.As(err, &pe):
		// The server refused a statement: the implicit transaction
		// rolled back, nothing is written.
		return errPipelineFallback
	}
	// A broken connection: the batch's outcome is unknown, which is
	// ErrUnavailable (503), never a 2xx.
	return fmt.Errorf("insert user: %w", s.d.classify(markUnavailable(err)))
}

const insertAliasesSQL = `INSERT INTO user_aliases (tenant_id, user_id, seq, id, type, value, value_norm)`

// claimsInsert returns the multi-row INSERT of a user's claims, sorted
// (see insertClaims) and without duplicates (one user may claim a value
// twice: username == alias), with ON CONFLICT DO NOTHING
// RETURNING kind, value when onConflict, else failing on a taken claim.
// It returns the claims too, in that order. The query is "" when there are
// no claims.
func claimsInsert(tenantID, userID string, claims []directory.Claim, onConflict bool) (string, []any, []directory.Claim) {
	cs := slices.Clone(claims)
	slices.SortFunc(cs, func(a, b directory.Claim) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Value, b.Value))
	})
	cs = slices.Compact(cs)
	if len(cs) == 0 {
		return "", nil, nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO user_claims (tenant_id, kind, value, user_id) VALUES `)
	args := []any{tenantID, userID}
	for i, c := range cs {
		if i > 0 {
			q.WriteString(", ")
		}
		fmt.Fprintf(&q, "($1, $%d, $%d, $2)", len(args)+1, len(args)+2)
		args = append(args, string(c.Kind), c.Value)
	}
	if onConflict {
		q.WriteString(` ON CONFLICT DO NOTHING RETURNING kind, value`)
	}
	return q.String(), args, cs
}

type query struct {
	sql  string
	args []any
}

// multiRowInserts returns the statements that insert rows (each of the
// same width) with multi-row VALUES, in batches small enough for either
// backend's parameter limit; insertRows runs them, the pipeline queues
// them.
func multiRowInserts(prefix string, rows [][]any) []query {
	const maxParams = 900
	if len(rows) == 0 {
		return nil
	}
	width := len(rows[0])
	per := max(1, maxParams/width)
	var out []query
	for start := 0; start < len(rows); start += per {
		batch := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.WriteString(prefix)
		b.WriteString(" VALUES ")
		args := make([]any, 0, len(batch)*width)
		for i, row := range batch {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(")
			b.WriteString(placeholders(len(args)+1, width))
			b.WriteString(")")
			args = append(args, row...)
		}
		out = append(out, query{b.String(), args})
	}
	return out
}
