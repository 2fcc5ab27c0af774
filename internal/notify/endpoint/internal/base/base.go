// Package base holds the types and error helpers shared by the endpoint
// package and its per-scheme drivers. It exists so that the drivers need not
// import package endpoint, which imports them; package endpoint re-exports
// everything here under its own names.
package base

import (
	"errors"
	"fmt"
	"strings"
)

// Message is one notification to deliver: a JSON event document plus the
// routing and header values a driver may need.
type Message struct {
	// Body is sent verbatim as the HTTP body, AMQP body, Kafka value,
	// NATS payload or MQTT payload.
	Body []byte
	// Topic is the topic's own name. It becomes the AMQP routing key, the
	// Kafka topic, the NATS subject or the MQTT topic.
	Topic string
	// ID identifies the event: the record's eventId. Every driver that
	// has a place for it sends it (AMQP message-id, Kafka header IDHeader,
	// NATS Nats-Msg-Id, HTTP CloudEvents ce-eventid), so consumers can drop
	// the duplicates at-least-once delivery makes.
	ID string
	// Attributes carries optional per-message values, such as the
	// CloudEvents fields keyed by their header names (ce-id, ce-source, ...).
	Attributes map[string]string
}

// IDHeader is the Kafka record header that carries Message.ID.
const IDHeader = "eventId"

// ErrPermanent marks errors that retrying with the same configuration will
// not fix: a malformed URI, an unknown scheme or ack level, a missing AMQP
// exchange, rejected credentials.
var ErrPermanent = errors.New("permanent endpoint error")

// ErrBusy reports that an endpoint refused a message at once because too
// many messages were already in flight; it is transient.
var ErrBusy = errors.New("endpoint busy: too many messages in flight")

// ErrClosed reports use of an endpoint after Close.
var ErrClosed = errors.New("endpoint closed")

type permanentError struct{ err error }

func (e *permanentError) Error() string        { return e.err.Error() }
func (e *permanentError) Unwrap() error        { return e.err }
func (e *permanentError) Is(target error) bool { return target == ErrPermanent }

// Permanent marks err as permanent while keeping it inspectable with
// errors.Is and errors.As. A nil err stays nil.
func Permanent(err error) error {
	if err == nil || errors.Is(err, ErrPermanent) {
		return err
	}
	return &permanentError{err: err}
}

// Permanentf is fmt.Errorf followed by Permanent.
func Permanentf(format string, args ...any) error {
	return Permanent(fmt.Errorf(format, args...))
}

// IsPermanent reports whether err, or an error it wraps, is permanent.
func IsPermanent(err error) bool { return errors.Is(err, ErrPermanent) }

// Redact removes the userinfo (user name and password) from a URI so that it
// can appear in logs and errors. It works on strings, not url.URL, because
// endpoint URIs need not parse as URLs (Kafka allows host lists).
func Redact(uri string) string {
	i := strings.Index(uri, "://")
	if i < 0 {
		return uri
	}
	rest := uri[i+3:]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	// The last '@' of the authority ends the userinfo; passwords may hold '@'.
	if at := strings.LastIndex(rest[:end], "@"); at >= 0 {
		return uri[:i+3] + rest[at+1:]
	}
	return uri
}

// RedactError returns an error whose message has every occurrence of the
// given secrets replaced, for errors produced by libraries that echo URIs or
// credentials. The original error stays reachable through Unwrap.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	changed := false
	for _, s := range secrets {
		if s != "" && strings.Contains(msg, s) {
			msg = strings.ReplaceAll(msg, s, "REDACTED")
			changed = true
		}
	}
	if !changed {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
