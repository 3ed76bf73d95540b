package store_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain raises the default test parallelism to 4. Each conformance
// subtest spends most of its time waiting for PostgreSQL to create, migrate
// and drop its own database, not on CPU, so the default of GOMAXPROCS (2 on
// our machines) leaves the suite idle. An explicit -parallel wins.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		if err := flag.Set("test.parallel", "4"); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
