package server_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// BenchmarkNotificationLatency measures, for persistent topics, the time
// from a PutObject's acknowledgement (and from its start) to the record's
// arrival at the consumer, with PUTs paced at about 500/s (metrics: see
// servertest.MeasureEventLatency). The RADOS analogue is
// radosopen's BenchmarkPersistentEventLatency.
//
//	go test -run '^$' -bench NotificationLatency -benchtime 2000x ./internal/server
func BenchmarkNotificationLatency(b *testing.B) {
	for _, kind := range []string{"amqp", "http"} {
		b.Run(kind, func(b *testing.B) {
			g := startGateway(b, fastRetries)
			topic := newName("bench-" + kind)
			var c *consumer
			if kind == "amqp" {
				c, _ = rabbitConsumer(b, topic)
			} else {
				c = newHTTPSink(b).consumer
			}
			arn := g.topic(b, topic, c.topicAttrs(true))
			bucket := newName("bench")
			g.bucket(b, bucket, arn)
			servertest.MeasureEventLatency(b, servertest.EventLoad{
				Rate: 500,
				Put: func(ctx context.Context, _ int, key string) error {
					_, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("v")})
					return err
				},
				Arrivals: recordKeys(b, c.msgs),
			})
		})
	}
}

// recordKeys is the object key of every record in msgs, until the
// benchmark ends.
func recordKeys(b *testing.B, msgs <-chan []byte) <-chan string {
	keys := make(chan string, cap(msgs))
	done := make(chan struct{})
	b.Cleanup(func() { close(done) })
	go func() {
		for {
			select {
			case m := <-msgs:
				var env struct{ Records []record }
				if err := json.Unmarshal(m, &env); err != nil || len(env.Records) != 1 {
					b.Errorf("message %s: %v", m, err)
					continue
				}
				keys <- env.Records[0].S3.Object.Key
			case <-done:
				return
			}
		}
	}()
	return keys
}
