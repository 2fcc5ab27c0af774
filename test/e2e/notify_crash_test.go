package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// eventSink is an HTTP push endpoint counting records per object key.
type eventSink struct {
	srv   *httptest.Server
	mu    sync.Mutex
	keys  map[string]int
	total int
	// flaky makes every other request fail (500), so a backlog builds up.
	flaky bool
	reqs  int
}

func newEventSink(t *testing.T) *eventSink {
	s := &eventSink{keys: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var env struct {
			Records []struct {
				S3 struct {
					Object struct{ Key string }
				}
			}
		}
		if err := json.Unmarshal(body, &env); err != nil || len(env.Records) != 1 {
			t.Errorf("bad record: %s", body)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.reqs++
		if s.flaky && s.reqs%2 == 0 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		s.keys[env.Records[0].S3.Object.Key]++
		s.total++
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// missing returns the acknowledged keys whose event has not arrived.
func (s *eventSink) missing(acked []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, k := range acked {
		if s.keys[k] == 0 {
			out = append(out, k)
		}
	}
	return out
}

// TestNotificationCrash kills the cairn process with SIGKILL while 8
// clients PUT to a bucket whose notification goes to a persistent topic
// with an HTTP endpoint, restarts it, and checks that every acknowledged
// PUT's event arrives (at least once; duplicates are counted). Until the
// restart the endpoint fails every other request, so the queue holds a
// backlog when the process dies.
func TestNotificationCrash(t *testing.T) {
	dataDir := t.TempDir()
	srv := startServer(t, dataDir)
	sink := newEventSink(t)
	ctx := context.Background()
	cp := credentials.NewStaticCredentialsProvider(rootAccessKey, rootSecretKey, "")
	snsc := sns.New(sns.Options{Region: "default", BaseEndpoint: aws.String(srv.URL()), Credentials: cp})
	topic, err := snsc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("crash-events"),
		Attributes: map[string]string{"push-endpoint": sink.srv.URL, "persistent": "true"}})
	if err != nil {
		t.Fatalf("CreateTopic: %v\n%s", err, srv.log())
	}
	client := srv.s3Client(func(o *s3.Options) { o.RetryMaxAttempts = 1 })
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("nbkt")}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("nbkt"),
		NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{{
			Id: aws.String("n"), TopicArn: topic.TopicArn, Events: []s3types.Event{"s3:ObjectCreated:*"}}}}}); err != nil {
		t.Fatal(err)
	}

	sink.mu.Lock()
	sink.flaky = true
	sink.mu.Unlock()
	ackedKeys := putUntilKilled(t, srv, client, "nbkt", 600)
	sink.mu.Lock()
	beforeRestart := len(sink.keys)
	sink.flaky = false
	sink.mu.Unlock()

	restart := time.Now()
	srv.start()
	waitDeadline := time.Now().Add(90 * time.Second)
	var missing []string
	for {
		missing = sink.missing(ackedKeys)
		if len(missing) == 0 || time.Now().After(waitDeadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged PUTs have no event 90s after the restart (first %s)\nlog:\n%s", len(missing), len(ackedKeys), missing[0], srv.log())
	}
	took := time.Since(restart)
	time.Sleep(time.Second) // let late duplicates land before counting
	sink.mu.Lock()
	distinct, total := len(sink.keys), sink.total
	sink.mu.Unlock()
	t.Logf("FIGURES acknowledged=%d delivered_before_kill=%d events_after_restart_within=%.1fs distinct=%d (incl. unacknowledged but committed) received=%d duplicates=%d",
		len(ackedKeys), beforeRestart, took.Seconds(), distinct, total, total-distinct)
}
