// Package snsapi serves RGW's SNS-style topic API on POST / (spec §2):
// form-encoded Action=… requests, SNS XML responses, errors in the S3
// envelope. It is installed on the S3 adapter for s3api.OpSNS, so
// authentication (SigV4 with any service scope, SigV2) has already run.
package snsapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/reqctx"
	"github.com/cairn-s3/cairn/internal/s3api"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// Queues removes the durable queues of persistent topics (implemented by
// *queue.Queue, whose queues come into being with their first event). It
// is optional: without it, queues are left alone.
type Queues interface {
	// DeleteQueue deletes the named queue and its pending entries; a
	// missing queue is not an error.
	DeleteQueue(ctx context.Context, name string) error
}

// Config carries the API's dependencies and settings.
type Config struct {
	Options notify.Options
	Queues  Queues
	Logger  *slog.Logger
}

// API serves the topic API.
type API struct {
	topics *notify.Topics
	opts   notify.Options
	queues Queues
	log    *slog.Logger
}

// New returns the topic API over a topic store.
func New(topics *notify.Topics, cfg Config) *API {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Options.Zonegroup == "" {
		cfg.Options.Zonegroup = "default"
	}
	return &API{topics: topics, opts: cfg.Options, queues: cfg.Queues, log: cfg.Logger}
}

// call is one API request being served.
type call struct {
	w      http.ResponseWriter
	r      *http.Request
	req    *s3api.Request
	p      map[string]string
	tenant string
	secure bool
}

type action func(a *API, c *call) error

var actions = map[string]action{
	"CreateTopic":        (*API).createTopic,
	"DeleteTopic":        (*API).deleteTopic,
	"ListTopics":         (*API).listTopics,
	"GetTopic":           (*API).getTopic,
	"GetTopicAttributes": (*API).getTopicAttributes,
	"SetTopicAttributes": (*API).setTopicAttributes,
}

// Serve is the s3api.Handler for s3api.OpSNS. It renders its own errors
// (the SNS error envelope has no Resource or BucketName) and returns nil.
func (a *API) Serve(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	if err := a.serve(w, r, req); err != nil {
		e := s3err.As(err)
		if e == nil {
			e = s3err.InternalError.WithCause(err)
		}
		if e.Status >= 500 {
			a.log.ErrorContext(r.Context(), "sns request failed", "request_id", req.ID, "err", err)
		}
		hostID := w.Header().Get("x-amz-id-2")
		if hostID == "" {
			hostID = req.ID
		}
		writeError(w, e, req.ID, hostID)
	}
	return nil
}

func (a *API) serve(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	p, err := params(r)
	if err != nil {
		return err
	}
	act := actions[p["Action"]]
	if act == nil {
		// No operation for this POST /: RGW answers 405.
		return s3err.MethodNotAllowed
	}
	// The S3 adapter refused anonymous callers before (the topic API's
	// rows need a signed request).
	c := &call{w: w, r: r, req: req, p: p, tenant: tenant.OfUser(req.Identity.UserID), secure: a.secure(r)}
	return act(a, c)
}

// secure reports whether a request came over a secure transport.
func (a *API) secure(r *http.Request) bool { return reqctx.Secure(r, a.opts.TrustForwardedHTTPS) }

// readAllowed reports whether a topic's secrets may be read over this
// request's transport.
func (a *API) readAllowed(c *call, t *notify.Topic) bool {
	return !t.StoredSecret || c.secure || a.opts.AllowSecretsInCleartext
}

// topicFromARN resolves the TopicArn parameter to a topic of the
// requester's namespace (spec §2.6: only the name part is used).
func (a *API) topicFromARN(c *call) (*notify.Topic, error) {
	arn, ok := c.p["TopicArn"]
	if !ok || arn == "" {
		return nil, s3err.InvalidArgument.WithMessage("Missing required element TopicArn")
	}
	_, name, ok := notify.ParseTopicARN(arn)
	if !ok {
		return nil, s3err.InvalidArgument.WithMessage("Invalid value for TopicArn")
	}
	t, err := a.topics.Get(c.r.Context(), c.tenant, name)
	if errors.Is(err, notify.ErrNoSuchTopic) {
		return nil, s3err.NoSuchTopic.WithCause(err)
	}
	return t, err
}

func (a *API) createTopic(c *call) error {
	ctx := c.r.Context()
	name := c.p["Name"]
	t, err := a.opts.NewTopic(c.tenant, name, c.req.Identity.UserID, c.p, c.secure)
	if err != nil {
		return err
	}
	old, err := a.topics.Get(ctx, c.tenant, name)
	switch {
	case err == nil:
		if err := a.opts.Authorize(old, c.req.Identity.UserID, notify.ActionCreateTopic); err != nil {
			return err
		}
		if old.Owner != t.Owner {
			// Taken over by another user (a Policy grant): the old owner's
			// queued events must not be sent once the new endpoint is in.
			if err := notify.RetireQueue(ctx, a.queues, old, nil); err != nil {
				return err
			}
		}
	case !errors.Is(err, notify.ErrNoSuchTopic):
		return err
	}
	if err := a.topics.Put(ctx, t); err != nil {
		return err
	}
	if err := notify.RetireQueue(ctx, a.queues, old, t); err != nil {
		return err
	}
	return c.respond("CreateTopicResponse", true, func(d *doc) {
		d.open("CreateTopicResult")
		d.elem("TopicArn", t.ARN(a.opts.Zonegroup))
		d.close("CreateTopicResult")
	}, nil)
}

