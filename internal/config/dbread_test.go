package config

import (
	"strings"
	"testing"
)

// TestDBRead: ROSTER_DB_READ is read from the environment and accepted
// only as a PostgreSQL replica of a PostgreSQL database.
func TestDBRead(t *testing.T) {
	c, err := FromEnv(func(k string) string {
		return map[string]string{"ROSTER_DB": "postgres://p/roster", "ROSTER_DB_READ": "postgres://r/roster",
			"ROSTER_ENCRYPTION_KEY": "k1:" + strings.Repeat("A", 43) + "="}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.DBRead != "postgres://r/roster" {
		t.Errorf("DBRead: got %q, want the ROSTER_DB_READ value", c.DBRead)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("a PostgreSQL replica of a PostgreSQL database: %v", err)
	}
	tests := []struct{ name, db, read string }{
		{"replica of sqlite", "sqlite:roster.db", "postgres://r/roster"},
		{"sqlite replica", "postgres://p/roster", "sqlite:replica.db"},
		{"not a url", "postgres://p/roster", "replica"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := c
			c.DB, c.DBRead = tt.db, tt.read
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "read replica") {
				t.Errorf("DB %q, DBRead %q: got %v, want a read replica error", tt.db, tt.read, err)
			}
		})
	}
}
