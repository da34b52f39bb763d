package otel

import (
	"context"
	"errors"
	"reflect"

	semconv "go.opentelemetry.io/otel/semconv/v1.41.0"

	agent "github.com/autogpt-go/agent"
	redaction "github.com/autogpt-go/agent/internal/redact"
)

// sentinels are the agent package's errors a run can end with, with the error.type they get.
var sentinels = []struct {
	err  error
	name string
}{
	{agent.ErrMaxSteps, "agent.ErrMaxSteps"},
	{agent.ErrLoopDetected, "agent.ErrLoopDetected"},
	{agent.ErrBudgetExceeded, "agent.ErrBudgetExceeded"},
	{agent.ErrContextWindowExceeded, "agent.ErrContextWindowExceeded"},
	{agent.ErrEmptyResponse, "agent.ErrEmptyResponse"},
	{agent.ErrInvalidPrompt, "agent.ErrInvalidPrompt"},
	{agent.ErrRunDone, "agent.ErrRunDone"},
}

// ErrorType returns the value this package records as error.type for err, a low-cardinality
// class (https://opentelemetry.io/docs/specs/semconv/attributes-registry/error/):
//   - the result of an ErrorType() string method of err or of an error it wraps, when not "";
//   - for an error matching one of the agent package's sentinel errors (errors.Is), its name,
//     for example "agent.ErrMaxSteps" or "agent.ErrBudgetExceeded";
//   - for an error matching context.DeadlineExceeded or context.Canceled, "context.DeadlineExceeded"
//     or "context.Canceled";
//   - otherwise the Go type of err after removing fmt.Errorf wrappers, package path included
//     (semconv.ErrorType's rule), for example "*errors.errorString" or "*url.Error".
//
// It returns "_OTHER" for a nil err.
func ErrorType(err error) string {
	if err == nil {
		return semconv.ErrorTypeOther.Value.AsString()
	}
	var et interface{ ErrorType() string }
	if errors.As(err, &et) {
		if s := et.ErrorType(); s != "" {
			return s
		}
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			return s.name
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "context.DeadlineExceeded"
	case errors.Is(err, context.Canceled):
		return "context.Canceled"
	}
	return semconv.ErrorType(unwrapRedaction(err)).Value.AsString()
}

// unwrapRedaction removes the agent's redaction wrappers and the fmt.Errorf wrappers around them,
// so an error's class does not depend on whether its message held a secret.
func unwrapRedaction(err error) error {
	e := err
	for redaction.IsWrapper(e) || isFmtWrap(e) {
		inner := errors.Unwrap(e)
		if inner == nil {
			break
		}
		e = inner
	}
	return e
}

// isFmtWrap reports whether e is a fmt.Errorf wrapper (its type lives in package fmt).
func isFmtWrap(e error) bool {
	t := reflect.TypeOf(e)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.PkgPath() == "fmt"
}
