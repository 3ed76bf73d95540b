package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type body struct {
	Name  string   `json:"name"`
	Age   int      `json:"age"`
	Tags  []string `json:"tags"`
	Inner struct {
		Flag bool `json:"flag"`
	} `json:"inner"`
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name        string
		body        []byte
		contentType string
		opts        DecodeOptions
		wantStatus  int // 0: success
		wantField   string
	}{
		{name: "ok", body: []byte(`{"name":"a","age":3}`)},
		{name: "unknown field ignored", body: []byte(`{"name":"a","zzz":1}`)},
		{name: "unknown field rejected", body: []byte(`{"zzz":1}`), opts: DecodeOptions{RejectUnknown: true}, wantStatus: 400, wantField: "zzz"},
		{name: "empty", body: nil, wantStatus: 400},
		{name: "whitespace", body: []byte("  \n"), wantStatus: 400},
		{name: "null", body: []byte(" null "), wantStatus: 400},
		{name: "truncated", body: []byte(`{"name":"a"`), wantStatus: 400},
		{name: "syntax", body: []byte(`{"name":}`), wantStatus: 400},
		{name: "array", body: []byte(`[1,2]`), wantStatus: 400},
		{name: "string", body: []byte(`"x"`), wantStatus: 400},
		{name: "wrong type", body: []byte(`{"name":5}`), wantStatus: 400, wantField: "name"},
		{name: "nested wrong type", body: []byte(`{"inner":{"flag":"yes"}}`), wantStatus: 400, wantField: "inner.flag"},
		{name: "trailing data", body: []byte(`{"name":"a"} {}`), wantStatus: 400},
		{name: "trailing bracket", body: []byte(`{"name":"a"} ]`), wantStatus: 400},
		{name: "invalid utf8", body: []byte("{\"name\":\"a\xffb\"}"), wantStatus: 400},
		{name: "lone high surrogate", body: []byte(`{"name":"\ud800x"}`), wantStatus: 400},
		{name: "lone high surrogate at end", body: []byte(`{"name":"\ud800"}`), wantStatus: 400},
		{name: "lone low surrogate", body: []byte(`{"name":"\udc00"}`), wantStatus: 400},
		{name: "high then high", body: []byte(`{"name":"\ud800\ud800"}`), wantStatus: 400},
		{name: "surrogate in a key", body: []byte(`{"\udfff":1}`), wantStatus: 400},
		{name: "surrogate pair ok", body: []byte(`{"name":"\ud83d\ude00"}`)},
		{name: "escaped backslash then u", body: []byte(`{"name":"\\ud800"}`)},
		{name: "other escapes ok", body: []byte(`{"name":"\"\n\u00e9\uFFFD"}`)},
		{name: "too large", body: []byte(`{"name":"` + strings.Repeat("x", 2000) + `"}`), opts: DecodeOptions{MaxBytes: 1000}, wantStatus: 413},
		{name: "text/plain", body: []byte(`{}`), contentType: "text/plain", opts: DecodeOptions{RequireJSONType: true}, wantStatus: 415},
		{name: "scim json ok", body: []byte(`{}`), contentType: "application/scim+json; charset=utf-8", opts: DecodeOptions{RequireJSONType: true}},
		{name: "bad content type", body: []byte(`{}`), contentType: ";;", opts: DecodeOptions{RequireJSONType: true}, wantStatus: 415},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/", bytes.NewReader(tt.body))
			if tt.contentType != "" {
				r.Header.Set("Content-Type", tt.contentType)
			}
			var dst body
			err := DecodeJSON(httptest.NewRecorder(), r, &dst, tt.opts)
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("got %v, want *DecodeError", err)
			}
			if de.Status != tt.wantStatus || de.Field != tt.wantField {
				t.Fatalf("got status %d field %q (%s), want %d %q", de.Status, de.Field, de.Msg, tt.wantStatus, tt.wantField)
			}
			if de.Msg == "" {
				t.Fatal("empty public message")
			}
		})
	}
}

func TestOpt(t *testing.T) {
	var v struct {
		A Opt[string] `json:"a"`
		B Opt[string] `json:"b"`
		C Opt[string] `json:"c"`
	}
	if err := json.Unmarshal([]byte(`{"a":"x","b":null}`), &v); err != nil {
		t.Fatal(err)
	}
	if a, ok := v.A.Get(); !ok || a != "x" {
		t.Errorf("a = %q %v", a, ok)
	}
	if !v.B.Set || !v.B.Null {
		t.Errorf("b: %+v, want set and null", v.B)
	}
	if v.C.Set {
		t.Errorf("c: %+v, want absent", v.C)
	}
}

