package s3api

import (
	"context"
	"net/http"
	"slices"
	"strconv"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// maxNotificationBody bounds a PUT ?notification document (RGW's
// rgw_max_put_param_size, 1 MiB).
const maxNotificationBody = 1 << 20

// EnableNotifications installs the bucket notification handlers (PUT, GET
// and DELETE /{bucket}?notification[=id], spec §3) over a dispatcher, which
// resolves topics and caches bucket configurations. Without it those
// operations answer NotImplemented.
func (a *API) EnableNotifications(d *notify.Dispatcher) {
	a.notes = &notifications{api: a, d: d}
	a.Handle(OpPutBucketNotification, a.notes.put)
	a.Handle(OpGetBucketNotification, a.notes.get)
	a.Handle(OpDeleteBucketNotification, a.notes.delete)
}

// NotificationObserver keeps state derived from a bucket's S3
// notifications (PubSub mode keeps a subscription per notification,
// pubsub.md §5.6): it adds to w the writes for the notifications added (or
// replaced) and removed, which commit with the bucket's configuration in
// one atomic commit, so neither exists without the other.
type NotificationObserver interface {
	StageS3Notifications(ctx context.Context, b *store.Bucket, added []notify.Notification, removed []string, w *kv.Batch) error
}

// ObserveNotifications tells o of every change EnableNotifications'
// handlers make. Call it after EnableNotifications, before serving.
func (a *API) ObserveNotifications(o NotificationObserver) { a.notes.observer = o }

type notifications struct {
	api      *API
	d        *notify.Dispatcher
	observer NotificationObserver
}

// notificationID returns the Id a request addresses: the value of
// ?notification=<id> (RGW) or of notification-id=<id> (Ceph's boto3 model
// extension); "" for all.
func notificationID(r *http.Request) string {
	q := r.URL.Query()
	if id := q.Get("notification"); id != "" {
		return id
	}
	return q.Get("notification-id")
}

func (n *notifications) put(w http.ResponseWriter, r *http.Request, req *Request) error {
	if r.URL.Query().Get("notification") != "" {
		return s3err.InvalidArgument.WithMessage("Parameter 'notification' should not have any value")
	}
	body, err := readVerifiedBody(r, maxNotificationBody, false)
	if err != nil {
		return err
	}
	ns, err := notify.ParseConfiguration(body)
	if err != nil {
		return err
	}
	topics, err := n.d.ResolveTopics(r.Context(), ns)
	if err != nil {
		return err
	}
	caller := req.Identity.UserID
	err = n.update(r, req.Bucket, ns, func(b *store.Bucket, c *notify.Configuration) error {
		// Checked against the owner of the bucket record being written:
		// a denied binding stores nothing.
		if err := n.d.AuthorizeBindings(topics, b.Owner, caller); err != nil {
			return err
		}
		c.Merge(ns)
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (n *notifications) get(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	conf, err := notify.DecodeConfiguration(b.Config[notify.ConfigKey])
	if err != nil {
		return err
	}
	list := conf.Notifications
	if id := notificationID(r); id != "" {
		one, ok := conf.Get(id)
		if !ok {
			return s3err.NoSuchKey.WithMessage("")
		}
		list = []notify.Notification{one}
	}
	body, err := notify.MarshalXML(list)
	if err != nil {
		return err
	}
	// RGW sends no XML declaration and no namespace here.
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}

func (n *notifications) delete(w http.ResponseWriter, r *http.Request, req *Request) error {
	id := notificationID(r)
	if err := n.update(r, req.Bucket, nil, func(_ *store.Bucket, c *notify.Configuration) error { c.Remove(id); return nil }); err != nil {
		return err
	}
	// RGW answers 200 with an empty body.
	w.WriteHeader(http.StatusOK)
	return nil
}

// update changes a bucket's stored notifications atomically, with the
// observer's derived records in the same commit, and drops the
// dispatcher's cached copy; an error of fn or of the observer leaves the
// bucket and the records unchanged.
func (n *notifications) update(r *http.Request, bucket string, added []notify.Notification, fn func(*store.Bucket, *notify.Configuration) error) error {
	defer n.d.Invalidate(bucket)
	return n.api.store.UpdateBucketRecords(r.Context(), bucket, func(b *store.Bucket, w *kv.Batch) error {
		conf, err := notify.DecodeConfiguration(b.Config[notify.ConfigKey])
		if err != nil {
			return err
		}
		before := slices.Clone(conf.Notifications) // fn may reuse the array
		if err := fn(b, conf); err != nil {
			return err
		}
		if n.observer != nil {
			var removed []string
			for _, old := range before {
				if _, kept := conf.Get(old.ID); !kept {
					removed = append(removed, old.ID)
				}
			}
			if err := n.observer.StageS3Notifications(r.Context(), b, added, removed, w); err != nil {
				return err
			}
		}
		if len(conf.Notifications) == 0 {
			delete(b.Config, notify.ConfigKey)
			return nil
		}
		raw, err := conf.Encode()
		if err != nil {
			return err
		}
		if b.Config == nil {
			b.Config = map[string][]byte{}
		}
		b.Config[notify.ConfigKey] = raw
		return nil
	})
}

// WaitForPushes wraps the S3 handler so that a response is written only
// after the synchronous notification pushes of its request finished (or
// the dispatcher's sync timeout passed): RGW pushes after the operation
// and before responding (spec §6.1). Wrap the outermost S3 handler with it.
func WaitForPushes(d *notify.Dispatcher, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, wait := notify.WithPushWaiter(r.Context(), d.SyncTimeout())
		next.ServeHTTP(&waitingWriter{ResponseWriter: w, wait: wait}, r.WithContext(ctx))
		wait()
	})
}

// waitingWriter calls wait before anything of the response goes out.
type waitingWriter struct {
	http.ResponseWriter
	wait func()
}

func (w *waitingWriter) WriteHeader(code int) {
	w.wait()
	w.ResponseWriter.WriteHeader(code)
}

func (w *waitingWriter) Write(p []byte) (int, error) {
	w.wait()
	return w.ResponseWriter.Write(p)
}

// Flush implements http.Flusher.
func (w *waitingWriter) Flush() {
	w.wait()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *waitingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
