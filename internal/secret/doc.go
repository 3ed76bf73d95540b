// Package secret holds Roster's cryptography: random credentials and
// tokens, their hashes and constant-time comparison, the AES-256-GCM keyring
// that encrypts SSNs at rest, and Value, a string that redacts itself
// wherever it might be printed or logged.
package secret
