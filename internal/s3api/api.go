// Package s3api is Cairn's S3 REST adapter: it extracts bucket and key
// (path-style or virtual-hosted), resolves the operation from one table,
// authenticates, authorizes, and calls a thin handler per operation. Errors
// are values; they are rendered as S3 XML in one place (errors.go).
package s3api

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/lifecycle"
	"github.com/cairn-s3/cairn/internal/lua"
	"github.com/cairn-s3/cairn/internal/optable"
	"github.com/cairn-s3/cairn/internal/reqctx"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/sse"
	"github.com/cairn-s3/cairn/internal/store"
)

// Authenticator verifies a request's signature (implemented by auth.Verifier).
type Authenticator interface {
	Verify(r *http.Request) (auth.Identity, error)
}

// Config carries the adapter's settings.
type Config struct {
	// Domain enables virtual-hosted-style requests: a Host of
	// "<bucket>.<Domain>" addresses that bucket.
	Domain string
	// Region is reported by GetBucketLocation for buckets created without
	// a LocationConstraint and accepted as a LocationConstraint.
	Region string
	Logger *slog.Logger
	// Users resolves the grantees of ACLs; nil accepts every user id,
	// resolves no email address and shows ids as display names.
	Users Users
	// SSE holds the server's master key for SSE-S3 and the testing KMS of
	// SSE-KMS; without it only SSE-C is available.
	SSE *sse.Keyring
	// ReservedBuckets are names that cannot be buckets because their
	// path-style URLs belong to another API (RGW reserves "admin" alike).
	ReservedBuckets []string
	// SSECRequireTLS refuses SSE-C writes over plain HTTP (S3's and RGW's
	// default; off so that the conformance suite can run over HTTP).
	SSECRequireTLS bool
	// Observe, if set, is told about every request once it is served
	// (metrics, access log); it must be quick.
	Observe func(RequestRecord)
	// BodyIdleTimeout is how long a request body may make no progress
	// before it fails with RequestTimeout (DefaultBodyIdleTimeout if 0).
	BodyIdleTimeout time.Duration
	// MaxAnonymousBodies bounds the unauthenticated request bodies (anonymous
	// requests, POST forms) read at once; more answer SlowDown
	// (DefaultMaxAnonymousBodies if 0).
	MaxAnonymousBodies int
	// Scripting, if set, runs the Lua request scripts.
	Scripting Scripting
}

// Users is the directory ACL grants are checked against.
type Users interface {
	// DisplayName returns the display name of user id, and whether the
	// user exists.
	DisplayName(ctx context.Context, id string) (string, bool)
	// ByEmail returns the id of the user with an email address.
	ByEmail(ctx context.Context, email string) (id string, ok bool)
}

// API serves the S3 REST protocol.
type API struct {
	store store.Backend
	auth  Authenticator
	cfg   Config
	log   *slog.Logger
	ops   map[Op]Handler
	// mounts are the path segments of APIs served beside S3 (the routes
	// with a mount); requests to them never reach a bucket of that name.
	mounts map[string]bool
	notes  *notifications // set by EnableNotifications
	bodies *bodyGuard
	// lifecycles are the parsed lifecycle rules x-amz-expiration reads.
	lifecycles lifecycle.Cache
}

// Handler serves one operation. It returns an error instead of writing
// one, so that errors are rendered in one place.
type Handler func(w http.ResponseWriter, r *http.Request, req *Request) error

// Request is what the adapter learned about a request before its handler runs.
type Request struct {
	ID string
	Op Op
	// Bucket is the stored (tenant-qualified) name of the request's bucket,
	// "tenant:bucket" (package tenant); BucketName is the S3 name
	// responses show. It is final once the caller is authenticated.
	Bucket   string
	Key      string
	Identity auth.Identity
	Start    time.Time

	row     *optable.Row // the operation's row of the table
	auth    authz        // what authorizing the request established
	formAPI bool         // a request of the API dispatched on Action (SNS)
	errCode string       // the S3 error code writeError wrote

	// bucketSegment is the bucket as the request spelled it (path segment
	// or virtual-hosted Host), virtualHost whether it came from the Host.
	bucketSegment string
	virtualHost   bool
	mounted       bool // the segment names an API mounted beside S3, no bucket

	// script is the request as Lua scripts see it; nil without scripting.
	script *lua.Request

	// postFields are a POST form's fields, for the policy's condition keys
	// (s3:RequestObjectTag reads its tagging field).
	postFields map[string]string
}

// Row returns the request's row of the operation table (its IAM action,
// scope, access rule, event and hook name).
func (r *Request) Row() optable.Row {
	if r.row == nil {
		return rowUnknown
	}
	return *r.row
}

// New returns the S3 adapter over a storage backend.
func New(b store.Backend, a Authenticator, cfg Config) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	api := &API{store: b, auth: a, cfg: cfg, log: cfg.Logger, bodies: newBodyGuard(cfg.BodyIdleTimeout, cfg.MaxAnonymousBodies)}
	api.ops = api.handlers()
	return api
}

// Handle installs a handler for an operation served by another package.
// Handle(OpSNS, h) installs h for every action of the SNS topic API (the
// rows dispatched on the Action parameter).
func (a *API) Handle(op Op, h Handler) {
	if op != OpSNS {
		a.ops[op] = h
		return
	}
	for _, row := range table {
		if row.Match.Form != "" {
			a.ops[row.Op] = h
		}
	}
}

