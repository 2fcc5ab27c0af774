package server_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkNotificationLatency measures, for persistent topics, the time
// from a PutObject's acknowledgement (and from its start) to the record's
// arrival at the consumer, with PUTs paced at about 500/s. Metrics:
// p50-ms/p99-ms (ack → consumer), p50-put-ms/p99-put-ms (PUT start →
// consumer) and puts/s achieved.
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
			benchLatency(b, g, c, bucket, 500)
		})
	}
}

func benchLatency(b *testing.B, g *gateway, c *consumer, bucket string, rate int) {
	type stamp struct{ start, acked time.Time }
	var mu sync.Mutex
	stamps := make(map[string]stamp, b.N)
	ackLat := make([]time.Duration, 0, b.N)
	putLat := make([]time.Duration, 0, b.N)
	done := make(chan struct{})
	go func() { // consumer side
		defer close(done)
		for range b.N {
			select {
			case m := <-c.msgs:
				now := time.Now()
				key := parseRecord(b, m).S3.Object.Key
				mu.Lock()
				s := stamps[key]
				mu.Unlock()
				if !s.acked.IsZero() && now.After(s.acked) {
					ackLat = append(ackLat, now.Sub(s.acked))
				} else {
					ackLat = append(ackLat, 0) // arrived before the response was read
				}
				putLat = append(putLat, now.Sub(s.start))
			case <-time.After(30 * time.Second):
				b.Errorf("consumer: %d of %d records within the time limit", len(putLat), b.N)
				return
			}
		}
	}()

	ctx := context.Background()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	b.ResetTimer()
	begin := time.Now()
	for i := range b.N {
		<-tick.C
		sem <- struct{}{}
		wg.Add(1)
		key := fmt.Sprintf("k%07d", i)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			start := time.Now()
			mu.Lock()
			stamps[key] = stamp{start: start}
			mu.Unlock()
			if _, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("v")}); err != nil {
				b.Error(err)
				return
			}
			acked := time.Now()
			mu.Lock()
			stamps[key] = stamp{start: start, acked: acked}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	<-done
	b.StopTimer()
	if len(putLat) == 0 {
		return
	}
	slices.Sort(ackLat)
	slices.Sort(putLat)
	pct := func(d []time.Duration, p float64) float64 {
		return float64(d[min(len(d)-1, int(float64(len(d))*p))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(ackLat, 0.50), "p50-ms")
	b.ReportMetric(pct(ackLat, 0.99), "p99-ms")
	b.ReportMetric(pct(putLat, 0.50), "p50-put-ms")
	b.ReportMetric(pct(putLat, 0.99), "p99-put-ms")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "puts/s")
}
