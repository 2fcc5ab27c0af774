package psapi

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/cairn-s3/cairn/internal/pubsub"
	"github.com/cairn-s3/cairn/internal/s3api"
	"github.com/cairn-s3/cairn/internal/s3err"
)

// maxVisibility bounds a subscription's visibility timeout (12 hours, as
// SQS).
const maxVisibility = 12 * 60 * 60

// createSubscription is PUT /subscriptions/<name>?topic=…[&push-endpoint=…]
// [&visibility-timeout=<seconds>] (pubsub.md §5.1). The topic must be one
// of the user's.
func (a *API) createSubscription(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	ctx := r.Context()
	user := req.Identity.UserID
	name, err := name(req, "subscription")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	topic, err := topicParam(r)
	if err != nil {
		return err
	}
	if _, err := a.ownTopic(ctx, user, topic); err != nil {
		return s3err.InvalidArgument.WithMessage("No topic %q to subscribe to", topic).WithCause(err)
	}
	sub := &pubsub.Subscription{Owner: user, Name: name, Topic: topic, PushArgs: endpointArgs(r), Created: time.Now().UTC()}
	if v := q.Get("visibility-timeout"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > maxVisibility {
			return s3err.InvalidArgument.WithMessage("visibility-timeout must be a number of seconds from 0 to %d", maxVisibility)
		}
		sub.VisibilitySeconds = n
	}
	if ep := q.Get("push-endpoint"); ep != "" {
		u, err := url.Parse(ep)
		if err != nil || u.Scheme == "" || u.Host == "" {
			return s3err.InvalidArgument.WithMessage("Malformed URL for push-endpoint")
		}
		sub.PushEndpoint = ep
		sub.StoredSecret = u.User != nil && u.User.String() != "" || q.Get("user-name") != "" || q.Get("password") != ""
		if sub.StoredSecret && !a.secretsReadable(r, true) {
			return s3err.InvalidArgument.WithMessage("Subscription contains secrets that must be transmitted over a secure transport")
		}
	}
	if err := a.svc.Subscriptions().Put(ctx, sub); err != nil {
		return err
	}
	return writeOK(w)
}

// ownSubscription returns the user's subscription of the request path.
func (a *API) ownSubscription(r *http.Request, req *s3api.Request) (*pubsub.Subscription, error) {
	name, err := name(req, "subscription")
	if err != nil {
		return nil, err
	}
	sub, err := a.svc.Subscriptions().Get(r.Context(), req.Identity.UserID, name)
	if err != nil {
		return nil, noSuchKey(err)
	}
	return sub, nil
}

// getSubscription is GET /subscriptions/<name> (§5.2).
func (a *API) getSubscription(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	sub, err := a.ownSubscription(r, req)
	if err != nil {
		return err
	}
	if !a.secretsReadable(r, sub.Shown().StoredSecret) {
		return errSecretsOverHTTP
	}
	return writeJSON(w, a.subscriptionDoc(sub))
}

func (a *API) subscriptionDoc(sub *pubsub.Subscription) subscriptionJSON {
	sub = sub.Shown()
	return subscriptionJSON{
		User: tenantOf(sub.Owner), // sic: RGW stores the tenant in "user"
		Name: sub.Name, Topic: sub.Topic, S3ID: sub.S3ID, VisibilityTimeout: sub.VisibilitySeconds,
		Dest: destJSON{BucketName: a.svc.DestBucket(sub), OIDPrefix: a.svc.DestPrefix(sub),
			PushEndpoint: sub.PushEndpoint, PushEndpointArgs: sub.PushArgs, PushEndpointTopic: sub.Topic,
			StoredSecret: boolString(sub.StoredSecret), Persistent: boolString(sub.Persistent)},
	}
}

// deleteSubscription is DELETE /subscriptions/<name> (§5.3): its stored
// events are left to expire.
func (a *API) deleteSubscription(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	name, err := name(req, "subscription")
	if err != nil {
		return err
	}
	err = a.svc.Subscriptions().Delete(r.Context(), req.Identity.UserID, name)
	if err != nil && !errors.Is(err, pubsub.ErrNoSuchSubscription) {
		return err
	}
	return writeOK(w)
}

