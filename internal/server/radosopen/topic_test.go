//go:build rados

package radosopen_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// fastDelivery makes persistent delivery retry and rescan quickly.
var fastDelivery = server.NotificationConfig{
	RetryBackoffMin: 20 * time.Millisecond, RetryBackoffMax: 500 * time.Millisecond,
	PollInterval: 200 * time.Millisecond, SendTimeout: 5 * time.Second,
}

// sink is an HTTP push endpoint on loopback collecting the object keys of
// the event records it receives.
func sink(t testing.TB) (url string, keys <-chan string) {
	ch := make(chan string, 10000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var rec struct {
			Records []struct {
				S3 struct {
					Object struct{ Key string } `json:"object"`
				} `json:"s3"`
			}
		}
		if err := json.Unmarshal(body, &rec); err != nil {
			t.Errorf("event body %q: %v", body, err)
		}
		for _, r := range rec.Records {
			ch <- r.S3.Object.Key
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, ch
}

// persistentBucket creates a persistent topic pushing to url and a bucket
// notifying it of every creation, through gw.
func persistentBucket(t testing.TB, gw *servertest.Running, bucket, url string) {
	ctx := t.Context()
	cp := credentials.NewStaticCredentialsProvider(gw.RootAccessKey, gw.RootSecretKey, "")
	topic, err := sns.New(sns.Options{Region: "default", BaseEndpoint: aws.String(gw.URL), Credentials: cp}).CreateTopic(ctx,
		&sns.CreateTopicInput{Name: aws.String("t-" + bucket), Attributes: map[string]string{"push-endpoint": url, "persistent": "true"}})
	if err != nil {
		t.Fatalf("create topic: %v", err)
	}
	c := rootClient(gw)
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
		Bucket: aws.String(bucket), NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{{
			Id: aws.String("n"), TopicArn: topic.TopicArn, Events: []s3types.Event{"s3:ObjectCreated:*"},
		}}},
	}); err != nil {
		t.Fatalf("notification: %v", err)
	}
}

// One gateway on RADOS delivers a persistent topic's events: every PUT's
// event reaches the endpoint (the queue's records live in the pool).
func TestGatewayPersistentTopic(t *testing.T) {
	gw := startGatewaysWith(t, 1, fastDelivery)[0]
	url, keys := sink(t)
	persistentBucket(t, gw, "events", url)
	c := rootClient(gw)
	const n = 50
	for i := range n {
		if _, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("events"), Key: aws.String(fmt.Sprintf("k%02d", i)),
			Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for len(seen) < n {
		select {
		case k := <-keys:
			seen[k] = true
		case <-deadline:
			t.Fatalf("%d of %d events delivered", len(seen), n)
		}
	}
}
