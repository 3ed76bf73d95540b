package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/roster-dev/roster/internal/directory"
)

func TestPGUnavailable(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	// A real connect error: nothing listens on port 1.
	_, connErr := pgconn.Connect(ctx, "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	var ce *pgconn.ConnectError
	if !errors.As(connErr, &ce) {
		t.Fatalf("connect to port 1: got %T %v, want a *pgconn.ConnectError", connErr, connErr)
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"connect refused", connErr, true},
		{"wrapped connect error", fmt.Errorf("begin: %w", connErr), true},
		{"admin shutdown", &pgconn.PgError{Severity: "FATAL", Code: "57P01"}, true},
		{"crash shutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"starting up", &pgconn.PgError{Code: "57P03"}, true},
		{"read-only server", fmt.Errorf("insert user: %w", &pgconn.PgError{Code: "25006"}), true},
		{"connection failure", &pgconn.PgError{Code: "08006"}, true},
		{"pgbouncer protocol violation", &pgconn.PgError{Code: "08P01"}, true},
		{"too many connections", &pgconn.PgError{Code: "53300"}, true},
		{"unique violation", &pgconn.PgError{Code: "23505"}, false},
		{"undefined table", &pgconn.PgError{Code: "42P01"}, false},
		{"serialization failure", &pgconn.PgError{Code: "40001"}, false},
		{"reset by peer", &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}, true},
		{"cut mid-message", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), true},
		{"bad connection", driver.ErrBadConn, true},
		{"client gone", fmt.Errorf("query: %w", context.Canceled), false},
		{"caller's deadline", context.DeadlineExceeded, false},
		{"end of rows", io.EOF, false},
		{"anything else", errors.New("scan: converting NULL to string"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pgUnavailable(tt.err); got != tt.want {
				t.Errorf("pgUnavailable(%v): got %v, want %v", tt.err, got, tt.want)
			}
			m := markUnavailable(tt.err)
			if got := errors.Is(m, directory.ErrUnavailable); got != tt.want {
				t.Errorf("markUnavailable(%v) is ErrUnavailable: got %v, want %v", tt.err, got, tt.want)
			}
			if tt.err != nil && !errors.Is(m, tt.err) {
				t.Errorf("markUnavailable(%v) lost the driver error from the chain", tt.err)
			}
		})
	}
}