// Mount routes path-style requests whose first segment is one of segments
// to the operation table's rows of that mount (the PubSub API's "topics",
// "subscriptions", "notifications"): the segment is no longer a bucket
// name. Call it before serving.
func (a *API) Mount(segments ...string) {
	if a.mounts == nil {
		a.mounts = map[string]bool{}
	}
	for _, s := range segments {
		a.mounts[s] = true
	}
}

type requestKey struct{}

// FromContext returns the request being served, for code running under a
// handler (for example a store ChangeHook building event records).
func FromContext(ctx context.Context) (*Request, bool) {
	req, ok := ctx.Value(requestKey{}).(*Request)
	return req, ok
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	req := &Request{ID: newRequestID(), Start: time.Now()}
	w.Header().Set("x-amz-request-id", req.ID)
	w.Header().Set("x-amz-id-2", req.ID)
	w.Header().Set("Server", "Cairn")
	info := &reqctx.Info{RequestID: req.ID, SourceIP: sourceIP(r), Host: r.Host}
	ctx := reqctx.With(context.WithValue(r.Context(), requestKey{}, req), info)
	r = r.WithContext(ctx)

	serve := func(w http.ResponseWriter, r *http.Request) {
		var rw *recordingWriter
		if a.cfg.Scripting != nil {
			req.script = a.scriptRequest(r, req)
			rw = &recordingWriter{ResponseWriter: w}
			w = rw
		}
		err := a.bodies.serve(w, r, func(r *http.Request) error { return a.serve(w, r, req, info) })
		if err != nil {
			a.writeError(w, r, req, err)
		}
		if rw != nil {
			a.postRequest(r, req, cmp.Or(rw.status, http.StatusOK), err)
		}
	}
	if a.cfg.Observe == nil {
		serve(w, r)
		return
	}
	a.observe(w, r, req, serve)
}

func (a *API) serve(w http.ResponseWriter, r *http.Request, req *Request, info *reqctx.Info) error {
	bucket, key, err := a.bucketAndKey(r)
	if err != nil {
		return err
	}
	req.bucketSegment, req.Key = bucket, key
	req.virtualHost = bucket != "" && a.virtualHostBucket(r) != ""
	// Until the caller is known only an explicit tenant qualifies
	// (tenancy.go): what preflights and unauthenticated errors see.
	if err := req.resolveBucket(); err != nil {
		return err
	}
	lvl := levelService
	switch {
	case key != "":
		lvl = levelObject
	case bucket != "":
		lvl = levelBucket
	}
	mount := ""
	if a.mounts[bucket] && !req.virtualHost {
		mount = bucket
		req.mounted = true
	}
	sel := selector(r, lvl, mount)
	setRow(req, info, resolve(sel))
	formKeyed := optable.FormKeyed(table, sel)
	if formKeyed {
		req.Op, info.Op = OpSNS, string(OpSNS) // until its Action is read
		req.formAPI = true
	}
	if err := checkNewKey(req.Op, key); err != nil {
		return err
	}
	if req.script != nil {
		if err := a.preRequest(r, req); err != nil {
			return err
		}
	}
	if req.Op == OpPreflight {
		a.preflightTenant(r, req)
		return a.preflight(w, r, req)
	}
	id, err := a.auth.Verify(r)
	if err != nil {
		a.setCORSHeaders(r.Context(), w, r, req.Bucket)
		return err
	}
	req.Identity = id
	info.UserID = id.UserID
	if req.script != nil {
		// The signature covered the headers as sent; from here on the
		// request is what its prerequest script made of it.
		req.script.ApplyHeaders(r.Header)
	}
	if err := req.resolveBucket(); err != nil {
		return err
	}
	a.setCORSHeaders(r.Context(), w, r, req.Bucket)
	if formKeyed {
		row, err := resolveForm(r, sel)
		if err != nil {
			return err
		}
		setRow(req, info, row)
	}
	// Authorization comes first: only a caller the row admits learns
	// anything, even that an operation is not implemented.
	if err := a.authorize(r, req); err != nil {
		return err
	}
	h := a.ops[req.Op]
	if h == nil {
		return s3err.NotImplemented.WithMessage("%s is not implemented", req.Op)
	}
	if req.script != nil {
		a.postAuth(r, req)
		a.putDataHook(r, req)
	}
	return h(w, r, req)
}

// setRow makes row the request's operation.
func setRow(req *Request, info *reqctx.Info, row *optable.Row) {
	req.row, req.Op = row, row.Op
	info.Op = string(row.Op)
}

// bucketAndKey extracts the bucket and key from a virtual-hosted Host or
// from the path.
func (a *API) bucketAndKey(r *http.Request) (bucket, key string, err error) {
	path := r.URL.Path
	if !strings.HasPrefix(path, "/") {
		return "", "", s3err.InvalidURI
	}
	if vb := a.virtualHostBucket(r); vb != "" {
		return vb, path[1:], nil
	}
	bucket, key, _ = strings.Cut(path[1:], "/")
	return bucket, key, nil
}

// VirtualHostBucket returns the bucket a virtual-hosted-style request
// addresses, or "" for a path-style request. Signature V2 needs it to build
// the canonical resource.
func (a *API) VirtualHostBucket(r *http.Request) string { return a.virtualHostBucket(r) }

func (a *API) virtualHostBucket(r *http.Request) string {
	if a.cfg.Domain == "" {
		return ""
	}
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	if b, ok := strings.CutSuffix(host, "."+a.cfg.Domain); ok && b != "" {
		return b
	}
	return ""
}

// sourceIP is the client's address without the port.
func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
