// Package cl2c speaks the wire dialect of Taliware's CL2C user API
// (docs.taliware.com/docs/api/user/...): POST and PUT /v1/cl2c/user, GET
// /v1/cl2c/users and /v1/cl2c/users/{id}, plus a DELETE the vendor does not
// document.
//
// Callers authenticate with two headers on every request: "tenant", the
// tenant's name, and "X-API-Key", a credential secret of that tenant. Bodies
// are camelCase JSON. The vendor's stack is the fullstackhero .NET starter
// kit, and this package imitates its two error bodies: RFC 7807 validation
// problem details (application/problem+json) for 400, and the template's
// ErrorResult {messages, source, exception, errorId, supportMessage,
// statusCode} for every other failure. docs/cl2c.md is the contract.
package cl2c
