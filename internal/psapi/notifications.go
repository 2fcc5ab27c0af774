package psapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/pubsub"
	"github.com/cairn-s3/cairn/internal/s3api"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// bucketOf returns the stored name of the bucket of
// /notifications/bucket/<bucket>, resolved as an S3 path's bucket is:
// "t:b" names tenant t's bucket b (":b" the default tenant's), a plain
// name one of the caller's tenant.
func bucketOf(req *s3api.Request) (string, error) {
	b, ok := strings.CutPrefix(req.Key, "bucket/")
	if !ok || b == "" || strings.Contains(b, "/") {
		return "", s3err.InvalidArgument.WithMessage("Expected /notifications/bucket/<bucket>, got /notifications/%s", req.Key)
	}
	return s3api.QualifyBucket(b, tenant.OfUser(req.Identity.UserID), false)
}

func topicParam(r *http.Request) (string, error) {
	t := r.URL.Query().Get("topic")
	if t == "" {
		return "", s3err.InvalidArgument.WithMessage("Missing required parameter topic")
	}
	return t, nil
}

// bucketAndTopic returns the bucket of the path, which the user must own,
// and the topic parameter (required).
func (a *API) bucketAndTopic(r *http.Request, req *s3api.Request) (bucket, topic string, err error) {
	if bucket, err = bucketOf(req); err != nil {
		return "", "", err
	}
	if _, err := a.ownBucket(r.Context(), req.Identity.UserID, bucket); err != nil {
		return "", "", err
	}
	if topic, err = topicParam(r); err != nil {
		return "", "", err
	}
	return bucket, topic, nil
}

// updateNotifications applies fn to a bucket's PubSub notifications.
func (a *API) updateNotifications(r *http.Request, bucket string, fn func([]pubsub.BucketNotification) []pubsub.BucketNotification) error {
	return a.cfg.Buckets.UpdateBucket(r.Context(), bucket, func(b *store.Bucket) error {
		ns, err := pubsub.DecodeBucketNotifications(b.Config[pubsub.ConfigKey])
		if err != nil {
			return err
		}
		ns = fn(ns)
		if len(ns) == 0 {
			delete(b.Config, pubsub.ConfigKey)
			return nil
		}
		raw, err := pubsub.EncodeBucketNotifications(ns)
		if err != nil {
			return err
		}
		if b.Config == nil {
			b.Config = map[string][]byte{}
		}
		b.Config[pubsub.ConfigKey] = raw
		return nil
	})
}

// createNotification is PUT /notifications/bucket/<bucket>?topic=…[&events=…]
// (pubsub.md §4.1): one notification per bucket and topic.
func (a *API) createNotification(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	ctx := r.Context()
	events, err := parseEvents(r.URL.Query().Get("events"))
	if err != nil {
		return err
	}
	bucket, topic, err := a.bucketAndTopic(r, req)
	if err != nil {
		return err
	}
	if _, err := a.ownTopic(ctx, req.Identity.UserID, topic); err != nil {
		return noSuchKey(err)
	}
	err = a.updateNotifications(r, bucket, func(ns []pubsub.BucketNotification) []pubsub.BucketNotification {
		for i := range ns {
			if ns[i].Topic == topic {
				ns[i].Events = events
				return ns
			}
		}
		return append(ns, pubsub.BucketNotification{Topic: topic, Events: events})
	})
	if err != nil {
		return err
	}
	return writeOK(w)
}

// deleteNotification is DELETE /notifications/bucket/<bucket>?topic=…
// (§4.2); a missing one is not an error.
func (a *API) deleteNotification(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	bucket, topic, err := a.bucketAndTopic(r, req)
	if err != nil {
		return err
	}
	err = a.updateNotifications(r, bucket, func(ns []pubsub.BucketNotification) []pubsub.BucketNotification {
		out := ns[:0]
		for _, n := range ns {
			if n.Topic != topic {
				out = append(out, n)
			}
		}
		return out
	})
	if err != nil {
		return err
	}
	return writeOK(w)
}

// listNotifications is GET /notifications/bucket/<bucket> (§4.3): the
// PubSub notifications, then the hidden topics of the bucket's S3
// notifications.
func (a *API) listNotifications(w http.ResponseWriter, r *http.Request, req *s3api.Request) error {
	ctx := r.Context()
	user := req.Identity.UserID
	bucket, err := bucketOf(req)
	if err != nil {
		return err
	}
	b, err := a.ownBucket(ctx, user, bucket)
	if err != nil {
		return err
	}
	ns, err := pubsub.DecodeBucketNotifications(b.Config[pubsub.ConfigKey])
	if err != nil {
		return err
	}
	out := []topicEventsJSON{}
	for _, n := range ns {
		t, err := a.svc.Topics().Get(ctx, tenantOf(b.Owner), n.Topic)
		if errors.Is(err, notify.ErrNoSuchTopic) {
			continue // deleted since: the notification no longer fires
		}
		if err != nil {
			return err
		}
		// A topic deleted and re-created by another user since it was bound
		// is shown without that user's secrets.
		out = append(out, topicEventsJSON{Topic: a.topicJSON(t.ViewFor(user)), Events: notify.PullEventNames(n.Mask())})
	}
	conf, err := notify.DecodeConfiguration(b.Config[notify.ConfigKey])
	if err != nil {
		return err
	}
	for _, n := range conf.Notifications {
		sub, err := a.svc.Subscriptions().Get(ctx, b.Owner, n.ID)
		if errors.Is(err, pubsub.ErrNoSuchSubscription) {
			continue
		}
		if err != nil {
			return err
		}
		if sub.S3ID != n.ID || sub.Bucket != b.Name {
			continue
		}
		out = append(out, topicEventsJSON{Topic: a.hiddenTopicJSON(sub), Events: notify.PullEventNames(notify.MaskOf(n.Events))})
	}
	return writeJSON(w, struct {
		Topics []topicEventsJSON `json:"topics"`
	}{out})
}
