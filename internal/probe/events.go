package probe

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// events is the optional event-delivery check: a topic on each target
// pushes to an HTTP listener inside the probe, and each cycle measures the
// time from its PUT to the ObjectCreated event arriving.
type events struct {
	url     string
	timeout time.Duration
	srv     *http.Server
	served  chan error

	mu      sync.Mutex
	waiters map[string]chan time.Time // "bucket/key" → arrival time
}

func startEvents(listen, url string, timeout time.Duration) (*events, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	if url == "" {
		url = "http://" + ln.Addr().String()
	}
	ev := &events{url: url, timeout: timeout, served: make(chan error, 1), waiters: map[string]chan time.Time{}}
	ev.srv = &http.Server{Handler: http.HandlerFunc(ev.receive), ReadHeaderTimeout: 10 * time.Second}
	go func() { ev.served <- ev.srv.Serve(ln) }()
	return ev, nil
}

func (ev *events) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := ev.srv.Shutdown(ctx)
	if serr := <-ev.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// receive accepts a pushed event record batch and wakes its waiters.
func (ev *events) receive(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	var body struct {
		Records []struct {
			S3 struct {
				Bucket struct {
					Name string `json:"name"`
				} `json:"bucket"`
				Object struct {
					Key string `json:"key"`
				} `json:"object"`
			} `json:"s3"`
		} `json:"Records"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&body); err != nil {
		http.Error(w, "want an S3 event record", http.StatusBadRequest)
		return
	}
	ev.mu.Lock()
	for _, rec := range body.Records {
		if ch, ok := ev.waiters[rec.S3.Bucket.Name+"/"+rec.S3.Object.Key]; ok {
			select {
			case ch <- now:
			default:
			}
		}
	}
	ev.mu.Unlock()
}

func (ev *events) expect(bucket, key string) chan time.Time {
	ch := make(chan time.Time, 1)
	ev.mu.Lock()
	ev.waiters[bucket+"/"+key] = ch
	ev.mu.Unlock()
	return ch
}

func (ev *events) forget(bucket, key string) {
	ev.mu.Lock()
	delete(ev.waiters, bucket+"/"+key)
	ev.mu.Unlock()
}

// setup makes the target push ObjectCreated events of key in bucket to
// the probe: it creates (or updates) the target's probe topic and sets
// the bucket's notification configuration.
func (ev *events) setup(ctx context.Context, r *run, bucket, key string) error {
	var arn *string
	if err := r.doAux(ctx, TaskEventSetup, func(ctx context.Context) error {
		out, err := r.t.sns.CreateTopic(ctx, &sns.CreateTopicInput{
			Name:       aws.String(r.p.cfg.BucketPrefix + "-events"),
			Attributes: map[string]string{"push-endpoint": ev.url},
		})
		if err == nil {
			arn = out.TopicArn
		}
		return err
	}); err != nil {
		return err
	}
	return r.doAux(ctx, TaskEventSetup, func(ctx context.Context) error {
		_, err := r.t.client.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket: aws.String(bucket),
			NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{{
				Id:       aws.String("probe"),
				TopicArn: arn,
				Events:   []s3types.Event{"s3:ObjectCreated:*"},
				Filter: &s3types.NotificationConfigurationFilter{Key: &s3types.S3KeyFilter{FilterRules: []s3types.FilterRule{
					{Name: s3types.FilterRuleNamePrefix, Value: aws.String(key)},
				}}},
			}}},
		})
		return err
	})
}

// wait waits (until the event timeout after the PUT started) for the
// event of the PUT, and records its latency or its absence.
func (ev *events) wait(ctx context.Context, r *run, ch chan time.Time, putStart time.Time) {
	select {
	case at := <-ch:
		r.p.m.eventLatency.WithLabelValues(r.t.endpoint).Observe(at.Sub(putStart).Seconds())
		return
	default:
	}
	timer := time.NewTimer(time.Until(putStart.Add(ev.timeout)))
	defer timer.Stop()
	select {
	case at := <-ch:
		r.p.m.eventLatency.WithLabelValues(r.t.endpoint).Observe(at.Sub(putStart).Seconds())
	case <-timer.C:
		r.p.m.eventsMissing.WithLabelValues(r.t.endpoint).Inc()
		r.res.Failures = append(r.res.Failures, Failure{Task: TaskEvent, Code: CodeMissing,
			Err: errors.New("no ObjectCreated event within " + ev.timeout.String() + " of the PUT")})
	case <-ctx.Done():
	}
}
