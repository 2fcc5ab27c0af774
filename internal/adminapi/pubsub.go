package adminapi

import (
	"context"
	"encoding/json"
	"errors"
)

// PubSub is what the subscription operations need (pubsub.md §8):
// documents come rendered in the PubSub API's JSON, errors as S3 errors.
// Subscriptions belong to users, so each call names the owner's uid.
type PubSub interface {
	GetSubscription(ctx context.Context, uid, name string) (json.RawMessage, error)
	RemoveSubscription(ctx context.Context, uid, name string) error
	PullSubscription(ctx context.Context, uid, name, marker string, max int) (json.RawMessage, error)
	AckSubscription(ctx context.Context, uid, name string, eventIDs []string) error
}

func (a *API) pubsubOps() (PubSub, error) {
	if a.pubsub == nil {
		return nil, errNotImplemented.with(errors.New("the PubSub API is not enabled (cairn server --pubsub)"))
	}
	return a.pubsub, nil
}

// subscriptionCall returns the PubSub operations and the uid and
// subscription name a request names.
func (a *API) subscriptionCall(q query) (PubSub, string, string, error) {
	ps, err := a.pubsubOps()
	if err != nil {
		return nil, "", "", err
	}
	uid, err := q.uid()
	if err != nil {
		return nil, "", "", err
	}
	name := q.Get("subscription")
	if name == "" {
		return nil, "", "", errInvalidArgument.with(errors.New("subscription is required"))
	}
	return ps, uid, name, nil
}

func (a *API) getSubscription(ctx context.Context, q query) (any, error) {
	ps, uid, name, err := a.subscriptionCall(q)
	if err != nil {
		return nil, err
	}
	return ps.GetSubscription(ctx, uid, name)
}

func (a *API) removeSubscription(ctx context.Context, q query) (any, error) {
	ps, uid, name, err := a.subscriptionCall(q)
	if err != nil {
		return nil, err
	}
	return nil, ps.RemoveSubscription(ctx, uid, name)
}

func (a *API) pullSubscription(ctx context.Context, q query) (any, error) {
	ps, uid, name, err := a.subscriptionCall(q)
	if err != nil {
		return nil, err
	}
	maxEntries, err := q.integer("max-entries")
	if err != nil {
		return nil, err
	}
	n := 0
	if maxEntries != nil {
		n = *maxEntries
	}
	return ps.PullSubscription(ctx, uid, name, q.Get("marker"), n)
}

func (a *API) ackSubscription(ctx context.Context, q query) (any, error) {
	ps, uid, name, err := a.subscriptionCall(q)
	if err != nil {
		return nil, err
	}
	ids := q.Values["event-id"]
	if len(ids) == 0 || ids[0] == "" {
		return nil, errInvalidArgument.with(errors.New("event-id is required"))
	}
	return nil, ps.AckSubscription(ctx, uid, name, ids)
}

// counters answers the PubSub counters of pubsub.md §9 (RGW shows them in
// its perf dump under "rgw").
func (a *API) counters(ctx context.Context, _ query) (any, error) {
	if a.countersFn == nil {
		return nil, errNotImplemented
	}
	out := map[string]map[string]int64{"pubsub": a.countersFn()}
	if a.luaFn != nil {
		out["lua"] = a.luaFn()
	}
	return out, nil
}
