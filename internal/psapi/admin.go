package psapi

import (
	"context"
	"encoding/json"

	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/pubsub"
)

// Admin is the subscription operations of the admin API (radosgw-admin's
// subscription get|rm|pull|ack, pubsub.md §8) over the same renderers as
// the REST API.
type Admin struct{ a *API }

// Admin returns the admin operations.
func (a *API) Admin() Admin { return Admin{a} }

func (ad Admin) subscription(ctx context.Context, uid, name string) (*pubsub.Subscription, error) {
	sub, err := ad.a.svc.Subscriptions().Get(ctx, uid, name)
	if err != nil {
		return nil, noSuchKey(err)
	}
	return sub, nil
}

// GetSubscription renders §5.2's document.
func (ad Admin) GetSubscription(ctx context.Context, uid, name string) (json.RawMessage, error) {
	sub, err := ad.subscription(ctx, uid, name)
	if err != nil {
		return nil, err
	}
	return notify.EncodeJSON(ad.a.subscriptionDoc(sub))
}

// RemoveSubscription deletes a subscription (§5.3).
func (ad Admin) RemoveSubscription(ctx context.Context, uid, name string) error {
	return noSuchKey(ad.a.svc.Subscriptions().Delete(ctx, uid, name))
}

// PullSubscription renders a page of §5.4. An admin pull does not count
// as a delivery: it never hides events from the subscription's consumer.
func (ad Admin) PullSubscription(ctx context.Context, uid, name, marker string, max int) (json.RawMessage, error) {
	sub, err := ad.subscription(ctx, uid, name)
	if err != nil {
		return nil, err
	}
	if err := checkMarker(marker); err != nil {
		return nil, err
	}
	page, err := ad.a.svc.Log().Pull(ctx, sub.LogName(), pubsub.PullOptions{Marker: marker, Max: max})
	if err != nil {
		return nil, pullError(err)
	}
	return ad.a.renderPage(sub, page), nil
}

// AckSubscription acks events (§5.5).
func (ad Admin) AckSubscription(ctx context.Context, uid, name string, ids []string) error {
	sub, err := ad.subscription(ctx, uid, name)
	if err != nil {
		return err
	}
	_, err = ad.a.svc.Log().Ack(ctx, sub.LogName(), ids...)
	return err
}
