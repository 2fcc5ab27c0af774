package server_test

// Fault tests of persistent notifications on the real server. Each is
// bounded in time.
//
//   - TestFaultBrokerOutage: the broker is stopped for 30 s in the middle of
//     2,000 persistent events and started again; every event arrives without
//     restarting the gateway. Broker: RabbitMQ (scripts/rabbitmq.sh stop and
//     start) when CI=true or CAIRN_TEST_STOP_RABBITMQ=1 — the broker is
//     shared by every test on the machine, so a local run does not stop it
//     by default — otherwise an embedded NATS server with JetStream (file
//     storage), shut down and restarted on the same port and store dir.
//   - TestFaultDeadLetterReplay: an endpoint that always fails, with
//     max_retries=3, sends the event to the dead letters; a replay delivers
//     it once the endpoint is fixed.
//   - TestFaultQueueFull: each overflow policy of a full queue.
//
// The SIGKILL test of the built binary is test/e2e's TestNotificationCrash.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/cairn-s3/cairn/internal/brokertest"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	natsserver "github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// admin sends a signed admin API request and decodes its JSON answer.
func (g *gateway) admin(t testing.TB, method, path string, q url.Values, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, g.srv.URL+path+"?"+q.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(nil)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: g.srv.RootAccessKey, SecretAccessKey: g.srv.RootSecretKey},
		req, hash, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, body)
	}
	if out != nil && len(body) > 0 {
		if err := json.Unmarshal(body, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, body)
		}
	}
}

type queueStats struct {
	Depth           int64   `json:"depth"`
	Bytes           int64   `json:"bytes"`
	OldestAge       float64 `json:"oldest_pending_age_seconds"`
	Delivered       int64   `json:"delivered"`
	Failed          int64   `json:"failed"`
	Dropped         int64   `json:"dropped"`
	DeadLettered    int64   `json:"dead_lettered"`
	DeadLetterDepth int64   `json:"dead_letter_depth"`
}

func (g *gateway) stats(t testing.TB, topic string) queueStats {
	t.Helper()
	var doc struct {
		Queue queueStats `json:"queue"`
	}
	g.admin(t, http.MethodGet, "/admin/topic", url.Values{"stats": {""}, "topic": {topic}}, &doc)
	return doc.Queue
}

// waitFor polls cond (bounded).
func waitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dedup counts distinct object keys and duplicates among records.
type dedup struct {
	mu    sync.Mutex
	keys  map[string]int
	total int
}

func newDedup() *dedup { return &dedup{keys: map[string]int{}} }

func (d *dedup) add(t testing.TB, body []byte) {
	r := parseRecord(t, body)
	d.mu.Lock()
	d.keys[r.S3.Object.Key]++
	d.total++
	d.mu.Unlock()
}

func (d *dedup) counts() (distinct, total int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.keys), d.total
}

// outageBroker is a broker the outage test can stop and start.
type outageBroker struct {
	name        string
	c           *consumer
	stop, start func(t *testing.T)
	drain       func(t *testing.T, d *dedup) // moves what arrived into d
}

func rabbitOutageBroker(t *testing.T, topic string) *outageBroker {
	amqpURL(t)
	brokertest.LockRabbitMQ(t, true) // no test of a cooperating package uses the broker meanwhile
	c, _ := rabbitConsumer(t, topic)
	script := func(arg string) func(t *testing.T) {
		return func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			_, file, _, _ := runtime.Caller(0)
			out, err := exec.CommandContext(ctx, filepath.Join(filepath.Dir(file), "../../scripts/rabbitmq.sh"), arg).CombinedOutput()
			if err != nil {
				t.Fatalf("rabbitmq.sh %s: %v\n%s", arg, err, out)
			}
		}
	}
	return &outageBroker{name: "rabbitmq", c: c, stop: script("stop"), start: script("start"),
		drain: func(t *testing.T, d *dedup) {
			for {
				select {
				case m := <-c.msgs:
					d.add(t, m)
				default:
					return
				}
			}
		}}
}

// natsOutageBroker runs NATS with JetStream on file storage, so messages
// acknowledged before a shutdown survive it, as in a durable RabbitMQ queue.
func natsOutageBroker(t *testing.T, topic string) *outageBroker {
	dir := t.TempDir()
	var s *natsserver.Server
	port := 0
	run := func(t *testing.T) {
		p := port
		if p == 0 {
			p = -1
		}
		var err error
		for i := 0; i < 50; i++ { // the port may linger briefly after a shutdown
			s, err = natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: p, NoLog: true, NoSigs: true, JetStream: true, StoreDir: dir})
			if err == nil {
				s.Start()
				if s.ReadyForConnections(5 * time.Second) {
					break
				}
				s.Shutdown()
				err = errors.New("not ready")
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("nats-server: %v", err)
		}
		port = s.Addr().(*net.TCPAddr).Port
	}
	run(t)
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	nc, err := natsgo.Connect("nats://" + s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "EVENTS", Subjects: []string{topic}, Storage: jetstream.FileStorage}); err != nil {
		t.Fatal(err)
	}
	nc.Close()
	c := newConsumer("nats://"+s.Addr().String(), map[string]string{"nats-jetstream": "true"})
	return &outageBroker{name: "nats-jetstream", c: c,
		stop:  func(*testing.T) { s.Shutdown(); s.WaitForShutdown() },
		start: run,
		drain: func(t *testing.T, d *dedup) {
			nc, err := natsgo.Connect("nats://" + s.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			js, _ := jetstream.New(nc)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cons, err := js.OrderedConsumer(ctx, "EVENTS", jetstream.OrderedConsumerConfig{})
			if err != nil {
				t.Fatal(err)
			}
			for {
				batch, err := cons.FetchNoWait(1000)
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for m := range batch.Messages() {
					d.add(t, m.Data())
					n++
				}
				if n == 0 {
					return
				}
			}
		}}
}

