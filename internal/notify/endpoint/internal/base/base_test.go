package base

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := map[string]string{
		"amqp://u:p@h:5672/vh":        "amqp://h:5672/vh",
		"amqp://u:p@ss@h":             "amqp://h",
		"kafka://u:p@a:1,b:2":         "kafka://a:1,b:2",
		"nats://token@h":              "nats://h",
		"http://h/path@x?q=a@b":       "http://h/path@x?q=a@b",
		"https://h":                   "https://h",
		"not a uri":                   "not a uri",
		"http://u:p@h?x=1":            "http://h?x=1",
		"mqtt://user:pw@[::1]:1883/x": "mqtt://[::1]:1883/x",
	}
	for in, want := range tests {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPermanent(t *testing.T) {
	if Permanent(nil) != nil {
		t.Error("Permanent(nil) != nil")
	}
	err := Permanent(fmt.Errorf("wrap: %w", io.EOF))
	if !IsPermanent(err) || !errors.Is(err, io.EOF) {
		t.Errorf("Permanent lost information: %v", err)
	}
	if Permanent(err) != err {
		t.Error("Permanent of a permanent error wraps again")
	}
	if !IsPermanent(fmt.Errorf("outer: %w", err)) {
		t.Error("wrapping hides permanence")
	}
	if IsPermanent(io.EOF) {
		t.Error("plain error reported permanent")
	}
}

func TestRedactError(t *testing.T) {
	inner := fmt.Errorf("login alice:s3cret refused: %w", io.EOF)
	err := RedactError(inner, "", "s3cret")
	if got := err.Error(); got != "login alice:REDACTED refused: EOF" {
		t.Errorf("message = %q", got)
	}
	if !errors.Is(err, io.EOF) {
		t.Error("redaction broke errors.Is")
	}
	if RedactError(io.EOF, "x") != io.EOF || RedactError(nil, "x") != nil {
		t.Error("errors without secrets must pass through unchanged")
	}
}
