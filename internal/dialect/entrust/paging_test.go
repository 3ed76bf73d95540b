package entrust_test

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/dialect/entrust"
	"github.com/roster-dev/roster/internal/directory"
)

type pageOut struct {
	Results []map[string]any
	Paging  struct {
		Limit      int
		NextCursor *string
		PrevCursor *string
	}
}

func (c *client) page(body string) pageOut {
	c.t.Helper()
	r := c.do("POST", "/api/web/v4/userspaged", body)
	mustStatus(c.t, r, 200)
	var p pageOut
	r.JSON(c.t, &p)
	return p
}

func userIDs(p pageOut) []string {
	var out []string
	for _, u := range p.Results {
		out = append(out, u["userId"].(string))
	}
	return out
}

// seedUsers creates users named by names through the core.
func seedUsers(t *testing.T, env *apitest.Env, names ...string) map[string]string {
	t.Helper()
	ids := map[string]string{}
	for _, n := range names {
		u, err := env.Svc.CreateUser(t.Context(), env.Creds.Principal(), &directory.User{Username: n}, directory.Rules{})
		if err != nil {
			t.Fatalf("create %s: %v", n, err)
		}
		ids[n] = u.ID
	}
	return ids
}

func TestPagedSearch(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend, entrust.Options{})
		c := login(t, env, env.Creds)
		var names []string
		for i := 0; i < 12; i++ {
			names = append(names, fmt.Sprintf("u%02d", i))
		}
		seedUsers(t, env, names...)
		c.createUser("zed", `"state":"INACTIVE","lock":true,"userAliases":[{"value":"alias-q"}]`)

		// Default: every user, by userId, optional collections left out.
		p := c.page(`{}`)
		if got := strings.Join(userIDs(p), ","); got != strings.Join(append(names, "zed"), ",") {
			t.Errorf("default page: %s", got)
		}
		if p.Paging.Limit != 100 || p.Paging.NextCursor != nil || p.Paging.PrevCursor != nil {
			t.Errorf("default paging: %+v", p.Paging)
		}
		if _, ok := p.Results[0]["grids"]; ok {
			t.Error("grids present without attributes")
		}
		r := c.do("POST", "/api/web/v4/userspaged", `{"limit":1,"searchByAttributes":[{"name":"userId","operator":"EQUALS","value":"zed"}],"attributes":["userAliases","grids","tempAccessCode","groups","nonsense"]}`)
		apitest.Golden(t, "paged_attributes", r)

		searches := []struct {
			name, body string
			want       string
		}{
			{"userId equals alias", `{"searchByAttributes":[{"name":"userId","operator":"EQUALS","value":"ALIAS-Q"}]}`, "zed"},
			{"userId starts with", `{"searchByAttributes":[{"name":"userId","operator":"STARTS_WITH","value":"u1"}]}`, "u10,u11"},
			{"userId ends with", `{"searchByAttributes":[{"name":"userId","operator":"ENDS_WITH","value":"-q"}]}`, "zed"},
			{"userId contains", `{"searchByAttributes":[{"name":"userId","operator":"CONTAINS","value":"0"}]}`, "u00,u01,u02,u03,u04,u05,u06,u07,u08,u09,u10"},
			{"userId not contains", `{"searchByAttributes":[{"name":"userId","operator":"NOT_CONTAINS","value":"u"}]}`, "zed"},
			{"userId not equals", `{"searchByAttributes":[{"name":"userId","operator":"NOT_EQUALS","value":"u00"},{"name":"userId","operator":"STARTS_WITH","value":"u0"}],"limit":3}`, "u01,u02,u03"},
			{"state", `{"searchByAttributes":[{"name":"state","operator":"EQUALS","value":"INACTIVE"}]}`, "zed"},
			{"locked", `{"searchByAttributes":[{"name":"locked","operator":"EQUALS","value":"true"}]}`, "zed"},
			{"lastAuthTime exists", `{"searchByAttributes":[{"name":"lastAuthTime","operator":"EXISTS"}]}`, ""},
			{"lastAuthTime after", `{"searchByAttributes":[{"name":"lastAuthTime","operator":"GREATER_THAN","value":"2018-08-04T18:15:30"}]}`, ""},
			{"passwordExpirationTime not exists", `{"searchByAttributes":[{"name":"passwordExpirationTime","operator":"NOT_EXISTS"},{"name":"state","operator":"EQUALS","value":"INACTIVE"}]}`, "zed"},
			{"userType", `{"searchByAttributes":[{"name":"userType","operator":"EQUALS","value":"SYNC"}]}`, ""},
			{"order by state desc", `{"orderByAttribute":{"name":"state","ascending":false},"limit":2}`, "zed,u00"},
			{"order by userId desc", `{"orderByAttribute":{"name":"userId","ascending":false},"limit":2}`, "zed,u11"},
		}
		for _, s := range searches {
			t.Run(s.name, func(t *testing.T) {
				if got := strings.Join(userIDs(c.page(s.body)), ","); got != s.want {
					t.Errorf("got %q, want %q", got, s.want)
				}
			})
		}

		bad := []struct{ name, body, code string }{
			{"limit 0", `{"limit":0}`, "validation_failed"},
			{"limit 101", `{"limit":101}`, "validation_failed"},
			{"limit string", `{"limit":"5"}`, "invalid_request_body"},
			{"cursor garbage", `{"cursor":"!!!"}`, "invalid_cursor"},
			{"cursor base64 junk", `{"cursor":"eyJ2IjoxfQ"}`, "invalid_cursor"},
			{"unknown attribute", `{"searchByAttributes":[{"name":"shoeSize","operator":"EQUALS","value":"9"}]}`, "invalid_search"},
			{"bad operator", `{"searchByAttributes":[{"name":"state","operator":"CONTAINS","value":"A"}]}`, "invalid_search"},
			{"bad state", `{"searchByAttributes":[{"name":"state","operator":"EQUALS","value":"GONE"}]}`, "invalid_search"},
			{"locked false", `{"searchByAttributes":[{"name":"locked","operator":"EQUALS","value":"false"}]}`, "invalid_search"},
			{"bad time", `{"searchByAttributes":[{"name":"lastAuthTime","operator":"LESS_THAN","value":"yesterday"}]}`, "invalid_search"},
			{"missing name", `{"searchByAttributes":[{"operator":"EQUALS","value":"x"}]}`, "invalid_search"},
			{"bad order", `{"orderByAttribute":{"name":"email","ascending":true}}`, "validation_failed"},
			{"order without ascending", `{"orderByAttribute":{"name":"userId"}}`, "validation_failed"},
			{"bad group id", `{"searchByAttributes":[{"name":"groupId","operator":"EQUALS","value":"x"}]}`, "invalid_search"},
		}
		for _, b := range bad {
			t.Run(b.name, func(t *testing.T) {
				r := c.do("POST", "/api/web/v4/userspaged", b.body)
				if r.Status != 400 || errorCode(t, r) != b.code {
					t.Errorf("got %d %s, want 400 %s", r.Status, r.Body, b.code)
				}
			})
		}
		apitest.Golden(t, "paged_bad_operator", c.do("POST", "/api/web/v4/userspaged", bad[6].body))
	})
}

