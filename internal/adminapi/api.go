// Package adminapi serves a subset of Ceph RGW's Admin Ops API under
// /admin/: user and key management, with RGW's query parameters, JSON
// shapes and JSON errors, so that RGW tooling (go-ceph's rgw/admin,
// `cairn admin`) works against Cairn.
//
// Requests are authenticated by the same verifier as S3 requests (SigV4 or
// SigV2, any region and service scope as the verifier allows) and
// authorized like RGW: admin and system users may do everything; other
// users need the "users" capability (read for GET, write otherwise), or
// "metadata" for /admin/metadata/user. A user of a tenant is uid=T$U or
// tenant=T&uid=U, as radosgw-admin spells it.
//
// Routes:
//
//	GET    /admin/user?uid=U | ?access-key=K   user info ([&stats=true]: with its buckets' storage)
//	GET    /admin/user?list[&tenant=T]         {"keys": [uids], "truncated": false, "count": n}
//	GET    /admin/metadata/user[?tenant=T]     JSON array of uids
//	PUT    /admin/user?uid=U&display-name=...  create user
//	POST   /admin/user?uid=U&...               modify user
//	DELETE /admin/user?uid=U[&purge-data]      remove user
//	PUT    /admin/user?key&uid=U[&access-key&secret-key&generate-key]  create key
//	DELETE /admin/user?key&uid=U&access-key=K  remove key
//	PUT    /admin/user?caps&uid=U&user-caps=C  add capabilities
//	DELETE /admin/user?caps&uid=U&user-caps=C  remove capabilities
//
// and, when Config.Notifications is set, bucket notifications (spec §6.3,
// radosgw-admin's topic and notification commands; "buckets" capability):
//
//	GET    /admin/topic[?tenant=T&uid=U]            {"topics": [<topic>]}
//	GET    /admin/topic?topic=N[&tenant=T]          <topic>
//	DELETE /admin/topic?topic=N                     remove topic, queue and dead letters
//	GET    /admin/topic?stats&topic=N               {"Topic Stats": {...}, "queue": {depth, bytes, ...}}
//	GET    /admin/topic?dlq&topic=N[&max-entries=M] {"dead_letters": [...]}
//	POST   /admin/topic?replay&topic=N[&event-id=I] {"replayed": n}
//	POST   /admin/topic?test-event&topic=N          {"event_id", "queued", "delivered"[, "error"]}
//	GET    /admin/notification?bucket=B[&tenant=T][&notification-id=I]  {"notifications": [<notif>]} or <notif>
//	DELETE /admin/notification?bucket=B[&tenant=T][&notification-id=I]  remove one or all
//	GET    /admin/notification/stats                counters (spec §7) and every queue's stats
//
// and, when Config.Buckets is set, radosgw-admin's bucket list and stats
// ("buckets" capability; T="" is the default tenant):
//
//	GET    /admin/bucket?bucket=B[&tenant=T]        <bucket stats> (B may be "T/B" or "T:B")
//	GET    /admin/bucket[?uid=U[&tenant=T] | ?tenant=T][&stats]  [names] or [<bucket stats>]
//
// and, when Config.Scrub is set (admins, or the "buckets" write capability):
//
//	POST   /admin/scrub[?rate=N][&upgrade-legacy]   verify all object data: {"objects", ..., "damaged": [...]}
//
// and, when Config.Lifecycle is set, radosgw-admin's lc list and lc process
// ("buckets" capability):
//
//	GET    /admin/lc                                {"buckets": [{"bucket", "tenant", "status", "started", "finished", "objects_removed", ...}]}
//	POST   /admin/lc?process[&bucket=B[&tenant=T]]  run a pass now (every bucket without bucket=); answers when done
//
// and, when Config.Scripts is set, radosgw-admin's script and
// script-package commands (admins only; C is a context in any case):
//
//	GET    /admin/script?context=C[&tenant=T][&script-name=N]  {"script": source} or 404 NoSuchScript
//	PUT    /admin/script?context=C[&tenant=T][&script-name=N]  store the body (compiled first)
//	DELETE /admin/script?context=C[&tenant=T][&script-name=N]  remove (missing: success)
//	GET    /admin/script?list&context=C[&tenant=T]             {"scripts": [names]}
//	GET    /admin/script-package                               {"packages": ["name[ version]"]}
//	PUT    /admin/script-package?package=P[&allow-compilation] allowlist a shipped package
//	DELETE /admin/script-package?package=P                     {"removed": bool}
//	POST   /admin/script-package?reload                        gateways re-read scripts and packages
//
// and GET /admin/cluster (admins only): the Ceph cluster's status (health,
// monitors, OSDs, pools, usage) on a RADOS store, NotImplemented otherwise.
package adminapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/cairn-s3/cairn/internal/account"
	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/optable"
	"github.com/cairn-s3/cairn/internal/s3err"
)

// Prefix is the path prefix of every admin request.
const Prefix = "/admin/"

