package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/roster-dev/roster/internal/directory"
)

// SharedRateCounter returns the store as a directory.RateCounter on
// PostgreSQL, where several instances share the database, and nil on
// SQLite: its one process keeps its limits in memory, so a request costs
// no write in its group commit.
func (s *Store) SharedRateCounter() directory.RateCounter {
	if s.d.name != postgres.name {
		return nil
	}
	return rateCounter{s}
}

// rateCounter implements directory.RateCounter over the rate_limits table
// (migration 0004). Its statements run outside any transaction: each is
// atomic on its own, and a counter is not worth a commit wait.
type rateCounter struct{ s *Store }

// takeRate admits one request when the current window's count after it,
// plus the weighted count of the previous window, stays within the limit.
// The first request of a window inserts the row, the others update it;
// the WHERE of each branch refuses an over-budget request without counting
// it. Concurrent instances serialise on the row lock, and the DO UPDATE
// condition is evaluated on the row as the lock holder left it, so the
// count never exceeds the limit however many instances race.
const takeRate = `WITH prev AS (
	SELECT COALESCE(MAX(count), 0) AS n FROM rate_limits WHERE bucket = $1 AND window_start = $3
)
INSERT INTO rate_limits AS r (bucket, window_start, count)
SELECT $1, $2, 1 FROM prev WHERE prev.n * $4::float8 + 1 <= $5::float8
ON CONFLICT (bucket, window_start) DO UPDATE SET count = r.count + 1
	WHERE r.count + 1 + (SELECT n FROM prev) * $4::float8 <= $5::float8
RETURNING r.count`

func (c rateCounter) TakeRate(ctx context.Context, bucket string, window, prev time.Time, prevWeight float64, limit int) (bool, error) {
	var n int64
	err := c.s.w.QueryRowContext(ctx, takeRate, bucket, micros(window), micros(prev), prevWeight, float64(limit)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("take rate: %w", c.s.d.classify(err))
	}
	return true, nil
}

func (c rateCounter) AddRate(ctx context.Context, bucket string, window time.Time) (int64, error) {
	var n int64
	err := c.s.w.QueryRowContext(ctx,
		`INSERT INTO rate_limits AS r (bucket, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (bucket, window_start) DO UPDATE SET count = r.count + 1
		RETURNING r.count`, bucket, micros(window)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("add rate: %w", c.s.d.classify(err))
	}
	return n, nil
}

func (c rateCounter) RateCounts(ctx context.Context, buckets []string, window time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	if len(buckets) == 0 {
		return out, nil
	}
	args := []any{micros(window)}
	in := ""
	for i, b := range buckets {
		if i > 0 {
			in += ", "
		}
		args = append(args, b)
		in += fmt.Sprintf("$%d", i+2)
	}
	rows, err := c.s.r.QueryContext(ctx,
		`SELECT bucket, count FROM rate_limits WHERE window_start = $1 AND bucket IN (`+in+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("rate counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var b string
		var n int64
		if err := rows.Scan(&b, &n); err != nil {
			return nil, fmt.Errorf("rate counts: %w", err)
		}
		out[b] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("rate counts: %w", err)
	}
	return out, nil
}

func (c rateCounter) DeleteRateWindows(ctx context.Context, before time.Time) (int64, error) {
	res, err := c.s.w.ExecContext(ctx, `DELETE FROM rate_limits WHERE window_start < $1`, micros(before))
	if err != nil {
		return 0, fmt.Errorf("delete rate windows: %w", c.s.d.classify(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete rate windows: %w", err)
	}
	return n, nil
}

// nullInt maps an optional int to a nullable column.
func nullInt(p *int) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(*p), Valid: true}
}