// TestFaultBrokerOutage: 2,000 persistent events, the broker down for 30 s
// in the middle; all arrive without restarting the gateway.
func TestFaultBrokerOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("30 s outage")
	}
	const total, outage = 2000, 30 * time.Second
	nc := fastRetries
	nc.RetryBackoffMax = 2 * time.Second
	g := startGateway(t, nc)
	topic := newName("outage")
	var b *outageBroker
	if required() || os.Getenv("CAIRN_TEST_STOP_RABBITMQ") == "1" {
		b = rabbitOutageBroker(t, topic)
	} else {
		b = natsOutageBroker(t, topic)
	}
	t.Logf("broker: %s", b.name)
	arn := g.topic(t, topic, b.c.topicAttrs(true))
	bucket := newName("outage")
	g.bucket(t, bucket, arn)

	// PUT the events with 8 clients; the broker stops after the first half
	// is acknowledged, the second half is PUT while it is down, and it
	// starts again 30 s after it stopped.
	ctx := context.Background()
	var next, acked atomic.Int64
	brokerDown := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= total {
					return
				}
				if i >= total/2 {
					<-brokerDown
				}
				if _, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fmt.Sprintf("k%05d", i)),
					Body: strings.NewReader("v")}); err != nil {
					errs <- err
					return
				}
				acked.Add(1)
			}
		}()
	}
	waitFor(t, time.Minute, "first half acknowledged", func() bool { return acked.Load() >= total/2 || len(errs) > 0 })
	b.stop(t)
	down := time.Now()
	close(brokerDown)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("PUT: %v", err)
	}
	st := g.stats(t, topic)
	t.Logf("all %d PUTs acknowledged %.1fs after the broker stopped; queue depth %d (%d bytes), failed attempts %d",
		acked.Load(), time.Since(down).Seconds(), st.Depth, st.Bytes, st.Failed)
	time.Sleep(time.Until(down.Add(outage)))
	b.start(t)
	up := time.Now()
	waitFor(t, 2*time.Minute, "queue drained after the broker restarted", func() bool { return g.stats(t, topic).Depth == 0 })
	drained := time.Since(up)
	d := newDedup()
	waitFor(t, time.Minute, "every event at the consumer", func() bool {
		b.drain(t, d)
		n, _ := d.counts()
		return n == total
	})
	n, all := d.counts()
	st = g.stats(t, topic)
	t.Logf("FIGURES broker=%s events=%d distinct=%d received=%d duplicates=%d drain_after_restart=%.1fs delivered=%d failed_attempts=%d dead_lettered=%d",
		b.name, total, n, all, all-n, drained.Seconds(), st.Delivered, st.Failed, st.DeadLettered)
	if st.DeadLettered != 0 || st.Dropped != 0 {
		t.Errorf("events lost to dead letters or drops: %+v", st)
	}
}

