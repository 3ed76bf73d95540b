package truv

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/apitest"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
)

// quickstartUser is the body Truv's Go quickstart (truvhq/quickstart,
// golang/truv.go createUser) sends: one e-mail for every run.
const quickstartUser = `{"external_user_id":"qs-%d","first_name":"John","last_name":"Johnson","email":"j.johnson@example.com"}`

// TestQuickstartFlow replays Truv's quickstart: create a user, ask for its
// bridge token, and again with the same e-mail, on a tenant with the
// first-start policy (only the always-unique identifiers).
func TestQuickstartFlow(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		c := env.NewTenant("quickstart", directory.UniquePolicy{})
		for run := 1; run <= 2; run++ {
			body := strings.Replace(quickstartUser, "%d", string(rune('0'+run)), 1)
			id := create(t, env, c, body)
			// golang/truv.go createUserBridgeToken: product_type from the
			// environment, an empty client_name, a tracking_info.
			resp := env.Do(apitest.Request{Method: "POST", Path: "/v1/users/" + id + "/tokens/", Header: headers(c),
				Body: `{"product_type":"income","client_name":"","tracking_info":"1338-0111-A"}`})
			if resp.Status != http.StatusOK {
				t.Fatalf("run %d: bridge token: %d %s", run, resp.Status, resp.Body)
			}
			var bt bridgeTokenJSON
			resp.JSON(t, &bt)
			if bt.BridgeToken == "" || bt.UserID != id || bt.ProductType != "income" || bt.ClientName != "quickstart" {
				t.Fatalf("run %d: got %s", run, resp.Body)
			}
			if run == 1 {
				apitest.Golden(t, "bridge_token_quickstart", resp, bt.BridgeToken, "<bridge-token>")
			}
		}
	})
}

// TestBridgeToken: the token is random, stored only as its hash with
// Truv's six-hour expiry, bound to the user, and every documented request
// field is accepted and echoed.
func TestBridgeToken(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		id := create(t, env, env.Creds, johnBody)
		// Truv's pll request from golang/truv.go, with the documented
		// optional fields.
		body := `{"product_type":"pll","tracking_info":"any data for tracking current user",
			"allowed_products":["income","deposit_switch"],"company_mapping_id":"99dd17074ac94aa9ace2621d657c7610",
			"provider_id":"adp","template_id":"tpl","use_case":"other","data_sources":["payroll"],
			"account":{"account_number":"1600200","account_type":"checking","routing_number":"123456789",
			"bank_name":"TD Bank","deposit_type":"amount","deposit_value":"100"}}`
		var tokens []string
		for _, path := range []string{"/v1/users/" + id + "/tokens/", "/v1/users/" + id + "/tokens"} {
			resp := env.Do(apitest.Request{Method: "POST", Path: path, Header: headers(env.Creds), Body: body})
			if resp.Status != http.StatusOK {
				t.Fatalf("POST %s: %d %s", path, resp.Status, resp.Body)
			}
			var bt bridgeTokenJSON
			resp.JSON(t, &bt)
			tokens = append(tokens, bt.BridgeToken)
			if len(tokens) == 1 {
				apitest.Golden(t, "bridge_token_full", resp, bt.BridgeToken, "<bridge-token>")
				if resp.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
				}
			}
		}
		if tokens[0] == tokens[1] || len(tokens[0]) < 40 {
			t.Fatalf("tokens %q: want two distinct random tokens", tokens)
		}
		for _, tok := range tokens {
			rec, err := env.Store.GetToken(t.Context(), secret.Hash(tok))
			if err != nil {
				t.Fatalf("token not stored by its hash: %v", err)
			}
			canon, _ := directory.ParseID(id)
			if rec.Kind != bridgeTokenKind || rec.Scope != canon || rec.ExpiresAt.Sub(rec.CreatedAt) != 6*time.Hour {
				t.Errorf("stored token: kind %q scope %q ttl %v; want %q, %s, 6h", rec.Kind, rec.Scope, rec.ExpiresAt.Sub(rec.CreatedAt), bridgeTokenKind, canon)
			}
		}

		// allowed_products defaults to product_type; an unauthenticated
		// caller gets 401 before anything else.
		resp := env.Do(apitest.Request{Method: "POST", Path: "/v1/users/" + id + "/tokens/", Header: headers(env.Creds), Body: `{"product_type":"employment"}`})
		var bt bridgeTokenJSON
		resp.JSON(t, &bt)
		if len(bt.AllowedProducts) != 1 || bt.AllowedProducts[0] != "employment" || bt.TrackingInfo != nil {
			t.Errorf("defaults: got %s", resp.Body)
		}
		resp = env.Do(apitest.Request{Method: "POST", Path: "/v1/users/" + id + "/tokens/", Header: headers(env.Creds, "X-Access-Secret", ""), Body: `{}`})
		if resp.Status != http.StatusUnauthorized {
			t.Errorf("without credentials: %d %s, want 401", resp.Status, resp.Body)
		}
	})
}

