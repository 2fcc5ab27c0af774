//go:build rados

package radosopen_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// A gateway of the version before read events knows two registry
// announcements, '+' (a row added) and '-' (removed), and ignores any
// other. A watcher asking for reads must still be announced to it with
// '+', or during a rolling upgrade it would never send that watcher the
// bucket's changes (until its registry watch reloads). The registry's
// notifies are observed here by a watch of its own, applied as that
// older gateway does.
func TestLiveReadsWatchAnnouncedToOlderGateways(t *testing.T) {
	gws, ioctx := startGatewaysInPool(t, radostest.Conn(t), 1)
	gw := gws[0]
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if _, err := rootClient(gw).CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("mixed")}); err != nil {
		t.Fatal(err)
	}
	w, err := ioctx.Watch("cairn.live")
	if err != nil {
		t.Fatal(err)
	}
	announced := make(chan []byte, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range w.Events() { // closed by Delete
			announced <- ev.Data
			_ = ev.Ack(nil)
		}
	}()
	defer func() {
		if err := w.Delete(); err != nil {
			t.Error(err)
		}
		<-done
	}()

	// Subscribe returns once every watcher of the registry acknowledged
	// the announcements, so they are all here when the stream opens.
	openEvents(t, ctx, gw, "mixed", "s3:ObjectCreated:*", "s3:ObjectAccessed:*")
	rows := map[string]bool{} // the older gateway's registry of "mixed"
	for more := true; more; {
		select {
		case data := <-announced:
			row := string(data[1:])
			if !strings.HasPrefix(row, "mixed\n") {
				continue
			}
			switch data[0] {
			case '+':
				rows[row] = true
			case '-':
				delete(rows, row)
			}
		default:
			more = false
		}
	}
	if len(rows) != 1 {
		t.Fatalf("an older gateway knows %d watches of the bucket after a watcher of changes and reads subscribed, want 1", len(rows))
	}
}

// A stream on gateway A outlives its bucket; another user creates a bucket
// of the same name through B and writes and reads there: A must not relay
// those events to the stream, which was authorized for the first bucket
// only. Then the stream's owner takes the name back through B: her write
// is the stream's next event.
func TestLiveRelaySkipsRecreatedBucketOfOtherOwner(t *testing.T) {
	gws := startGateways(t, 2)
	a, b := gws[0], gws[1]
	if code, body := admin(t, a, http.MethodPut, "/admin/user?uid=bob&display-name=bob&access-key=BOBKEY&secret-key=bob-secret"); code != http.StatusOK {
		t.Fatalf("create bob: %d %s", code, body)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	root, bob := rootClient(b), client(b, "BOBKEY", "bob-secret")
	bucket := aws.String("recycled")
	if _, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	events := openEvents(t, ctx, a, "recycled", "s3:ObjectCreated:*", "s3:ObjectAccessed:*")
	if _, err := root.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	putGetHeadPut(t, ctx, bob, "recycled", "bob-secret", "bob-marker")
	for _, k := range []string{"bob-secret", "bob-marker"} {
		if _, err := bob.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bucket, Key: aws.String(k)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := bob.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := root.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("root-key"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	expectEvents(t, events, "ObjectCreated:Put root-key")
}