// TestFaultDeadLetterReplay: max_retries=3 against an endpoint that always
// fails → the event is a dead letter after 4 attempts; fixed and replayed,
// it is delivered once.
func TestFaultDeadLetterReplay(t *testing.T) {
	g := startGateway(t, fastRetries)
	sink := newHTTPSink(t)
	sink.setFail(true)
	topic := newName("dlq")
	arn := g.topic(t, topic, sink.topicAttrs(true, "max_retries", "3"))
	bucket := newName("dlq")
	g.bucket(t, bucket, arn)
	if _, err := g.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("doomed"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "dead letter", func() bool { return g.stats(t, topic).DeadLetterDepth == 1 })
	st := g.stats(t, topic)
	if st.Failed != 4 || st.Depth != 0 || st.DeadLettered != 1 {
		t.Errorf("stats: %+v (want 4 failed attempts, nothing queued)", st)
	}
	var dl struct {
		DeadLetters []struct {
			EventID  string `json:"event_id"`
			Attempts int    `json:"attempts"`
			Event    json.RawMessage
		} `json:"dead_letters"`
	}
	g.admin(t, http.MethodGet, "/admin/topic", url.Values{"dlq": {""}, "topic": {topic}}, &dl)
	if len(dl.DeadLetters) != 1 || dl.DeadLetters[0].Attempts != 4 || parseRecord(t, dl.DeadLetters[0].Event).S3.Object.Key != "doomed" {
		t.Fatalf("dead letters: %+v", dl)
	}
	select {
	case m := <-sink.msgs:
		t.Fatalf("delivered while failing: %s", m)
	default:
	}

	sink.setFail(false)
	var rep struct{ Replayed int }
	g.admin(t, http.MethodPost, "/admin/topic", url.Values{"replay": {""}, "topic": {topic}, "event-id": {dl.DeadLetters[0].EventID}}, &rep)
	if rep.Replayed != 1 {
		t.Fatalf("replayed %d", rep.Replayed)
	}
	if r := parseRecord(t, sink.next(t, 10*time.Second)); r.S3.Object.Key != "doomed" {
		t.Errorf("replayed record: %+v", r)
	}
	time.Sleep(300 * time.Millisecond)
	select {
	case m := <-sink.msgs:
		t.Errorf("delivered twice: %s", m)
	default:
	}
	// The ack is counted once its removal is durable, just after delivery.
	waitFor(t, 5*time.Second, "replayed event counted", func() bool {
		st := g.stats(t, topic)
		return st.DeadLetterDepth == 0 && st.Delivered == 1 && st.Depth == 0
	})
	t.Logf("FIGURES dead-letter: attempts=%d, replayed=1, delivered=1", dl.DeadLetters[0].Attempts)
}

// TestFaultQueueFull: a small queue (max-queue-size) in front of a failing
// endpoint overflows; each overflow-policy behaves as configured. Every PUT
// writes the same key (events of one key are sent one at a time, so only
// the head is in flight and the others are droppable); PUT i writes i+1
// bytes, which identifies its event.
func TestFaultQueueFull(t *testing.T) {
	g := startGateway(t, fastRetries)
	const puts = 12
	for _, policy := range []string{"reject", "drop-newest", "drop-oldest"} {
		t.Run(policy, func(t *testing.T) {
			ctx := context.Background()
			sink := newHTTPSink(t)
			sink.setFail(true)
			topic := newName("full")
			// About four records fit in 4 KiB.
			arn := g.topic(t, topic, sink.topicAttrs(true, "max-queue-size", "4096", "overflow-policy", policy))
			bucket := newName("full")
			g.bucket(t, bucket, arn)
			var stored, rejected []int64
			for i := range puts {
				size := int64(i + 1)
				_, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj"), Body: strings.NewReader(strings.Repeat("v", int(size)))})
				var ae smithy.APIError
				var re interface{ HTTPStatusCode() int }
				switch {
				case err == nil:
					stored = append(stored, size)
				case policy == "reject" && errors.As(err, &ae) && ae.ErrorCode() == "SlowDown" && errors.As(err, &re) && re.HTTPStatusCode() == 503:
					rejected = append(rejected, size)
					// Nothing of a rejected PUT is stored: the object is the
					// last acknowledged one.
					head, err := g.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("obj")})
					if err != nil || aws.ToInt64(head.ContentLength) != stored[len(stored)-1] {
						t.Errorf("after rejected PUT of %d bytes the object has %v bytes (err %v), want %d", size, head, err, stored[len(stored)-1])
					}
				default:
					t.Fatalf("PUT %d: %v", i, err)
				}
			}
			st := g.stats(t, topic)
			if st.Depth == 0 || st.Depth >= puts {
				t.Errorf("queue not bounded: %+v", st)
			}
			sink.setFail(false)
			waitFor(t, 20*time.Second, "queue drained", func() bool { return g.stats(t, topic).Depth == 0 })
			time.Sleep(200 * time.Millisecond)
			got := map[int64]bool{}
			for len(sink.msgs) > 0 {
				got[parseRecord(t, <-sink.msgs).S3.Object.Size] = true
			}
			st = g.stats(t, topic)
			t.Logf("FIGURES policy=%s stored=%d rejected=%d delivered=%d dropped=%d", policy, len(stored), len(rejected), len(got), st.Dropped)
			if int(st.Dropped)+len(got) != len(stored) {
				t.Errorf("stored %d, delivered %d + dropped %d", len(stored), len(got), st.Dropped)
			}
			const first, last = 1, puts
			switch policy {
			case "reject":
				if len(rejected) == 0 || len(stored)+len(rejected) != puts || st.Dropped != 0 {
					t.Errorf("reject: stored %v rejected %v", stored, rejected)
				}
				for _, size := range stored {
					if !got[size] {
						t.Errorf("event of the stored PUT of %d bytes not delivered", size)
					}
				}
			case "drop-newest":
				if len(stored) != puts || st.Dropped == 0 || !got[first] || !got[2] || got[last] {
					t.Errorf("drop-newest: dropped %d delivered %v", st.Dropped, got)
				}
			case "drop-oldest":
				// The head (in flight) stays; then the newest.
				if len(stored) != puts || st.Dropped == 0 || !got[last] || !got[last-1] || got[2] {
					t.Errorf("drop-oldest: dropped %d delivered %v", st.Dropped, got)
				}
			}
		})
	}
}