func newTestServer(h http.Handler) (*httptest.Server, *bytes.Buffer) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, nil))
	m := NewMetrics()
	mux := http.NewServeMux()
	mux.Handle("/x", Tag("test", h))
	mux.Handle("/metrics", m)
	return httptest.NewServer(MiddlewareWith(mux, MiddlewareOptions{Logger: logger, Metrics: m})), &logs
}

func TestAdaptRendersErrorsAndPanics(t *testing.T) {
	render := func(w http.ResponseWriter, r *http.Request, err error) {
		status := StatusOf(err)
		if status == 0 {
			status = 500
		}
		_ = WriteJSON(w, status, map[string]string{"dialect_error": "yes", "panic": boolString(errors.Is(err, ErrPanic))})
	}
	h := Adapt(func(w http.ResponseWriter, r *http.Request) error {
		switch r.URL.Query().Get("do") {
		case "panic":
			panic("boom")
		case "error":
			return &HTTPError{Status: 409, Public: "taken", Cause: errors.New("secret cause")}
		}
		return WriteJSON(w, 200, map[string]string{"ok": "1"})
	}, render)
	srv, logs := newTestServer(h)
	defer srv.Close()

	tests := []struct {
		query      string
		wantStatus int
		wantBody   string
	}{
		{"?do=ok", 200, `{"ok":"1"}`},
		{"?do=error", 409, `"dialect_error":"yes"`},
		{"?do=panic", 500, `"panic":"true"`},
	}
	for _, tt := range tests {
		resp, err := http.Get(srv.URL + "/x" + tt.query + "&email=ann@example.com")
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.wantStatus || !strings.Contains(b.String(), tt.wantBody) {
			t.Errorf("%s: got %d %s, want %d containing %s", tt.query, resp.StatusCode, b.String(), tt.wantStatus, tt.wantBody)
		}
		if resp.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no X-Request-Id", tt.query)
		}
	}
	log := logs.String()
	if strings.Count(log, `"msg":"request"`) != 3 {
		t.Errorf("want 3 access-log lines, got:\n%s", log)
	}
	if !strings.Contains(log, `"dialect":"test"`) || !strings.Contains(log, "secret cause") || !strings.Contains(log, "boom") {
		t.Errorf("access log lacks dialect or internal causes:\n%s", log)
	}
	if strings.Contains(log, "ann@example.com") {
		t.Errorf("access log contains the query string:\n%s", log)
	}

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`roster_http_requests_total{dialect="test",route="/x",status_class="2xx"} 1`,
		`roster_http_requests_total{dialect="test",route="/x",status_class="4xx"} 1`,
		`roster_http_requests_total{dialect="test",route="/x",status_class="5xx"} 1`,
		`roster_http_request_duration_seconds_count{dialect="test",route="/x"} 3`,
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, b.String())
		}
	}
}

func TestRequestIDReuse(t *testing.T) {
	srv, _ := newTestServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(RequestIDFrom(r.Context())))
	}))
	defer srv.Close()
	cases := map[string]bool{"abc-123": true, "bad id\r\n": false, strings.Repeat("a", 65): false}
	for id, reuse := range cases {
		req, _ := http.NewRequest("GET", srv.URL+"/x", nil)
		req.Header["X-Request-Id"] = []string{id}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			// A header with CR/LF is refused by the client itself.
			continue
		}
		got := resp.Header.Get("X-Request-Id")
		resp.Body.Close()
		if (got == id) != reuse {
			t.Errorf("sent %q got %q, want reuse=%v", id, got, reuse)
		}
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func TestCleanPathRoutesWithoutRedirect(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/users/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(r.URL.Path))
	})
	srv := httptest.NewServer(Middleware(mux, slog.New(slog.DiscardHandler), 0))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{"/v1/users/", "/v1/users//", "//v1//users/", "/v1/./users/", "/v1/x/../users/"} {
		resp, err := client.Post(srv.URL+p, "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || b.String() != "/v1/users/" {
			t.Errorf("POST %s: got %d %q, want 201 routed to /v1/users/", p, resp.StatusCode, b.String())
		}
	}
	for in, want := range map[string]string{"": "/", "/": "/", "/a//b": "/a/b", "/a/b/": "/a/b/", "/a/../../b/": "/b/", "a": "/a"} {
		if got := cleanPath(in); got != want {
			t.Errorf("cleanPath(%q) = %q, want %q", in, got, want)
		}
	}
}