// Authenticator verifies a request's signature (implemented by auth.Verifier).
type Authenticator interface {
	Verify(r *http.Request) (auth.Identity, error)
}

// Config carries the adapter's settings.
type Config struct {
	Logger *slog.Logger
	// HostID is reported in errors' HostId, as RGW reports its zone; "cairn"
	// if empty.
	HostID string
	// Notifications enables the topic and notification operations.
	Notifications *Notifications
	// PubSub enables the subscription operations.
	PubSub PubSub
	// Counters, if set, returns the PubSub counters (GET /admin/counters).
	Counters func() map[string]int64
	// LuaCounters, if set, returns RGW's Lua counters (lua_script_ok,
	// lua_script_fail, lua_current_vms), shown under "lua".
	LuaCounters func() map[string]int64
	// Scrub, if set, serves POST /admin/scrub.
	Scrub Scrubber
	// Lifecycle, if set, serves /admin/lc.
	Lifecycle Lifecycle
	// Buckets, if set, serves the bucket listing and stats (GET /admin/bucket).
	Buckets BucketLister
	// Scripts, if set, serves the Lua script and package operations.
	Scripts *Scripts
	// Cluster, if set, serves GET /admin/cluster; without it (the local
	// store) the request is answered NotImplemented.
	Cluster ClusterStatuser
}

// API serves the admin operations.
type API struct {
	accounts *account.Service
	auth     Authenticator
	log      *slog.Logger
	hostID   string
	notify   *Notifications
	pubsub   PubSub
	// countersFn returns the PubSub counters.
	countersFn func() map[string]int64
	luaFn      func() map[string]int64
	scrubFn    Scrubber
	lifecycle  Lifecycle
	buckets    BucketLister
	scripts    *Scripts
	clusterFn  ClusterStatuser
}

// New returns the admin API over the account service.
func New(accounts *account.Service, a Authenticator, cfg Config) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.HostID == "" {
		cfg.HostID = "cairn"
	}
	return &API{accounts: accounts, auth: a, log: cfg.Logger, hostID: cfg.HostID, notify: cfg.Notifications,
		pubsub: cfg.PubSub, countersFn: cfg.Counters, luaFn: cfg.LuaCounters, scrubFn: cfg.Scrub, buckets: cfg.Buckets,
		lifecycle: cfg.Lifecycle,
		scripts:   cfg.Scripts, clusterFn: cfg.Cluster}
}

// handler serves one admin operation for an authorized caller and returns
// the JSON document to answer with (nil for an empty 200).
type handler func(a *API, ctx context.Context, q query) (any, error)

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	w.Header().Set("x-amz-request-id", reqID)
	w.Header().Set("Server", "Cairn")
	rt, doc, err := a.serve(r)
	if err != nil {
		a.writeError(w, r, reqID, string(rt.Op), err)
		return
	}
	a.log.DebugContext(r.Context(), "admin request", "op", rt.Op, "request_id", reqID)
	w.Header().Set("Content-Type", "application/json")
	if doc == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	body, err := json.Marshal(doc)
	if err != nil {
		a.writeError(w, r, reqID, string(rt.Op), err)
		return
	}
	_, _ = w.Write(body)
}

// MinIOPrefix is the path prefix of MinIO's admin API (mc admin). Cairn
// does not implement it; its requests are answered NotImplemented before
// authentication, which they could not pass: madmin signs them with an
// empty region, which SigV4 verification refuses as malformed.
const MinIOPrefix = "/minio/admin/"

// rowMinIO is the row of MinIO admin requests.
var rowMinIO = route{Row: optable.Row{Op: "MinIOAdmin", Match: optable.Match{Path: strings.TrimSuffix(MinIOPrefix, "/")}}}

// errMinIONotImplemented answers MinIO admin requests.
var errMinIONotImplemented = &apiError{"NotImplemented", http.StatusNotImplemented,
	"MinIO's admin API is not implemented; Cairn serves RGW's Admin Ops API under /admin/.", nil}

// serve authenticates, resolves, authorizes and runs a request. The
// caller is authenticated and authorized before anything else: even that
// an operation is not implemented is told only to admins.
func (a *API) serve(r *http.Request) (route, any, error) {
	if strings.HasPrefix(r.URL.Path, MinIOPrefix) {
		return rowMinIO, nil, errMinIONotImplemented
	}
	id, err := a.auth.Verify(r)
	if err != nil {
		return rowUnsupported, nil, err
	}
	rt := resolve(r)
	if err := a.authorize(r.Context(), id, rt.Row); err != nil {
		return rt, nil, err
	}
	if rt.h == nil {
		return rt, nil, errNotImplemented
	}
	doc, err := rt.h(a, r.Context(), query{Values: r.URL.Query(), body: r.Body})
	return rt, doc, err
}

