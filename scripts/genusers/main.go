// Command genusers writes N synthetic users as NDJSON, the shape `roster
// user import` reads, for measuring imports (docs/BENCHMARKS.md):
//
//	go run ./scripts/genusers -n 1000000 > users.ndjson
//	roster user import --tenant bench users.ndjson
//
// Every row is valid under the default import rules and unique under any
// uniqueness policy: username, e-mail, phone, external id and SSN differ
// from row to row. The output is the same for the same -n and -seed.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
)

type address struct {
	Line1   string `json:"line1"`
	City    string `json:"city"`
	State   string `json:"state"`
	Zip     string `json:"zip"`
	Country string `json:"country"`
}

type user struct {
	Username   string   `json:"username"`
	ExternalID string   `json:"external_id"`
	FirstName  string   `json:"first_name"`
	LastName   string   `json:"last_name"`
	Email      string   `json:"email"`
	Phone      string   `json:"phone"`
	SSN        string   `json:"ssn,omitempty"`
	Address    *address `json:"address,omitempty"`
}

var (
	first = []string{"Ann", "Bob", "Carla", "Dev", "Eun", "Farid", "Gita", "Hugo", "Ines", "Jamal", "Kai", "Lena"}
	last  = []string{"Garcia", "Smith", "Nguyen", "Okafor", "Kowalski", "Haddad", "Silva", "Tanaka", "Müller", "Rossi"}
	city  = []string{"Springfield", "Portland", "Austin", "Madison", "Boulder"}
	state = []string{"IL", "OR", "TX", "WI", "CO"}
)

func main() {
	n := flag.Int("n", 1000, "how many users")
	seed := flag.Uint64("seed", 1, "random seed")
	ssnEvery := flag.Int("ssn-every", 2, "give every Nth user an SSN (0: none)")
	flag.Parse()
	if *n < 0 || *n > 8_000_000 { // the phone numbers below run out at 8M
		fmt.Fprintln(os.Stderr, "genusers: -n must be 0 to 8000000")
		os.Exit(2)
	}
	r := rand.New(rand.NewPCG(*seed, 0))
	w := bufio.NewWriterSize(os.Stdout, 1<<20)
	enc := json.NewEncoder(w)
	for i := range *n {
		u := user{
			Username:   fmt.Sprintf("user%07d", i),
			ExternalID: fmt.Sprintf("hr-%07d", i),
			FirstName:  first[r.IntN(len(first))],
			LastName:   last[r.IntN(len(last))],
			Email:      fmt.Sprintf("user%07d@example.com", i),
			// +1 415 NXX XXXX: NXX 200-999, so every number is a
			// possible North American number, distinct per row.
			Phone: fmt.Sprintf("+1415%03d%04d", 200+i/10000, i%10000),
		}
		if *ssnEvery > 0 && i%*ssnEvery == 0 {
			// Area 001-665, group 01-99, serial 0001-9999: structurally valid.
			u.SSN = fmt.Sprintf("%03d%02d%04d", 1+r.IntN(665), 1+r.IntN(99), 1+r.IntN(9999))
		}
		if i%3 == 0 {
			k := r.IntN(len(city))
			u.Address = &address{Line1: fmt.Sprintf("%d Main St", 1+r.IntN(9999)), City: city[k], State: state[k],
				Zip: fmt.Sprintf("%05d", 10000+r.IntN(89999)), Country: "US"}
		}
		if err := enc.Encode(u); err != nil {
			fmt.Fprintln(os.Stderr, "genusers:", err)
			os.Exit(1)
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "genusers:", err)
		os.Exit(1)
	}
}
