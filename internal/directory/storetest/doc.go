// Package storetest is the conformance suite of directory.Store: every
// implementation must pass Run, on every backend it supports. It pins what
// the interface's comments promise (tenant isolation, uniqueness decided by
// the database, optimistic versions, filters and paging that behave the
// same on every backend) with small data, so it stays fast.
//
// The suite works at the Store level, below the Service: it builds users
// with their normalised fields and claims itself (see newUser and claimsOf).
package storetest