func (a *API) deleteTopic(c *call) error {
	ctx := c.r.Context()
	t, err := a.topicFromARN(c)
	switch {
	case errors.Is(err, s3err.NoSuchTopic):
		// Deleting a missing topic succeeds.
	case err != nil:
		return err
	default:
		if err := a.opts.Authorize(t, c.req.Identity.UserID, notify.ActionDeleteTopic); err != nil {
			return err
		}
		if err := a.topics.Delete(ctx, t.Tenant, t.Name); err != nil {
			return err
		}
		if err := notify.RetireQueue(ctx, a.queues, t, nil); err != nil {
			return err
		}
	}
	return c.respond("DeleteTopicResponse", true, nil, nil)
}

// readableTopic resolves TopicArn, checks read permission and transport,
// and returns the topic as the requester may see it (another user never
// sees the owner's credentials or OpaqueData, notify.Topic.ViewFor).
func (a *API) readableTopic(c *call) (*notify.Topic, error) {
	t, err := a.topicFromARN(c)
	if err != nil {
		return nil, err
	}
	if err := a.opts.Authorize(t, c.req.Identity.UserID, notify.ActionGetTopicAttributes); err != nil {
		return nil, err
	}
	if !a.readAllowed(c, t) {
		return nil, s3err.AccessDenied.WithMessage("")
	}
	return t.ViewFor(c.req.Identity.UserID), nil
}

func (a *API) getTopicAttributes(c *call) error {
	t, err := a.readableTopic(c)
	if err != nil {
		return err
	}
	return c.respond("GetTopicAttributesResponse", true, func(d *doc) {
		d.open("GetTopicAttributesResult")
		d.open("Attributes")
		for _, kv := range [][2]string{
			{"User", t.Owner}, {"Name", t.Name}, {"EndPoint", endpointJSON(t)},
			{"TopicArn", t.ARN(a.opts.Zonegroup)}, {"OpaqueData", t.OpaqueData}, {"Policy", t.Policy},
		} {
			d.open("entry")
			d.elem("key", kv[0])
			d.elem("value", kv[1])
			d.close("entry")
		}
		d.close("Attributes")
		d.close("GetTopicAttributesResult")
	}, nil)
}

func (a *API) getTopic(c *call) error {
	t, err := a.readableTopic(c)
	if err != nil {
		return err
	}
	return c.respond("GetTopicResponse", false /* no namespace (quirk) */, func(d *doc) {
		d.open("GetTopicResult")
		d.open("Topic")
		d.topicBody(t, a.opts.Zonegroup)
		d.close("Topic")
		d.close("GetTopicResult")
	}, nil)
}

func (a *API) listTopics(c *call) error {
	user := c.req.Identity.UserID
	visible := func(t *notify.Topic) bool {
		return a.opts.Authorize(t, user, notify.ActionGetTopicAttributes) == nil
	}
	topics, next, err := a.topics.List(c.r.Context(), c.tenant, c.p["NextToken"], notify.MaxListTopics, visible)
	if err != nil {
		return err
	}
	for _, t := range topics {
		if !a.readAllowed(c, t) {
			return s3err.AccessDenied.WithMessage("")
		}
	}
	var nextToken func(*doc)
	if next != "" {
		nextToken = func(d *doc) { d.elem("NextToken", next) }
	}
	return c.respond("ListTopicsResponse", true, func(d *doc) {
		d.open("ListTopicsResult")
		if len(topics) == 0 {
			d.WriteString("<Topics/>")
		} else {
			d.open("Topics")
			for _, t := range topics {
				d.open("member")
				d.topicBody(t.ViewFor(user), a.opts.Zonegroup)
				d.close("member")
			}
			d.close("Topics")
		}
		if nextToken != nil {
			nextToken(d) // where AWS SDK paginators look
		}
		d.close("ListTopicsResult")
	}, nextToken) // and where RGW puts it (quirk)
}

func (a *API) setTopicAttributes(c *call) error {
	ctx := c.r.Context()
	name, ok := c.p["AttributeName"]
	if !ok || name == "" {
		return s3err.InvalidArgument.WithMessage("Missing required element AttributeName")
	}
	t, err := a.topicFromARN(c)
	if err != nil {
		return err
	}
	if err := a.opts.Authorize(t, c.req.Identity.UserID, notify.ActionSetTopicAttributes); err != nil {
		return err
	}
	base := t
	if name == notify.AttrPushEndpoint && t.Owner != c.req.Identity.UserID {
		// The owner's credentials and OpaqueData were given for the
		// owner's endpoint: they never follow another user's redirect.
		base = t.ViewFor(c.req.Identity.UserID)
	}
	nt, err := a.opts.SetAttribute(base, name, c.p["AttributeValue"], c.secure)
	if err != nil {
		return err
	}
	if err := a.topics.Put(ctx, nt); err != nil {
		return err
	}
	if err := notify.RetireQueue(ctx, a.queues, t, nt); err != nil {
		return err
	}
	return c.respond("SetTopicAttributesResponse", true, nil, nil)
}
