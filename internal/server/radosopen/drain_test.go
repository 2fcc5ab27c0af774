//go:build rados

package radosopen_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/cairn-s3/cairn/internal/server/servertest"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// collect reads keys until want distinct ones arrived (or the bound ran
// out), then for settle more, and returns how often each arrived.
func collect(t *testing.T, keys <-chan string, want int, bound, settle time.Duration) map[string]int {
	t.Helper()
	got := map[string]int{}
	deadline := time.After(bound)
	for len(got) < want {
		select {
		case k := <-keys:
			got[k]++
		case <-deadline:
			return got
		}
	}
	quiet := time.After(settle)
	for {
		select {
		case k := <-keys:
			got[k]++
		case <-quiet:
			return got
		}
	}
}

func duplicates(got map[string]int) int {
	d := 0
	for _, n := range got {
		d += n - 1
	}
	return d
}

// Two gateways on one pool queue events for one persistent topic: every
// event is delivered once (each shard is drained by one gateway, and
// record ids come from the commit sequence, not a gateway's counter).
// Before shared queues, two gateways lost and duplicated events.
func TestTwoGatewaysPersistentTopic(t *testing.T) {
	gws := startGatewaysWith(t, 2, fastDelivery)
	url, keys := sink(t)
	persistentBucket(t, gws[0], "shared", url)
	const n = 240
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := rootClient(gws[w%2])
			for i := w; i < n; i += 8 {
				_, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("shared"),
					Key: aws.String(fmt.Sprintf("k%03d", i)), Body: strings.NewReader("x")})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := collect(t, keys, n, 60*time.Second, 2*time.Second)
	t.Logf("FIGURES events=%d delivered=%d duplicates=%d", n, len(got), duplicates(got))
	if len(got) != n {
		t.Fatalf("%d of %d events delivered", len(got), n)
	}
	if d := duplicates(got); d != 0 {
		t.Fatalf("%d duplicates without any failure", d)
	}

}

// SIGKILL one of two gateway processes while 16 writers PUT through both
// into a bucket notifying a persistent topic: the survivor takes the dead
// gateway's shards when their leases lapse and delivers every event of an
// acknowledged PUT (at least once: duplicates are counted, none lost).
func TestGatewayKilledShardsTakenOver(t *testing.T) {
	bin := buildCairn(t)
	conf := radostest.ConfPath(t)
	prefix := radostest.PoolPrefix(t, radostest.Conn(t))
	const lease = 3 * time.Second
	a := startProc(t, bin, conf, prefix, "--drain-lease", lease.String(), "--pubsub")
	b := startProc(t, bin, conf, prefix, "--drain-lease", lease.String(), "--pubsub")
	url, keys := sink(t)
	persistentBucket(t, a.Running, "killed", url)
	// A pull subscription of the same bucket's events.
	for _, p := range []string{"/topics/pt", "/notifications/bucket/killed?topic=pt&events=OBJECT_CREATE", "/subscriptions/ps?topic=pt"} {
		if status, body := admin(t, a.Running, "PUT", p); status != http.StatusOK {
			t.Fatalf("PUT %s: %d %s", p, status, body)
		}
	}

	want, killed := putsAcrossKill(t, a, b, "killed")
	got := map[string]int{}
	for deadline := time.After(90 * time.Second); missingOf(want, got) > 0; {
		select {
		case k := <-keys:
			got[k]++
		case <-deadline:
			t.Fatalf("%d acknowledged events never delivered; survivor log:\n%s", missingOf(want, got), tail(b.log(), 3000))
		}
	}
	all := time.Since(killed)
	for k, n := range collect(t, keys, 0, 0, 2*time.Second) { // late duplicates
		got[k] += n
	}
	t.Logf("FIGURES acknowledged=%d delivered_distinct=%d lost=0 duplicates=%d all_delivered_after_kill=%.1fs lease=%s",
		len(want), len(got), duplicates(got), all.Seconds(), lease)

	// The subscription holds an event of every acknowledged PUT, pulled
	// through the survivor with markers.
	pulled := map[string]int{}
	marker := ""
	for end := time.Now().Add(60 * time.Second); missingOf(want, pulled) > 0 && time.Now().Before(end); {
		p := pull(t, b.Running, "ps", marker)
		for _, e := range p.Events {
			pulled[e.Info.Key.Name]++
		}
		if len(p.Events) > 0 {
			marker = p.Events[len(p.Events)-1].ID
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	t.Logf("FIGURES subscription: acknowledged=%d pulled_distinct=%d lost=%d duplicates=%d",
		len(want), len(pulled), missingOf(want, pulled), duplicates(pulled))
	if n := missingOf(want, pulled); n > 0 {
		t.Fatalf("%d acknowledged PUTs have no event in the subscription", n)
	}
}

// putsAcrossKill PUTs into bucket from 16 writers through both gateways,
// SIGKILLs a after 2 s (its writers move to b) and stops 2 s later. It
// returns the acknowledged keys and when a was killed.
func putsAcrossKill(t *testing.T, a, b *gatewayProc, bucket string) ([]string, time.Time) {
	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gws := []*servertest.Running{a.Running, b.Running}
			for i := 0; i < 10000; i++ {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%02d-%05d", w, i)
				_, err := rootClient(gws[(w+i)%2]).PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket),
					Key: aws.String(key), Body: strings.NewReader("x")})
				if err != nil {
					gws[0] = b.Running // the killed gateway's writers move to the survivor
					continue
				}
				mu.Lock()
				acked = append(acked, key)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(2 * time.Second)
	a.kill(t)
	killed := time.Now()
	time.Sleep(2 * time.Second)
	close(stop)
	wg.Wait()
	return acked, killed
}