// authorize lets admin and system users do everything and others what
// their capabilities allow (rows without a capability: nothing).
func (a *API) authorize(ctx context.Context, id auth.Identity, row optable.Row) error {
	if id.Anonymous || id.UserID == "" {
		return errAccessDenied
	}
	u, err := a.accounts.Info(ctx, id.UserID)
	if errors.Is(err, account.ErrNoSuchUser) {
		return errAccessDenied
	}
	if err != nil {
		return err
	}
	if u.Suspended {
		return errAccessDenied
	}
	perm := "read"
	if row.Access == optable.AccessAdminWrite {
		perm = "write"
	}
	if u.Admin || u.System || row.Capability != "" && u.HasCap(row.Capability, perm) {
		return nil
	}
	return errAccessDenied
}

// apiError is an Admin Ops error: RGW's code and HTTP status.
type apiError struct {
	Code    string
	Status  int
	Message string
	cause   error
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return e.Code + ": " + e.cause.Error()
	}
	return e.Code + ": " + e.Message
}

func (e *apiError) Unwrap() error { return e.cause }

// with returns a copy of e wrapping cause, whose text (without the
// package prefix of the account service) becomes the message.
func (e *apiError) with(cause error) *apiError {
	c := *e
	c.cause = cause
	c.Message = strings.TrimPrefix(cause.Error(), "account: ")
	return &c
}

// The errors the admin API answers with, with RGW's codes and statuses.
var (
	errNoSuchUser         = &apiError{"NoSuchUser", http.StatusNotFound, "The specified user does not exist.", nil}
	errUserExists         = &apiError{"UserAlreadyExists", http.StatusConflict, "The user already exists.", nil}
	errKeyExists          = &apiError{"KeyExists", http.StatusConflict, "The access key belongs to another user.", nil}
	errEmailExists        = &apiError{"EmailExists", http.StatusConflict, "The e-mail address is already in use.", nil}
	errInvalidAccessKeyID = &apiError{"InvalidAccessKeyId", http.StatusForbidden, "The access key does not exist.", nil}
	errInvalidAccessKey   = &apiError{"InvalidAccessKey", http.StatusBadRequest, "Invalid access key specified.", nil}
	errInvalidSecretKey   = &apiError{"InvalidSecretKey", http.StatusBadRequest, "Invalid secret key specified.", nil}
	errInvalidKeyType     = &apiError{"InvalidKeyType", http.StatusBadRequest, "Only S3 keys are supported.", nil}
	errInvalidCapability  = &apiError{"InvalidCapability", http.StatusBadRequest, "Invalid capability specified.", nil}
	errInvalidArgument    = &apiError{"InvalidArgument", http.StatusBadRequest, "Invalid argument.", nil}
	errAccessDenied       = &apiError{"AccessDenied", http.StatusForbidden, "Access Denied", nil}
	errNotImplemented     = &apiError{"NotImplemented", http.StatusNotImplemented, "This admin operation is not implemented.", nil}
	errInternal           = &apiError{"InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again.", nil}
)

// accountErrors maps the account service's sentinels onto admin errors: the
// one place where that translation happens.
var accountErrors = []struct {
	err error
	api *apiError
}{
	{account.ErrNoSuchUser, errNoSuchUser},
	{account.ErrUserExists, errUserExists},
	{account.ErrKeyExists, errKeyExists},
	{account.ErrEmailExists, errEmailExists},
	{account.ErrNoSuchKey, errInvalidAccessKeyID},
	{account.ErrInvalidUserID, errInvalidArgument},
	{account.ErrInvalidKey, errInvalidAccessKey},
	{account.ErrInvalidSecret, errInvalidSecretKey},
	{account.ErrInvalidCaps, errInvalidCapability},
	{account.ErrInvalidRequest, errInvalidArgument},
	{auth.ErrUnknownAccessKey, errInvalidAccessKeyID},
}

// toAPI returns the admin error for err.
func toAPI(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	if se := s3err.As(err); se != nil { // from the verifier
		return &apiError{Code: se.Code, Status: se.Status, Message: se.Message, cause: err}
	}
	for _, m := range accountErrors {
		if errors.Is(err, m.err) {
			return m.api.with(err)
		}
	}
	return &apiError{Code: errInternal.Code, Status: errInternal.Status, Message: errInternal.Message, cause: err}
}

// errorDoc is RGW's JSON error document.
type errorDoc struct {
	Code      string `json:"Code"`
	Message   string `json:"Message,omitempty"`
	RequestID string `json:"RequestId"`
	HostID    string `json:"HostId"`
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, reqID, op string, err error) {
	e := toAPI(err)
	if e.Status >= 500 && e.Code != errNotImplemented.Code {
		a.log.ErrorContext(r.Context(), "admin request failed", "op", op, "request_id", reqID, "err", err)
	} else {
		a.log.DebugContext(r.Context(), "admin request rejected", "op", op, "code", e.Code, "request_id", reqID, "err", err)
	}
	msg := e.Message
	if e.Code == errInternal.Code {
		msg = errInternal.Message // never leak internal causes
	}
	body, _ := json.Marshal(errorDoc{Code: e.Code, Message: msg, RequestID: reqID, HostID: a.hostID})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "tx" + hex.EncodeToString(b[:])
}
