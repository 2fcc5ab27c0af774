//go:build rados

package radosopen_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/radosopen"
	"github.com/cairn-s3/cairn/internal/server/servertest"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// The live event stream reaches a watcher on any gateway: a watcher on A
// sees, in order, the changes made through B (and through A), and once it
// is gone B relays nothing more.
func TestTwoGatewaysLiveEvents(t *testing.T) {
	conn := radostest.Conn(t)
	gws, ioctx := startGatewaysInPool(t, conn, 2)
	a, b := gws[0], gws[1]
	ca, cb := rootClient(a), rootClient(b)
	const bucket = "live-across"
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if _, err := cb.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	// The response's headers come once the watch is registered everywhere.
	events := openEvents(t, ctx, a, bucket)

	var want []string
	for i := range 20 {
		key := fmt.Sprintf("k%02d", i)
		c := cb
		if i%5 == 4 {
			c = ca // the watcher's own gateway, interleaved
		}
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: strings.NewReader("v")}); err != nil {
			t.Fatal(err)
		}
		want = append(want, "ObjectCreated:Put "+key)
	}
	if _, err := cb.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("k00")}); err != nil {
		t.Fatal(err)
	}
	want = append(want, "ObjectRemoved:Delete k00")
	// Each gateway's events arrive in its commit order; the two gateways'
	// streams interleave in any order.
	got := map[string]bool{}
	var fromB []string
	for len(got) < len(want) {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatalf("stream ended after %d of %d events", len(got), len(want))
			}
			if got[e] {
				t.Fatalf("event %q twice", e)
			}
			got[e] = true
			if !strings.Contains(e, "k04") && !strings.Contains(e, "k09") && !strings.Contains(e, "k14") && !strings.Contains(e, "k19") {
				fromB = append(fromB, e)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("after %d of %d events, none for 30 s; got %v", len(got), len(want), got)
		}
	}
	for _, w := range want {
		if !got[w] {
			t.Fatalf("missing event %q", w)
		}
	}
	// B's changes arrive in its commit order (k00, k01, … then the delete).
	if !slices.IsSorted(fromB[:len(fromB)-1]) || fromB[len(fromB)-1] != "ObjectRemoved:Delete k00" {
		t.Fatalf("B's events out of commit order: %v", fromB)
	}

	// Once the watcher is gone, its registration is too: B sends nothing.
	cancel()
	for i := 0; ; i++ {
		rows, err := ioctx.GetAllOmapValues("cairn.live", "", "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			break
		}
		if i == 100 {
			t.Fatalf("live registry rows left after the watcher ended: %v", rows)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// openEvents opens GET /{bucket}?events on gw as root, asking for the
// given event names (none: every change), and returns its events as
// "EventName key" strings, without the "s3:" prefix; the channel closes
// when the stream ends.
func openEvents(t *testing.T, ctx context.Context, gw *servertest.Running, bucket string, names ...string) <-chan string {
	t.Helper()
	q := url.Values{"events": names}.Encode()
	if q == "" {
		q = "events"
	}
	resp := rootDo(t, ctx, gw, http.MethodGet, "/"+bucket+"?"+q)
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("GET ?events: %s", resp.Status)
	}
	out := make(chan string, 1024)
	go func() {
		defer close(out)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var doc struct {
				Records []struct {
					EventName string `json:"eventName"`
					S3        struct {
						Object struct {
							Key string `json:"key"`
						} `json:"object"`
					} `json:"s3"`
				}
				Err json.RawMessage
			}
			if err := json.Unmarshal(sc.Bytes(), &doc); err != nil {
				continue
			}
			if doc.Err != nil {
				out <- "gap " + string(doc.Err)
			}
			for _, r := range doc.Records {
				out <- strings.TrimPrefix(r.EventName, "s3:") + " " + r.S3.Object.Key
			}
		}
	}()
	return out
}

// A registration whose gateway died (here: a row no watch backs) is
// removed by the first gateway whose relayed change it did not reach, so
// writes stop paying for it.
func TestLiveStaleRegistrationRemoved(t *testing.T) {
	conn := radostest.Conn(t)
	prefix := radostest.PoolPrefix(t, conn)
	gw := servertest.Start(t, servertest.Options{
		Store:       server.StoreRados,
		Ceph:        server.CephConfig{ConfFile: radostest.ConfPath(t), User: "client.admin", PoolPrefix: prefix},
		RadosOpener: radosopen.Open,
	})
	ioctx, err := conn.OpenIOContext(prefix + ".cairn")
	if err != nil {
		t.Fatal(err)
	}
	defer ioctx.Destroy()
	c := rootClient(gw)
	const bucket = "live-stale"
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	row := bucket + "\n999999\n42" // a gateway that is gone, and its watch
	if err := ioctx.SetOmap("cairn.live", map[string][]byte{row: nil}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ioctx.NotifyWithTimeout("cairn.live", []byte("+"+row), 5*time.Second); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("k"),
			Body: strings.NewReader("v")}); err != nil {
			t.Fatal(err)
		}
		rows, err := ioctx.GetAllOmapValues("cairn.live", "", "", 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			return
		}
		if i == 100 {
			t.Fatalf("stale live registration still there after %d PUTs: %v", i, rows)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