// missingOf counts the keys of want that got lacks.
func missingOf(want []string, got map[string]int) int {
	n := 0
	for _, k := range want {
		if got[k] == 0 {
			n++
		}
	}
	return n
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// gatedSink is sink answering 503 until opened.
func gatedSink(t *testing.T) (url string, keys <-chan string, open func()) {
	inner, ch := sink(t)
	var opened atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !opened.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		resp, err := http.Post(inner, r.Header.Get("Content-Type"), r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch, func() { opened.Store(true) }
}

// A topic's max-queue-size is split among the bucket's index shards, each
// enforced by the shard's holder marking it full (no shared counter): with
// the endpoint down, PUTs through both gateways are refused with 503
// SlowDown once their shard's share is used, and every accepted event is
// delivered once the endpoint is back.
func TestTwoGatewaysQueueCapacity(t *testing.T) {
	gws := startGatewaysWith(t, 2, fastDelivery)
	url, keys, open := gatedSink(t)
	ctx := t.Context()
	cappedBucket(t, gws[0], "capped", "small", url, "16384")
	var accepted []string
	refused := 0
	for i := 0; i < 2000 && refused < 20; i++ {
		key := fmt.Sprintf("k%04d", i)
		_, err := rootClient(gws[i%2]).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("capped"), Key: aws.String(key), Body: strings.NewReader("x")})
		switch code := errorCode(err); {
		case err == nil:
			accepted = append(accepted, key)
		case code == "SlowDown":
			if refused == 0 {
				t.Logf("first refusal after %d accepted", len(accepted))
			}
			refused++
		default:
			t.Fatalf("PUT %s: %v", key, err)
		}
		if refused == 0 && len(accepted)%50 == 0 {
			time.Sleep(300 * time.Millisecond) // let the holders count
		}
	}
	if refused == 0 {
		t.Fatalf("%d PUTs accepted, none refused by a full queue", len(accepted))
	}
	// Every gateway's topic stats count the pool's queued events.
	for _, gw := range gws {
		waitDepth(t, gw, "small", int64(len(accepted)))
	}
	// A test event queued through each gateway (outside any commit) is
	// numbered uniquely in the cluster: both stay queued, then delivered.
	for _, gw := range gws {
		if status, body := admin(t, gw, "POST", "/admin/topic?test-event&topic=small"); status != http.StatusOK {
			t.Fatalf("test event: %d %s", status, body)
		}
	}
	open()
	got := collect(t, keys, len(accepted)+1, 60*time.Second, time.Second)
	if got["test-event"] != 2 {
		t.Errorf("test events delivered %d times, want 2 (one per gateway)", got["test-event"])
	}
	delete(got, "test-event")
	for _, gw := range gws {
		waitDepth(t, gw, "small", 0)
	}
	lost := 0
	for _, k := range accepted {
		if got[k] == 0 {
			lost++
		}
	}
	t.Logf("FIGURES accepted=%d refused=%d delivered=%d lost=%d duplicates=%d", len(accepted), refused, len(got), lost, duplicates(got))
	if lost > 0 {
		t.Fatalf("%d accepted events not delivered", lost)
	}
}

