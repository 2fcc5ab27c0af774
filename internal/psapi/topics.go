package psapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/pubsub"
	"github.com/cairn-s3/cairn/internal/s3api"
	"github.com/cairn-s3/cairn/internal/s3err"
)

// createTopic is PUT /topics/<name>[?push-endpoint=…&…] (pubsub.md §3.1).
func (a *API) createTopic(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	ctx := r.Context()
	user := req.Identity.UserID
	name, err := name(req, "topic")
	if err != nil {
		return err
	}
	attrs := map[string]string{}
	for k, v := range r.URL.Query() {
		if !presignParam(k) && len(v) > 0 {
			attrs[k] = v[0]
		}
	}
	t, err := a.cfg.Options.NewTopic(tenantOf(user), name, user, attrs, a.secure(r))
	if err != nil {
		if se := s3err.As(err); se != nil && errors.Is(err, s3err.InvalidInput) {
			// The SNS API's code for secrets over plain HTTP; PubSub's is
			// InvalidArgument (pubsub.md §3.1).
			return s3err.InvalidArgument.WithMessage("%s", se.Message)
		}
		return err
	}
	t.Args = endpointArgs(r)
	old, err := a.svc.Topics().Get(ctx, t.Tenant, name)
	switch {
	case err == nil:
		if old.Owner != user {
			return s3err.AccessDenied.WithMessage("The topic %q belongs to another user", name)
		}
	case !errors.Is(err, notify.ErrNoSuchTopic):
		return err
	}
	if err := a.svc.Topics().Put(ctx, t); err != nil {
		return err
	}
	if err := notify.RetireQueue(ctx, a.cfg.Queues, old, t); err != nil {
		return err
	}
	return writeJSON(w, struct {
		ARN string `json:"arn"`
	}{t.ARN(a.cfg.Options.Zonegroup)})
}

func (a *API) topicJSON(t *notify.Topic) topicJSON {
	return topicJSON{User: t.Owner, Name: t.Name, ARN: t.ARN(a.cfg.Options.Zonegroup), OpaqueData: t.OpaqueData,
		Dest: destJSON{PushEndpoint: t.Endpoint, PushEndpointArgs: t.Args, PushEndpointTopic: t.Name,
			StoredSecret: boolString(t.StoredSecret), Persistent: boolString(t.Persistent)}}
}

// hiddenTopicJSON renders the topic RGW creates for an S3 notification in
// PubSub mode ("<Id>_<topic>", pubsub.md §5.6) from its subscription.
func (a *API) hiddenTopicJSON(s *pubsub.Subscription) topicJSON {
	s = s.Shown()
	hidden := notify.Topic{Tenant: tenantOf(s.Owner), Name: s.Topic}
	return topicJSON{User: s.Owner, Name: s.Topic, OpaqueData: s.OpaqueData,
		ARN: hidden.ARN(a.cfg.Options.Zonegroup),
		Dest: destJSON{PushEndpoint: s.PushEndpoint, PushEndpointArgs: s.PushArgs, PushEndpointTopic: s.Topic,
			StoredSecret: boolString(s.StoredSecret), Persistent: boolString(s.Persistent)}}
}

// subsOf returns the names of user's subscriptions of a topic.
func (a *API) subsOf(ctx context.Context, user, topic string) ([]string, error) {
	subs, _, err := a.svc.Subscriptions().ByTopic(ctx, tenantOf(user), topic)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, s := range subs {
		if s.Owner == user {
			names = append(names, s.Name)
		}
	}
	return names, nil
}

// getTopic is GET /topics/<name> (§3.2). Another user's topic is missing.
func (a *API) getTopic(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	ctx := r.Context()
	user := req.Identity.UserID
	name, err := name(req, "topic")
	if err != nil {
		return err
	}
	t, err := a.ownTopic(ctx, user, name)
	if errors.Is(err, notify.ErrNoSuchTopic) {
		h, ok, herr := a.hiddenTopic(ctx, user, name)
		switch {
		case herr != nil:
			return herr
		case !ok:
			return noSuchKey(err)
		case !a.secretsReadable(r, h.Topic.Dest.StoredSecret == "true"):
			return errSecretsOverHTTP
		}
		return writeJSON(w, h)
	}
	if err != nil {
		return err
	}
	if !a.secretsReadable(r, t.StoredSecret) {
		return errSecretsOverHTTP
	}
	subs, err := a.subsOf(ctx, user, name)
	if err != nil {
		return err
	}
	return writeJSON(w, topicSubsJSON{Topic: a.topicJSON(t), Subs: subs})
}

// hiddenTopics returns the hidden topics of user's S3-created
// subscriptions.
func (a *API) hiddenTopics(ctx context.Context, user string) ([]topicSubsJSON, error) {
	subs, err := a.svc.Subscriptions().List(ctx, user)
	if err != nil {
		return nil, err
	}
	var out []topicSubsJSON
	for _, s := range subs {
		if s.S3ID != "" {
			out = append(out, topicSubsJSON{Topic: a.hiddenTopicJSON(s), Subs: []string{s.Name}})
		}
	}
	return out, nil
}

func (a *API) hiddenTopic(ctx context.Context, user, name string) (topicSubsJSON, bool, error) {
	hs, err := a.hiddenTopics(ctx, user)
	if err != nil {
		return topicSubsJSON{}, false, err
	}
	for _, h := range hs {
		if h.Topic.Name == name {
			return h, true, nil
		}
	}
	return topicSubsJSON{}, false, nil
}

// listTopics is GET /topics (§3.3): the user's topics, then the hidden
// topics of its S3 notifications (shown, as RGW does).
func (a *API) listTopics(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	ctx := r.Context()
	user := req.Identity.UserID
	out := []topicSubsJSON{}
	secret := false
	start := ""
	for {
		page, next, err := a.svc.Topics().List(ctx, tenantOf(user), start, 1000, func(t *notify.Topic) bool { return t.Owner == user })
		if err != nil {
			return err
		}
		for _, t := range page {
			subs, err := a.subsOf(ctx, user, t.Name)
			if err != nil {
				return err
			}
			secret = secret || t.StoredSecret
			out = append(out, topicSubsJSON{Topic: a.topicJSON(t), Subs: subs})
		}
		if next == "" {
			break
		}
		start = next
	}
	hidden, err := a.hiddenTopics(ctx, user)
	if err != nil {
		return err
	}
	for _, h := range hidden {
		secret = secret || h.Topic.Dest.StoredSecret == "true"
	}
	out = append(out, hidden...)
	if !a.secretsReadable(r, secret) {
		return errSecretsOverHTTP
	}
	return writeJSON(w, struct {
		Topics []topicSubsJSON `json:"topics"`
	}{out})
}

// deleteTopic is DELETE /topics/<name> (§3.4): subscriptions and
// notifications that reference it are left alone.
func (a *API) deleteTopic(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	ctx := r.Context()
	user := req.Identity.UserID
	name, err := name(req, "topic")
	if err != nil {
		return err
	}
	t, err := a.svc.Topics().Get(ctx, tenantOf(user), name)
	switch {
	case errors.Is(err, notify.ErrNoSuchTopic):
		return writeOK(w)
	case err != nil:
		return err
	case t.Owner != user:
		return s3err.AccessDenied.WithMessage("The topic %q belongs to another user", name)
	}
	if err := a.svc.Topics().Delete(ctx, t.Tenant, t.Name); err != nil {
		return err
	}
	if err := notify.RetireQueue(ctx, a.cfg.Queues, t, nil); err != nil {
		return err
	}
	return writeOK(w)
}