// TestNotStricterThanTruv replays requests Truv's documentation shows as
// valid that Roster used to refuse.
func TestNotStricterThanTruv(t *testing.T) {
	apitest.ForEachBackend(t, func(t *testing.T, backend string) {
		env := newEnv(t, backend)
		// phone is "string" in Truv's docs: any spelling is kept as sent.
		resp := env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: headers(env.Creds),
			Body: `{"external_user_id":"12345","first_name":"John","last_name":"Doe","phone":"(415) 555-4193"}`})
		if resp.Status != http.StatusCreated {
			t.Fatalf("phone (415) 555-4193: %d %s", resp.Status, resp.Body)
		}
		var u userJSON
		resp.JSON(t, &u)
		if u.Phone == nil || *u.Phone != "(415) 555-4193" {
			t.Fatalf("phone: got %s, want it as sent", resp.Body)
		}
		// ... and normalised for comparison where it parses: under the
		// default policy the E.164 spelling of the same number collides.
		resp = env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: headers(env.Creds),
			Body: `{"external_user_id":"2","first_name":"J","last_name":"D","phone":"+14155554193"}`})
		if resp.Status != http.StatusConflict || !strings.Contains(string(resp.Body), `"field":"phone"`) {
			t.Fatalf("same number in E.164: %d %s, want 409 on phone", resp.Status, resp.Body)
		}
		resp = env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: headers(env.Creds),
			Body: `{"external_user_id":"3","first_name":"J","last_name":"D","phone":"call me maybe"}`})
		if resp.Status != http.StatusCreated {
			t.Fatalf("unparsable phone: %d %s, want it kept as sent", resp.Status, resp.Body)
		}

		// ssn is a plain string in Truv's docs: a test value no SSN could
		// have (area 000) is accepted, and stored as its nine digits.
		resp = env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: headers(env.Creds),
			Body: `{"external_user_id":"4","first_name":"J","last_name":"D","ssn":"000123456"}`})
		if resp.Status != http.StatusCreated {
			t.Fatalf("ssn 000123456: %d %s, want 201", resp.Status, resp.Body)
		}

		// external_user_id as a JSON number: DRF's CharField makes it text.
		for lit, want := range map[string]string{"12345": "12345", "12.50": "12.5", "1e3": "1000.0", "-0": "0"} {
			resp = env.Do(apitest.Request{Method: "POST", Path: "/v1/users/", Header: headers(env.Creds),
				Body: `{"external_user_id":` + lit + `,"first_name":"John","last_name":"Doe"}`})
			if resp.Status != http.StatusCreated {
				t.Fatalf("external_user_id %s: %d %s", lit, resp.Status, resp.Body)
			}
			resp.JSON(t, &u)
			if u.ExternalUserID == nil || *u.ExternalUserID != want {
				t.Errorf("external_user_id %s: got %s, want %q", lit, resp.Body, want)
			}
		}
		// PATCH coerces too.
		resp = env.Do(apitest.Request{Method: "PATCH", Path: "/v1/users/" + u.ID + "/", Header: headers(env.Creds), Body: `{"external_user_id":67890}`})
		resp.JSON(t, &u)
		if resp.Status != http.StatusOK || *u.ExternalUserID != "67890" {
			t.Errorf("PATCH external_user_id 67890: %d %s", resp.Status, resp.Body)
		}
	})
}

func TestPythonNumber(t *testing.T) {
	for lit, want := range map[string]string{
		"0": "0", "-0": "0", "12345": "12345", "123456789012345678901234567890": "123456789012345678901234567890",
		"1.0": "1.0", "1.5": "1.5", "-2.25": "-2.25", "1e3": "1000.0", "1E3": "1000.0", "0.0": "0.0", "-0.0": "-0.0",
		"1e16": "1e+16", "1234567890123456.0": "1234567890123456.0", "12345678901234567.0": "1.2345678901234568e+16",
		"0.0001": "0.0001", "0.00001": "1e-05", "1.5e-7": "1.5e-07", "1e400": "inf", "-1e400": "-inf", "1e22": "1e+22",
	} {
		if got := pythonNumber(lit); got != want {
			t.Errorf("pythonNumber(%s) = %q, want %q", lit, got, want)
		}
	}
}

func TestAcceptsJSON(t *testing.T) {
	for _, tt := range []struct {
		accept []string
		want   bool
	}{
		{nil, true},
		{[]string{""}, true},
		{[]string{"*/*"}, true},
		{[]string{"application/json"}, true},
		{[]string{"application/json; charset=utf-8"}, true},
		{[]string{"application/*"}, true},
		{[]string{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}, true},
		{[]string{"application/xml", "application/json"}, true},
		{[]string{"application/xml"}, false},
		{[]string{"text/html"}, false},
		{[]string{"application/json;q=0"}, false},
		{[]string{"application/json;q=0.0, text/csv"}, false},
		{[]string{";;;"}, false},
	} {
		if got := acceptsJSON(tt.accept); got != tt.want {
			t.Errorf("acceptsJSON(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}

// TestTextField: the field conversion keeps the field name for wrong types.
func TestTextField(t *testing.T) {
	var b userBody
	err := json.Unmarshal([]byte(`{"first_name":false}`), &b)
	var te *json.UnmarshalTypeError
	if !asTypeError(err, &te) || te.Field != "first_name" || te.Value != "bool" {
		t.Fatalf("got %v (%+v), want a type error naming first_name", err, te)
	}
}

func asTypeError(err error, te **json.UnmarshalTypeError) bool {
	e, ok := err.(*json.UnmarshalTypeError)
	*te = e
	return ok
}
