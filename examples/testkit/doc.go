// Package testkit holds the tests that README.md's "Testing your agent" guide shows: each snippet
// there is a test here, run by go test ./..., and TestGuideMatchesReadme fails when the README and
// this file drift apart.
package testkit