// TestCursorPaging walks pages forward and back while users are inserted
// and deleted between and during pages: every user that exists throughout
// is seen exactly once, in order.
func TestCursorPaging(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend, entrust.Options{})
		c := login(t, env, env.Creds)
		var stable []string
		for i := 0; i < 40; i += 2 {
			stable = append(stable, fmt.Sprintf("m%03d", i))
		}
		seedUsers(t, env, stable...)
		transient := seedUsers(t, env, "m001", "m021", "m051")

		// A writer inserting users (odd numbers) concurrently with paging.
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 3; i < 200; i += 2 {
				select {
				case <-stop:
					return
				default:
				}
				_, err := env.Svc.CreateUser(t.Context(), env.Creds.Principal(),
					&directory.User{Username: fmt.Sprintf("m%03d", i)}, directory.Rules{})
				if err != nil && !strings.Contains(err.Error(), "conflict") {
					t.Errorf("concurrent create: %v", err)
					return
				}
			}
		}()

		seen := map[string]int{}
		var order []string
		var pages []pageOut
		p := c.page(`{"limit":7,"orderByAttribute":{"name":"userId","ascending":true},"searchByAttributes":[{"name":"userId","operator":"STARTS_WITH","value":"m"}]}`)
		for n := 0; ; n++ {
			pages = append(pages, p)
			for _, id := range userIDs(p) {
				seen[id]++
				order = append(order, id)
			}
			if n == 1 { // delete users on both sides of the cursor
				for _, name := range []string{"m001", "m051"} {
					if err := env.Svc.DeleteUser(t.Context(), env.Creds.Principal(), transient[name], 0); err != nil {
						t.Fatal(err)
					}
				}
				seedUsers(t, env, "m000a", "m999")
			}
			if p.Paging.NextCursor == nil {
				break
			}
			if n > 100 {
				t.Fatal("paging does not end")
			}
			p = c.page(`{"limit":7,"cursor":"` + *p.Paging.NextCursor + `"}`)
		}
		close(stop)
		wg.Wait()

		for _, id := range stable {
			if seen[id] != 1 {
				t.Errorf("stable user %s seen %d times", id, seen[id])
			}
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("user %s seen %d times", id, n)
			}
		}
		if !sort.StringsAreSorted(order) {
			t.Errorf("not in userId order: %v", order)
		}
		if seen["m999"] != 1 {
			t.Error("user inserted ahead of the cursor not seen")
		}

		// Back from the third page: the previous page holds the users just
		// before the third page's first one.
		third := pages[2]
		if third.Paging.PrevCursor == nil {
			t.Fatal("no prevCursor on page 3")
		}
		back := c.page(`{"limit":7,"cursor":"` + *third.Paging.PrevCursor + `"}`)
		ids := userIDs(back)
		if len(ids) != 7 || ids[len(ids)-1] >= userIDs(third)[0] || back.Paging.NextCursor == nil {
			t.Errorf("previous page: %v (page 3 starts at %s), paging %+v", ids, userIDs(third)[0], back.Paging)
		}
		// And forward again from there lands on page 3's first user.
		fwd := c.page(`{"limit":1,"cursor":"` + *back.Paging.NextCursor + `"}`)
		if got := userIDs(fwd); len(got) != 1 || got[0] != userIDs(third)[0] {
			t.Errorf("forward from previous page: %v, want %s", got, userIDs(third)[0])
		}
		// The first page going back has no previous page.
		first := c.page(`{"limit":7,"searchByAttributes":[{"name":"userId","operator":"STARTS_WITH","value":"m"}]}`)
		second := c.page(`{"limit":7,"cursor":"` + *first.Paging.NextCursor + `"}`)
		b := c.page(`{"limit":7,"cursor":"` + *second.Paging.PrevCursor + `"}`)
		if strings.Join(userIDs(b), ",") != strings.Join(userIDs(first), ",") || b.Paging.PrevCursor != nil {
			t.Errorf("back to first page: %v prev=%v, want %v", userIDs(b), b.Paging.PrevCursor, userIDs(first))
		}
		// A cursor keeps its search: "ignored" search params in the same
		// request change nothing.
		again := c.page(`{"limit":7,"cursor":"` + *first.Paging.NextCursor + `","searchByAttributes":[{"name":"userId","operator":"EQUALS","value":"nobody"}]}`)
		if strings.Join(userIDs(again), ",") != strings.Join(userIDs(second), ",") {
			t.Errorf("cursor with search: %v, want %v", userIDs(again), userIDs(second))
		}
	})
}
