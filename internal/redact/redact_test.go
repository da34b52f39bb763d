package redact

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRedactsConfiguredAndKnownSecrets(t *testing.T) {
	r := New("my-custom-secret-value", "short")
	for in, want := range map[string]string{
		"key my-custom-secret-value here":                                           "key [redacted] here",
		"openai sk-proj-abcdefghijklmnopqrstuvwxyz0123":                             "openai [redacted]",
		"anthropic sk-ant-api03-abcdefghijklmnopqrstuvwxyz":                         "anthropic [redacted]",
		"aws AKIAIOSFODNN7EXAMPLE id":                                               "aws [redacted] id",
		"gh ghp_abcdefghijklmnopqrstuvwxyz0123456789 x":                             "gh [redacted] x",
		"slack xoxb-1234567890-abcdefghij":                                          "slack [redacted]",
		"google AIzaSyA1234567890abcdefghijklmnopqrstuv":                            "google [redacted]",
		"Authorization: Bearer abcdefghijklmnop.qrstuv":                             "Authorization: [redacted]",
		"-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY----- after": "[redacted] after",
		"short stays; skipping sk- alone; a task-list":                              "short stays; skipping sk- alone; a task-list",
	} {
		assert.Equal(t, want, r.String(in), in)
	}
	var zero *Redactor
	assert.Equal(t, "[redacted]", zero.String("sk-abcdefghijklmnopqrstuvwxyz"))
}

func TestErrorKeepsTheChain(t *testing.T) {
	base := errors.New("boom")
	err := New("supersecretkey").Error(fmt.Errorf("call with supersecretkey failed: %w", base))
	assert.Equal(t, "call with [redacted] failed: boom", err.Error())
	assert.ErrorIs(t, err, base)
	assert.False(t, strings.Contains(err.Error(), "supersecretkey"))
	clean := errors.New("nothing here")
	assert.Same(t, clean, New("x12345678").Error(clean))
}
