package proctest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// Request is one HTTP request in some dialect's wire format.
type Request struct {
	Method, Path string
	Header       map[string]string
	Body         string
}

// Response is what came back; Err is set when no status line arrived (the
// server died or refused the connection) or the body was cut off.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	Err    error
}

// Do sends r to base with client c. A transport error is returned in the
// Response rather than failing the test, because the crash and failover
// tests expect some requests to get no answer.
func Do(ctx context.Context, c *http.Client, base string, r Request) Response {
	var body io.Reader
	if r.Body != "" {
		body = strings.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, base+r.Path, body)
	if err != nil {
		return Response{Err: err}
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return Response{Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b, Err: err}
}

// JSONMap decodes a JSON object body, or returns nil.
func (r Response) JSONMap() map[string]any {
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return nil
	}
	return m
}

// Headers of each dialect's credential forms (README "Calling it").

// TruvAuth is Truv's client id and secret headers.
func TruvAuth(c Credential) map[string]string {
	return map[string]string{"Content-Type": "application/json", "X-Access-Client-Id": c.ClientID, "X-Access-Secret": c.Secret}
}

// CL2CAuth is CL2C's tenant and API key headers.
func CL2CAuth(c Credential) map[string]string {
	return map[string]string{"Content-Type": "application/json", "tenant": c.Tenant, "X-API-Key": c.Secret}
}

// OwnliAuth is Ownli's legacy partner and client headers.
func OwnliAuth(c Credential) map[string]string {
	return map[string]string{"Content-Type": "application/json", "partnerId": c.Tenant, "clientId": c.ClientID, "clientSecret": c.Secret}
}

// SCIMAuth is SCIM's bearer secret.
func SCIMAuth(c Credential) map[string]string {
	return map[string]string{"Content-Type": "application/scim+json", "Authorization": "Bearer " + c.Secret}
}

// Bearer is a JSON request with a session token (Entrust, Ownli).
func Bearer(tok string) map[string]string {
	return map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + tok}
}
