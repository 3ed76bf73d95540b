// Package server assembles Roster's HTTP handler: every dialect on one
// mux over one directory.Service, the operational endpoints (/healthz,
// /readyz, /metrics) and the shared middleware.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/roster-dev/roster/internal/dialect/cl2c"
	"github.com/roster-dev/roster/internal/dialect/entrust"
	"github.com/roster-dev/roster/internal/dialect/ownli"
	"github.com/roster-dev/roster/internal/dialect/scim"
	"github.com/roster-dev/roster/internal/dialect/truv"
	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
	"github.com/roster-dev/roster/internal/openapi"
)

// Options configure the handler.
type Options struct {
	Logger          *slog.Logger
	MaxBody         int64                           // request body limit; 0: httpapi.DefaultMaxBody
	EntrustTokenTTL time.Duration                   // 0: the dialect's default (15 minutes)
	Ready           func(ctx context.Context) error // database reachable; nil: always ready
	Metrics         *httpapi.Metrics                // nil: a fresh registry
	PublicURL       string                          // origin for absolute links; "": from each request
	CORSOrigins     []string                        // browser origins allowed to call; nil: none (see httpapi.CORS)
	Console         http.Handler                    // the admin console at /console/ (internal/console); nil: none
}

// Mount registers every dialect on mux. Tests that want all dialects on
// one server (cross-dialect visibility) use it with apitest.
func Mount(mux *http.ServeMux, svc *directory.Service, o Options) {
	truv.New(svc, truv.Options{PublicURL: o.PublicURL}).Register(mux)
	entrust.New(svc, entrust.Options{TokenTTL: o.EntrustTokenTTL}).Register(mux)
	cl2c.New(svc).Register(mux)
	ownli.New(svc).Register(mux)
	scim.New(svc, scim.Options{BaseURL: o.PublicURL}).Register(mux)
}

// New returns the complete handler, middleware included.
func New(svc *directory.Service, o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = httpapi.NewMetrics()
	}
	mux := http.NewServeMux()
	Mount(mux, svc, o)
	// The OpenAPI documents and the /docs page rendered from them.
	openapi.Register(mux, openapi.Default())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_ = httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if o.Ready != nil {
			ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
			defer cancel()
			if err := o.Ready(ctx); err != nil {
				httpapi.InfoFrom(r.Context()).Err = err
				_ = httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
				return
			}
		}
		_ = httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	mux.Handle("GET /metrics", o.Metrics)
	if o.Console != nil {
		mux.Handle("/console/", o.Console)
	}
	// Anything no dialect claims: a JSON 404 rather than the mux's text.
	// (Every dialect claims its own prefix, Truv's /v1/ among them, and
	// answers unknown paths there in its own format.)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		_ = httpapi.WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not found", "request_id": httpapi.RequestIDFrom(r.Context())})
	})
	return httpapi.MiddlewareWith(mux, httpapi.MiddlewareOptions{Logger: o.Logger, MaxBody: o.MaxBody, Metrics: o.Metrics,
		CORSOrigins: o.CORSOrigins})
}
