// Package psapi serves the pull-mode PubSub REST API of Ceph RGW
// (pubsub.md): /topics, /notifications/bucket/<bucket> and
// /subscriptions, mounted beside S3 on the same listener and signatures.
// Handlers are thin: they parse, check ownership and render the JSON
// shapes; package pubsub does the work. A user sees and manages only its
// own topics and subscriptions, and binds only buckets it owns.
package psapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/pubsub"
	"github.com/cairn-s3/cairn/internal/reqctx"
	"github.com/cairn-s3/cairn/internal/s3api"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// Buckets reads and changes bucket records (implemented by the store).
type Buckets interface {
	GetBucket(ctx context.Context, name string) (store.Bucket, error)
	UpdateBucket(ctx context.Context, name string, fn func(*store.Bucket) error) error
}

// Config is what the API needs.
type Config struct {
	Service *pubsub.Service
	// Options are the topic rules shared with the SNS API (zonegroup,
	// secrets over plain HTTP, trusted proxies).
	Options notify.Options
	// Queues removes the queue of a persistent topic deleted here.
	Queues  notify.QueueDeleter
	Buckets Buckets
	// MaxWait caps a pull's long-poll (wait=N seconds): 60s.
	MaxWait time.Duration
	Logger  *slog.Logger
}

// API serves the PubSub REST operations.
type API struct {
	cfg Config
	svc *pubsub.Service
}

// New returns the API.
func New(cfg Config) *API {
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &API{cfg: cfg, svc: cfg.Service}
}

// Install mounts the API's paths on the S3 adapter and installs its
// handlers.
func (a *API) Install(s3 *s3api.API) {
	s3.Mount("topics", "subscriptions", "notifications")
	for op, h := range map[s3api.Op]s3api.Handler{
		s3api.OpPSCreateTopic:        a.createTopic,
		s3api.OpPSGetTopic:           a.getTopic,
		s3api.OpPSListTopics:         a.listTopics,
		s3api.OpPSDeleteTopic:        a.deleteTopic,
		s3api.OpPSCreateNotification: a.createNotification,
		s3api.OpPSDeleteNotification: a.deleteNotification,
		s3api.OpPSListNotifications:  a.listNotifications,
		s3api.OpPSCreateSubscription: a.createSubscription,
		s3api.OpPSGetSubscription:    a.getSubscription,
		s3api.OpPSDeleteSubscription: a.deleteSubscription,
		s3api.OpPSPullEvents:         a.pull,
		s3api.OpPSAckEvents:          a.ack,
		s3api.OpPSNackEvents:         a.nack,
	} {
		// The S3 adapter refuses anonymous callers before these run: the
		// rows of the PubSub API need a signed request (every PubSub
		// resource belongs to a user).
		s3.Handle(op, h)
	}
}

// errSecretsOverHTTP answers a read of stored secrets over plain HTTP.
var errSecretsOverHTTP = s3err.AccessDenied.WithMessage("Topic contains secrets that must be transmitted over a secure transport")

func (a *API) secure(r *http.Request) bool {
	return reqctx.Secure(r, a.cfg.Options.TrustForwardedHTTPS)
}

// secretsReadable tells whether a resource with stored secrets may be
// shown over this request's transport.
func (a *API) secretsReadable(r *http.Request, storedSecret bool) bool {
	return !storedSecret || a.secure(r) || a.cfg.Options.AllowSecretsInCleartext
}

func tenantOf(user string) string { return tenant.OfUser(user) }

// name returns the single path element after the mount, or an error.
func name(req *s3api.Request, what string) (string, error) {
	if req.Key == "" || strings.Contains(req.Key, "/") {
		return "", s3err.InvalidArgument.WithMessage("Invalid %s name %q", what, req.Key)
	}
	return req.Key, nil
}

// endpointArgs renders a request's parameters as RGW stores them for a
// topic or subscription: "k=v&…" in request order, decoded, signature
// parameters of presigned URLs left out.
func endpointArgs(r *http.Request) string {
	var out []string
	for part := range strings.SplitSeq(r.URL.RawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, _ = url.QueryUnescape(k)
		v, _ = url.QueryUnescape(v)
		if presignParam(k) {
			continue
		}
		out = append(out, k+"="+v)
	}
	return strings.Join(out, "&")
}

func presignParam(k string) bool {
	return strings.HasPrefix(strings.ToLower(k), "x-amz-") || k == "AWSAccessKeyId" || k == "Signature" || k == "Expires"
}

// ownTopic returns the topic name of user's tenant if user owns it; any
// other topic is reported as missing.
func (a *API) ownTopic(ctx context.Context, user, name string) (*notify.Topic, error) {
	t, err := a.svc.Topics().Get(ctx, tenantOf(user), name)
	if err != nil {
		return nil, err
	}
	if t.Owner != user {
		return nil, notify.ErrNoSuchTopic
	}
	return t, nil
}

// ownBucket returns bucket if user owns it.
func (a *API) ownBucket(ctx context.Context, user, bucket string) (store.Bucket, error) {
	b, err := a.cfg.Buckets.GetBucket(ctx, bucket)
	if err != nil {
		return store.Bucket{}, err
	}
	if b.Owner != user {
		return store.Bucket{}, s3err.AccessDenied
	}
	return b, nil
}

func boolString(v bool) string {
	if v {
		return "true"
	}
	return "false"
}

// parseEvents parses the events parameter of a notification: a
// comma-separated list of PubSub or S3 names; empty means every creation
// and removal.
func parseEvents(s string) ([]string, error) {
	if s == "" {
		return []string{"OBJECT_CREATE", "OBJECT_DELETE", "DELETE_MARKER_CREATE"}, nil
	}
	var out []string
	for e := range strings.SplitSeq(s, ",") {
		e = strings.TrimSpace(e)
		if _, ok := notify.ParseEvent(e); !ok {
			return nil, s3err.InvalidArgument.WithMessage("Unknown event type %q", e)
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

// noSuchKey maps a missing topic or subscription onto 404 NoSuchKey.
func noSuchKey(err error) error {
	if errors.Is(err, notify.ErrNoSuchTopic) || errors.Is(err, pubsub.ErrNoSuchSubscription) {
		return s3err.NoSuchKey.WithCause(err)
	}
	return err
}
