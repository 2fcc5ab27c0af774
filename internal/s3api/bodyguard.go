package s3api

import (
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// Defaults of Config.BodyIdleTimeout and Config.MaxAnonymousBodies.
const (
	DefaultBodyIdleTimeout    = 20 * time.Second
	DefaultMaxAnonymousBodies = 64
)

// bodyGuard keeps request bodies from holding the server: a body that
// makes no progress for the idle timeout fails with RequestTimeout (and
// its connection is closed), and unauthenticated bodies (anonymous
// requests and POST forms, whose signature is inside the body) are read
// at most max at once; beyond that a request is answered 503 SlowDown at
// once, without reading its body, rather than queued: a queue would only
// move the wait to the client, and S3 clients retry SlowDown with backoff.
// A slow body that keeps progressing is never cut.
type bodyGuard struct {
	idle time.Duration
	anon chan struct{} // one token per unauthenticated body being served
}

func newBodyGuard(idle time.Duration, maxAnonymous int) *bodyGuard {
	if idle <= 0 {
		idle = DefaultBodyIdleTimeout
	}
	if maxAnonymous <= 0 {
		maxAnonymous = DefaultMaxAnonymousBodies
	}
	return &bodyGuard{idle: idle, anon: make(chan struct{}, maxAnonymous)}
}

// AnonymousBodies returns the number of unauthenticated request bodies
// being served now.
func (a *API) AnonymousBodies() int { return len(a.bodies.anon) }

// serve runs fn on r with its body guarded. An error of fn caused by the
// body stalling is reported as RequestTimeout, however the handler
// wrapped it.
func (g *bodyGuard) serve(w http.ResponseWriter, r *http.Request, fn func(*http.Request) error) error {
	if r.Body == nil || r.Body == http.NoBody {
		return fn(r)
	}
	if unauthenticated(r) {
		select {
		case g.anon <- struct{}{}:
			defer func() { <-g.anon }()
		default:
			// The body stays unread: close the connection rather than
			// wait for a client that may be trickling it.
			_ = http.NewResponseController(w).SetReadDeadline(time.Now())
			return s3err.SlowDown.WithMessage("Too many unauthenticated uploads are in progress; retry later.")
		}
	}
	return g.serveIdle(w, r, fn)
}

// GuardBodies applies the body idle timeout to a handler served beside the
// S3 API on its connections (the admin API, the metrics): without it,
// net/http waits without limit for the unread body of a request such a
// handler refused. Those handlers authenticate before reading a body, so
// the bound on unauthenticated bodies does not apply.
func (a *API) GuardBodies(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		_ = a.bodies.serveIdle(w, r, func(r *http.Request) error {
			h.ServeHTTP(w, r)
			return nil
		})
	})
}

// serveIdle runs fn on r with the idle timeout on its body.
func (g *bodyGuard) serveIdle(w http.ResponseWriter, r *http.Request, fn func(*http.Request) error) error {
	rc := http.NewResponseController(w)
	b := &idleBody{src: r.Body, rc: rc, idle: g.idle}
	// The deadline runs from now, not only from the handler's first Read:
	// net/http itself reads (discards) an unread body when the handler
	// writes its answer's header, which a large answer does before the
	// handler returns.
	b.extend()
	r.Body = b
	err := fn(r)
	if b.timedOut.Load() {
		return s3err.RequestTimeout.WithCause(err)
	}
	if !b.eof.Load() {
		// Whatever net/http discards of an unread body after the handler
		// must not wait for a stalled client either.
		_ = rc.SetReadDeadline(time.Now().Add(g.idle))
	}
	return err
}

// unauthenticated reports whether a request carries no credentials of its
// own in headers or query: its body is read before any signature is
// checked (a POST form's policy signature is in the body).
func unauthenticated(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return false
	}
	q := r.URL.RawQuery
	for _, p := range []string{"X-Amz-Signature=", "Signature=", "X-Amz-Credential=", "AWSAccessKeyId="} {
		if strings.Contains(q, p) {
			return false
		}
	}
	return true
}

// idleBody is a request body whose every Read must make progress within
// idle: the connection's read deadline is moved forward before each Read
// (so progress extends it), lifted at EOF (net/http then watches the
// connection for the client going away), and a Read that hits it fails
// with RequestTimeout.
type idleBody struct {
	src      io.ReadCloser
	rc       *http.ResponseController
	idle     time.Duration
	noLimit  bool // the connection has no read deadlines (not net/http's)
	eof      atomic.Bool
	timedOut atomic.Bool
}

// extend moves the connection's read deadline to idle from now.
func (b *idleBody) extend() {
	if !b.noLimit {
		if err := b.rc.SetReadDeadline(time.Now().Add(b.idle)); errors.Is(err, http.ErrNotSupported) {
			b.noLimit = true
		}
	}
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.extend()
	n, err := b.src.Read(p)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		b.eof.Store(true)
		if !b.noLimit {
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	case errors.Is(err, os.ErrDeadlineExceeded):
		b.timedOut.Store(true)
		err = s3err.RequestTimeout.WithCause(err)
	}
	return n, err
}

func (b *idleBody) Close() error { return b.src.Close() }