// pull is GET /subscriptions/<name>?events[&max-entries=N][&marker=M]
// (§5.4), with Cairn's since=<time> (replay from a time) and wait=<seconds>
// (long-poll until an event arrives).
func (a *API) pull(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	sub, err := a.ownSubscription(r, req)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	o := pubsub.PullOptions{Marker: q.Get("marker"), Visibility: sub.Visibility()}
	if v := q.Get("max-entries"); v != "" {
		if o.Max, err = strconv.Atoi(v); err != nil {
			return s3err.InvalidArgument.WithMessage("max-entries must be an integer, got %q", v)
		}
	}
	if err := checkMarker(o.Marker); err != nil {
		return err
	}
	if v := q.Get("since"); v != "" {
		if o.Since, err = parseTime(v); err != nil {
			return s3err.InvalidArgument.WithMessage("since must be an RFC 3339 time or Unix seconds, got %q", v)
		}
	}
	var wait time.Duration
	if v := q.Get("wait"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s3err.InvalidArgument.WithMessage("wait must be a number of seconds, got %q", v)
		}
		wait = min(time.Duration(n)*time.Second, a.cfg.MaxWait)
	}
	page, err := a.pullWaiting(r, sub, o, wait)
	if err != nil {
		return pullError(err)
	}
	return writeBody(w, a.renderPage(sub, page))
}

func checkMarker(m string) error {
	if _, err := pubsub.ParseMarker(m); err != nil {
		return s3err.InvalidArgument.WithMessage("Invalid marker %q", m)
	}
	return nil
}

// pullError maps a pull's errors: a reader behind retention gets
// 410 EventsExpired.
func pullError(err error) error {
	if errors.Is(err, pubsub.ErrGap) {
		return s3err.EventsExpired.WithCause(err)
	}
	return err
}

// pullPoll is how often a long-poll looks again for events whose
// visibility timeout ran out (commits wake it at once).
const pullPoll = time.Second

func (a *API) pullWaiting(r *http.Request, sub *pubsub.Subscription, o pubsub.PullOptions, wait time.Duration) (pubsub.Page, error) {
	log := a.svc.Log()
	deadline := time.Now().Add(wait)
	for {
		changed := log.Changed(sub.LogName())
		page, err := log.Pull(r.Context(), sub.LogName(), o)
		left := time.Until(deadline)
		if err != nil || len(page.Events) > 0 || left <= 0 {
			return page, err
		}
		t := time.NewTimer(min(left, pullPoll))
		select {
		case <-changed:
		case <-t.C:
		case <-a.svc.WaitsEnded():
			t.Stop()
			return page, nil
		case <-r.Context().Done():
			t.Stop()
			return pubsub.Page{}, r.Context().Err()
		}
		t.Stop()
	}
}

func parseTime(v string) (time.Time, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	return time.Parse(time.RFC3339Nano, v)
}

// renderPage renders §5.4's body: next_marker, is_truncated (a string),
// then "events" or, for S3-created subscriptions, "Records". With a
// visibility timeout each event also carries "deliveries".
func (a *API) renderPage(sub *pubsub.Subscription, page pubsub.Page) []byte {
	next := ""
	if page.Truncated {
		next = a.svc.DestPrefix(sub) + page.Events[len(page.Events)-1].ID
	}
	list := "events"
	if sub.S3ID != "" {
		list = "Records"
	}
	var b bytes.Buffer
	b.WriteString(`{"next_marker":`)
	b.WriteString(strconv.Quote(next))
	b.WriteString(`,"is_truncated":"`)
	b.WriteString(boolString(page.Truncated))
	b.WriteString(`","`)
	b.WriteString(list)
	b.WriteString(`":[`)
	for i, ev := range page.Events {
		if i > 0 {
			b.WriteByte(',')
		}
		body := ev.Body
		if sub.VisibilitySeconds > 0 && len(body) > 1 && body[len(body)-1] == '}' {
			b.Write(body[:len(body)-1])
			b.WriteString(`,"deliveries":`)
			b.WriteString(strconv.Itoa(ev.Deliveries))
			b.WriteByte('}')
			continue
		}
		b.Write(body)
	}
	b.WriteString("]}")
	return b.Bytes()
}

// eventIDs returns the event-id parameters of an ack or nack (several
// allowed, a Cairn extension).
func eventIDs(r *http.Request) ([]string, error) {
	var ids []string
	for _, id := range r.URL.Query()["event-id"] {
		if id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, s3err.InvalidArgument.WithMessage("Missing required parameter event-id")
	}
	return ids, nil
}

// ack is POST /subscriptions/<name>?ack&event-id=… (§5.5): unknown or
// already acked ids succeed too.
func (a *API) ack(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	return a.settle(w, r, req, a.svc.Log().Ack)
}

// nack is POST /subscriptions/<name>?nack&event-id=…: the events become
// visible again at once (Cairn).
func (a *API) nack(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	return a.settle(w, r, req, a.svc.Log().Nack)
}

func (a *API) settle(w http.ResponseWriter, r *http.Request, req *s3api.Request,
	fn func(ctx context.Context, sub string, ids ...string) (int, error)) error {
	sub, err := a.ownSubscription(r, req)
	if err != nil {
		return err
	}
	ids, err := eventIDs(r)
	if err != nil {
		return err
	}
	if _, err := fn(r.Context(), sub.LogName(), ids...); err != nil {
		return err
	}
	return writeOK(w)
}
