package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestHandlerRedactsEveryTextValue(t *testing.T) {
	var buf bytes.Buffer
	r := New("hunter2hunter2")
	log := slog.New(r.Handler(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	log = log.With("key", "hunter2hunter2").WithGroup("g")
	log.Debug("saw hunter2hunter2",
		"s", "x hunter2hunter2 y",
		"err", errors.New("bad key hunter2hunter2"),
		"raw", []byte("hunter2hunter2"),
		"any", struct{ K string }{"hunter2hunter2"},
		"n", 42,
		slog.Group("in", "deep", "sk-abcdefghijklmnopqrstuvwxyz012345"))
	out := buf.String()
	if strings.Contains(out, "hunter2") || strings.Contains(out, "sk-abc") {
		t.Fatalf("secret in log: %s", out)
	}
	for _, want := range []string{`"n":42`, Mask, `"deep"`} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s: %s", want, out)
		}
	}
}
