//go:build rados

package radosopen_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/ceph/go-ceph/rados"

	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// Read events (s3:ObjectAccessed) reach a watcher on any gateway, in order
// with the bucket's changes and once each; a bucket watched only for
// changes sends no read over the cluster, and stops sending them again
// once its last read watcher left.
func TestTwoGatewaysLiveReads(t *testing.T) {
	conn := radostest.Conn(t)
	gws, ioctx := startGatewaysInPool(t, conn, 2)
	a, b := gws[0], gws[1]
	cb := rootClient(b)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	for _, bucket := range []string{"live-reads", "live-writes"} {
		if _, err := cb.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatal(err)
		}
	}

	// A watcher of changes and reads on A sees B's reads between B's
	// changes, each once.
	reads := openEvents(t, ctx, a, "live-reads", "s3:ObjectCreated:*", "s3:ObjectAccessed:*")
	putGetHeadPut(t, ctx, cb, "live-reads", "k", "k2")
	expectEvents(t, reads, "ObjectCreated:Put k", "ObjectAccessed:Get k", "ObjectAccessed:Head k", "ObjectCreated:Put k2")

	// A watcher of changes only: B's reads are not sent at all (the
	// notifies on the bucket's live object, observed here by a watch of
	// its own, carry only the PUTs).
	writes := openEvents(t, ctx, a, "live-writes", "s3:ObjectCreated:*")
	sent := watchNotifies(t, ioctx, "cairn.live.live-writes")
	putGetHeadPut(t, ctx, cb, "live-writes", "k", "k2")
	expectEvents(t, writes, "ObjectCreated:Put k", "ObjectCreated:Put k2")
	expectOnlyPuts(t, sent, "k2")

	// A second watcher on A asking for reads makes B send them; once it
	// left, B stops again.
	rctx, rcancel := context.WithCancel(ctx)
	gets := openEvents(t, rctx, a, "live-writes", "s3:ObjectAccessed:Get")
	if _, err := cb.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("live-writes"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, gets, "ObjectAccessed:Get k")
	expectSent(t, sent, "ObjectAccessed:Get k")
	rcancel()
	waitNoReadRows(t, ioctx, "live-writes")
	putGetHeadPut(t, ctx, cb, "live-writes", "k", "k3")
	expectEvents(t, writes, "ObjectCreated:Put k", "ObjectCreated:Put k3")
	expectOnlyPuts(t, sent, "k3")
}

// putGetHeadPut puts key, reads it with GET and HEAD, then puts marker.
func putGetHeadPut(t *testing.T, ctx context.Context, c *s3.Client, bucket, key, marker string) {
	t.Helper()
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(marker),
		Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
}

// expectEvents reads len(want) events of a stream and checks they are want,
// in order. The last one is the test's marker: an unexpected or repeated
// event, sent before it, shows up in its place.
func expectEvents(t *testing.T, events <-chan string, want ...string) {
	t.Helper()
	for i, w := range want {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatalf("stream ended after %d of %v", i, want)
			}
			if e != w {
				t.Fatalf("event %d: got %q, want %q (all: %v)", i, e, w, want)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("after %d of %v, no event for 30 s", i, want)
		}
	}
}

// watchNotifies watches a bucket's live object, as a gateway does, and
// returns the events of each notify sent on it as "EventName key".
func watchNotifies(t *testing.T, ioctx *rados.IOContext, oid string) <-chan []string {
	t.Helper()
	w, err := ioctx.Watch(oid)
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan []string, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.Events() { // closed by Delete
			out <- decodeBatch(t, ev.Data)
			_ = ev.Ack(nil)
		}
	}()
	t.Cleanup(func() {
		if err := w.Delete(); err != nil {
			t.Error(err)
		}
		<-done
	})
	return out
}

// decodeBatch returns the events of a live relay notify.
func decodeBatch(t *testing.T, data []byte) []string {
	var batch struct {
		Events []struct {
			Key    string `json:"key"`
			Record struct {
				Records []struct {
					EventName string `json:"eventName"`
				}
			} `json:"record"`
		} `json:"events"`
	}
	if err := json.Unmarshal(data, &batch); err != nil {
		t.Errorf("live notify %q: %v", data, err)
		return nil
	}
	var evs []string
	for _, e := range batch.Events {
		for _, r := range e.Record.Records {
			evs = append(evs, strings.TrimPrefix(r.EventName, "s3:")+" "+e.Key)
		}
	}
	return evs
}

// expectSent reads the observed notifies until one carries want.
func expectSent(t *testing.T, sent <-chan []string, want string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		select {
		case evs := <-sent:
			for _, e := range evs {
				if e == want {
					return
				}
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no notify with %q for 30 s", want)
		}
	}
	t.Fatalf("no notify with %q in 100", want)
}

// expectOnlyPuts reads the observed notifies until one carries marker's
// PUT and checks that they carried nothing but PUTs: the relay sends in
// order, so a read it sent would have come before.
func expectOnlyPuts(t *testing.T, sent <-chan []string, marker string) {
	t.Helper()
	for i := 0; i < 100; i++ {
		select {
		case evs := <-sent:
			for _, e := range evs {
				if !strings.HasPrefix(e, "ObjectCreated:Put ") {
					t.Fatalf("a bucket watched for changes only sent %q over the cluster", e)
				}
				if e == "ObjectCreated:Put "+marker {
					return
				}
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no notify with the PUT of %s for 30 s", marker)
		}
	}
	t.Fatalf("no notify with the PUT of %s in 100", marker)
}

// waitNoReadRows waits until no live registration of bucket asks for
// reads.
func waitNoReadRows(t *testing.T, ioctx *rados.IOContext, bucket string) {
	t.Helper()
	for i := 0; ; i++ {
		rows, err := ioctx.GetAllOmapValues("cairn.live", "", "", 100)
		if err != nil {
			t.Fatal(err)
		}
		reading := 0
		for k, v := range rows {
			if strings.HasPrefix(k, bucket+"\n") && len(v) > 0 {
				reading++
			}
		}
		if reading == 0 {
			return
		}
		if i == 100 {
			t.Fatalf("live registrations still ask for reads after the read watcher ended: %q", rows)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