// waitDepth waits (bounded) until gw's topic stats show depth events.
func waitDepth(t *testing.T, gw *servertest.Running, topic string, depth int64) {
	t.Helper()
	var last string
	for range 100 {
		status, body := admin(t, gw, "GET", "/admin/topic?stats&topic="+topic)
		var doc struct {
			Queue struct {
				Depth int64 `json:"depth"`
			} `json:"queue"`
		}
		if status == http.StatusOK && json.Unmarshal([]byte(body), &doc) == nil && doc.Queue.Depth == depth {
			return
		}
		last = body
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("topic stats of %s: %s, want depth %d", gw.URL, last, depth)
}

// A commit through a gateway that does not hold the shard tells the holder
// through a RADOS notification, so its event is delivered long before the
// holder's next poll (a minute here).
func TestTwoGatewaysNotifyShardHolder(t *testing.T) {
	slowPoll := fastDelivery
	slowPoll.PollInterval = time.Minute
	gws := startGatewaysWith(t, 2, slowPoll)
	url, keys := sink(t)
	persistentBucket(t, gws[0], "notified", url)
	const n = 40
	// One PUT at a time, each waited for: the time from the PUT's start to
	// the event's arrival (figures, not asserted).
	lat := make([]time.Duration, 0, n)
	for i := range n {
		start := time.Now()
		key := fmt.Sprintf("k%02d", i)
		if _, err := rootClient(gws[i%2]).PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("notified"),
			Key: aws.String(key), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
		select {
		case k := <-keys:
			if k != key {
				t.Fatalf("event of %s, want %s", k, key)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("event %d of %d not delivered before the holders' poll", i, n)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	t.Logf("FIGURES PUT-to-event through either gateway: p50=%v p99=%v max=%v", lat[n/2], lat[n*99/100], lat[n-1])
}

// cappedBucket creates a persistent topic pushing to url with
// max-queue-size size and a bucket notifying it of every creation.
func cappedBucket(t *testing.T, gw *servertest.Running, bucket, topic, url, size string) {
	ctx := t.Context()
	cp := credentials.NewStaticCredentialsProvider(gw.RootAccessKey, gw.RootSecretKey, "")
	out, err := sns.New(sns.Options{Region: "default", BaseEndpoint: aws.String(gw.URL), Credentials: cp}).CreateTopic(ctx,
		&sns.CreateTopicInput{Name: aws.String(topic), Attributes: map[string]string{
			"push-endpoint": url, "persistent": "true", "max-queue-size": size}})
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	c := rootClient(gw)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(bucket), NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{{
			Id: aws.String("n"), TopicArn: out.TopicArn, Events: []s3types.Event{"s3:ObjectCreated:*"},
		}}},
	}); err != nil {
		t.Fatalf("notification: %v", err)
	}
}
