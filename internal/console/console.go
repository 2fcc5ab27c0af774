// Package console is Cairn's web console: a small single-page application
// (plain ES modules embedded in the binary) and the JSON API it calls, served
// on a listener of its own.
//
// The console is one more protocol adapter, and deliberately a thin one: it
// never touches the store. A person signs in with an access key and secret;
// the secret stays in the server-side session, and every call the page makes
// under /api/s3/ and /api/admin/ is signed with it (SigV4, as any S3 client
// would sign) and handed in-process to the S3 listener's own handler. So the
// operation table, bucket policies and the admin API's capability checks
// decide, exactly as for any other client, and there is no second
// authorization path into the store. The page and the API share one origin,
// so no CORS configuration is needed; sessions live in HttpOnly,
// SameSite=Strict cookies and every state change carries a CSRF token.
//
// Routes (all JSON errors are {"code","message"} with the HTTP status):
//
//	GET    /, /index.html, /style.css, /js/...   the embedded page
//	POST   /api/session          sign in: {"accessKey","secretKey"} → session JSON + cookie
//	GET    /api/session          the live session's JSON, or 401 NoSession
//	DELETE /api/session          sign out
//	ANY    /api/s3/<rest>        forwarded to the S3 handler as /<rest>
//	ANY    /api/admin/<rest>     forwarded to the admin API as /admin/<rest>
//	POST   /api/presign          a presigned URL on the S3 endpoint
//	GET    /api/metrics/history  the server's metrics of the last hour (admins)
package console

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"
)

// Defaults of Config.
const (
	DefaultAddress         = "127.0.0.1:7481"
	DefaultSessionLifetime = 12 * time.Hour
	DefaultMaxSessions     = 10000
)

// Accounts is what the console needs of the account service: the owner of
// an access key, or an error that is ErrUnknownKey.
type Accounts interface {
	KeyOwner(ctx context.Context, accessKey string) (KeyOwner, error)
}

// KeyOwner is the user owning an access key, as the console sees it.
type KeyOwner struct {
	UserID      string // "tenant$uid" for a user of a tenant
	DisplayName string
	SecretKey   string // the key's secret, compared at sign-in
	Suspended   bool
	// Admin is whether the admin API lets the user in at all (admin or
	// system users, and users with the "users" capability): the console
	// shows its admin pages to them; the admin API still decides.
	Admin bool
}

// ErrUnknownKey is what Accounts.KeyOwner answers for a key nobody owns.
var ErrUnknownKey = errors.New("console: unknown access key")

// History serves the server's recent metrics as the JSON of
// GET /api/metrics/history (package metrics implements it).
type History interface {
	JSON(w io.Writer) error
}

// Config is what a Console needs.
type Config struct {
	// S3 is the S3 listener's whole handler (S3, SNS and /admin/); every
	// forwarded call goes through it.
	S3 http.Handler
	// Accounts verifies sign-ins.
	Accounts Accounts
	// Endpoint is the public URL of the S3 listener (http://host:port):
	// the Host forwarded requests are signed for, and the base of
	// presigned URLs.
	Endpoint string
	// Region is the region requests are signed for.
	Region string
	// History, if set (a nil pointer counts as unset), serves
	// GET /api/metrics/history (404 without).
	History History
	// SessionLifetime is how long a session lives after sign-in
	// (DefaultSessionLifetime if zero).
	SessionLifetime time.Duration
	// MaxSessions bounds the sessions kept in memory; signing in beyond it
	// evicts the oldest (DefaultMaxSessions if zero).
	MaxSessions int
	// LocalHostsOnly answers only requests whose Host is an IP address or
	// localhost. Set it when the listener is on loopback: a page of another
	// site whose name is made to resolve to 127.0.0.1 (DNS rebinding) then
	// cannot reach the console as an origin of its own.
	LocalHostsOnly bool
	// Logger receives the console's logs; slog.Default() if nil.
	Logger *slog.Logger
	// Now is the clock; time.Now if nil.
	Now func() time.Time
}

// Console serves the page and its API. It is an http.Handler.
type Console struct {
	cfg      Config
	log      *slog.Logger
	endpoint *url.URL
	sessions *sessions
	assets   http.Handler
}

// New checks cfg and returns a Console.
func New(cfg Config) (*Console, error) {
	if cfg.S3 == nil || cfg.Accounts == nil {
		return nil, errors.New("console: S3 handler and accounts are required")
	}
	ep, err := url.Parse(cfg.Endpoint)
	if err != nil || (ep.Scheme != "http" && ep.Scheme != "https") || ep.Host == "" {
		return nil, errors.New("console: endpoint " + strings.TrimSpace(cfg.Endpoint) + ": want http(s)://host:port")
	}
	if cfg.Region == "" {
		return nil, errors.New("console: region is empty")
	}
	if cfg.SessionLifetime < 0 || cfg.MaxSessions < 0 {
		return nil, errors.New("console: session lifetime and max sessions must not be negative")
	}
	if cfg.SessionLifetime == 0 {
		cfg.SessionLifetime = DefaultSessionLifetime
	}
	if cfg.MaxSessions == 0 {
		cfg.MaxSessions = DefaultMaxSessions
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// A nil *metrics.History (metrics off) in the interface is no history.
	if v := reflect.ValueOf(cfg.History); cfg.History != nil && v.Kind() == reflect.Pointer && v.IsNil() {
		cfg.History = nil
	}
	return &Console{
		cfg: cfg, log: cfg.Logger, endpoint: ep,
		sessions: newSessions(cfg.MaxSessions, cfg.SessionLifetime, cfg.Now),
		assets:   assetHandler(),
	}, nil
}

// ServeHTTP routes a request to the page or the API.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if c.cfg.LocalHostsOnly && !localHost(r.Host) {
		writeError(w, http.StatusForbidden, "InvalidHost", "the console answers only at an IP address or localhost")
		return
	}
	p := r.URL.Path
	if !strings.HasPrefix(p, "/api/") {
		c.assets.ServeHTTP(w, r)
		return
	}
	// API answers are never cached, never sniffed, and never rendered as a
	// page of the console's origin (a forwarded object could be HTML).
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; frame-ancestors 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	if !c.sameOrigin(r) {
		writeError(w, http.StatusForbidden, "InvalidOrigin", "the request comes from another origin than the console's")
		return
	}
	if loadedAsCode(r) {
		writeError(w, http.StatusForbidden, "InvalidFetchDestination", "the console's API is not loadable as a script, worker or stylesheet")
		return
	}
	switch {
	case p == "/api/session":
		c.serveSession(w, r)
	case strings.HasPrefix(p, s3Prefix), p == strings.TrimSuffix(s3Prefix, "/"):
		c.withSession(w, r, c.forwardS3)
	case strings.HasPrefix(p, adminPrefix):
		c.withSession(w, r, c.forwardAdmin)
	case p == "/api/presign":
		c.withSession(w, r, c.servePresign)
	case p == "/api/metrics/history":
		c.withSession(w, r, c.serveHistory)
	default:
		writeError(w, http.StatusNotFound, "NotFound", "no such console API")
	}
}
