package s3api

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cairn-s3/cairn/internal/live"
	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/s3err"
)

// Keep-alive interval of a live stream: ?ping=<seconds> (minio-go sends
// 10), within bounds so that a client can neither make the server spin nor
// let proxies time the connection out.
const (
	defaultLivePing = 10 * time.Second
	maxLivePing     = 5 * time.Minute
)

// EnableLiveEvents installs GET /{bucket}?events=…&prefix=…&suffix=…, the
// live event stream of a bucket, compatible with MinIO's
// ListenBucketNotification (newline-delimited {"Records":[…]} messages), or
// Server-Sent Events when the client accepts text/event-stream. Without it
// the operation answers NotImplemented. GetObject and HeadObject then also
// report the reads they serve (s3:ObjectAccessed:Get, :Head).
func (a *API) EnableLiveEvents(h *live.Hub) {
	l := &listen{api: a, hub: h}
	a.Handle(OpListenBucketNotification, l.serve)
	a.Handle(OpGetObject, a.reportAccess(a.ops[OpGetObject], notify.ObjectAccessedGet, h))
	a.Handle(OpHeadObject, a.reportAccess(a.ops[OpHeadObject], notify.ObjectAccessedHead, h))
}

type listen struct {
	api *API
	hub *live.Hub
}

func (l *listen) serve(w http.ResponseWriter, r *http.Request, req *Request) error {
	q := r.URL.Query()
	ping, err := livePing(q.Get("ping"))
	if err != nil {
		return err
	}
	// The owner binds the stream to the bucket it was authorized for, not
	// to its name: a bucket created again by someone else is not its.
	sub, err := l.hub.Subscribe(req.Bucket, live.Filter{Prefix: q.Get("prefix"), Suffix: q.Get("suffix"), Events: q["events"],
		Owner: req.auth.bucket.Owner})
	if err != nil {
		return err
	}
	defer sub.Close()

	// From here on the response is a stream: failures end it, they are
	// not rendered as errors.
	enc := ndjson
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		enc = eventStream
	}
	rc := http.NewResponseController(w)
	// A write blocked on a client that stopped reading must not hold the
	// server's shutdown: when the hub closes, pending writes fail at once.
	var wg sync.WaitGroup
	streaming := make(chan struct{})
	wg.Go(func() {
		select {
		case <-sub.Done():
			_ = rc.SetWriteDeadline(time.Now())
		case <-streaming:
		}
	})
	defer wg.Wait()
	defer close(streaming)
	send := func(b []byte) bool {
		_, err := w.Write(b)
		return err == nil && rc.Flush() == nil
	}
	w.Header().Set("Content-Type", enc.contentType)
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if !send(enc.keepAlive) {
		return nil
	}
	tick := time.NewTicker(ping)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-sub.Done():
			return nil
		case ev := <-sub.Events():
			if ev.Dropped > 0 && !send(enc.gap(ev.Dropped)) {
				return nil
			}
			if !send(enc.event(ev.Record)) {
				return nil
			}
		case <-tick.C:
			msg := enc.keepAlive
			if n := sub.TakeGap(); n > 0 {
				msg = enc.gap(n)
			}
			if !send(msg) {
				return nil
			}
		}
	}
}

func livePing(v string) (time.Duration, error) {
	if v == "" {
		return defaultLivePing, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, s3err.InvalidArgument.WithMessage("ping must be a positive number of seconds, got %q", v)
	}
	return min(time.Duration(n)*time.Second, maxLivePing), nil
}

// streamEncoding renders the messages of a live stream.
type streamEncoding struct {
	contentType string
	keepAlive   []byte
	event       func(record []byte) []byte
	gap         func(dropped int64) []byte
}

// ndjson is MinIO's format, one JSON document per line. minio-go parses
// every line as JSON and skips those without records, so the keep-alive
// is an empty record list (a blank line would be a parse error). A gap is
// an "Err" member, which minio-go cannot decode and so reports to its
// caller as an error before reconnecting: the loss is never silent.
var ndjson = streamEncoding{
	contentType: "application/x-ndjson",
	keepAlive:   []byte("{\"Records\":[]}\n"),
	event:       func(rec []byte) []byte { return append(rec[:len(rec):len(rec)], '\n') },
	gap: func(n int64) []byte {
		return []byte(`{"Records":[],"Err":{"Code":"EventsDropped","Dropped":` + strconv.FormatInt(n, 10) +
			`,"Message":"` + strconv.FormatInt(n, 10) + " events were dropped because the listener fell behind\"}}\n")
	},
}

// eventStream is Server-Sent Events: records as "s3" events, gaps as
// "gap" events, keep-alives as comments.
var eventStream = streamEncoding{
	contentType: "text/event-stream",
	keepAlive:   []byte(": keep-alive\n\n"),
	event: func(rec []byte) []byte {
		b := make([]byte, 0, len(rec)+20)
		b = append(b, "event: s3\ndata: "...)
		b = append(b, rec...)
		return append(b, "\n\n"...)
	},
	gap: func(n int64) []byte {
		return []byte("event: gap\ndata: {\"dropped\":" + strconv.FormatInt(n, 10) + "}\n\n")
	},
}
