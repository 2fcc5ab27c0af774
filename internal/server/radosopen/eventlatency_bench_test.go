//go:build rados

package radosopen_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// BenchmarkPersistentEventLatency measures, on RADOS with one and with two
// gateways (server defaults), a persistent topic pushing to an HTTP sink
// on loopback: PUTs paced at 200/s from 4 clients (alternating between the
// gateways when two), the time from each PUT's acknowledgement (and from
// its start) to its record's arrival (metrics: see
// servertest.MeasureEventLatency). The goal: p99 ≤ 20 ms.
//
//	CAIRN_CEPH_CONF=... go test -tags rados -run '^$' -bench PersistentEventLatency -benchtime 1000x ./internal/server/radosopen
func BenchmarkPersistentEventLatency(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("gateways=%d", n), func(b *testing.B) {
			gws := startGatewaysWith(b, n, server.NotificationConfig{})
			url, keys := sink(b)
			persistentBucket(b, gws[0], "lat", url)
			clients := make([]*s3.Client, n)
			for i, gw := range gws {
				clients[i] = rootClient(gw)
			}
			put := func(ctx context.Context, i int, key string) error {
				_, err := clients[i%n].PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lat"), Key: aws.String(key),
					Body: strings.NewReader("x")})
				return err
			}
			warmUp(b, put, keys)
			servertest.MeasureEventLatency(b, servertest.EventLoad{Rate: 200, Clients: 4, Put: put, Arrivals: keys})
		})
	}
}

// warmUp PUTs a few objects through every gateway and waits for their
// records: the bucket is marked evented and its shards held before the
// measurement.
func warmUp(b *testing.B, put func(context.Context, int, string) error, keys <-chan string) {
	b.Helper()
	const n = 16
	for i := range n {
		if err := put(b.Context(), i, fmt.Sprintf("warm%02d", i)); err != nil {
			b.Fatalf("warm-up PUT: %v", err)
		}
	}
	seen := map[string]bool{}
	deadline := time.After(60 * time.Second)
	for len(seen) < n {
		select {
		case k := <-keys:
			seen[k] = true
		case <-deadline:
			b.Fatalf("warm-up: %d of %d records delivered", len(seen), n)
		}
	}
	// Late duplicates of the warm-up would be taken for unknown records.
	for quiet := time.After(time.Second); ; {
		select {
		case k := <-keys:
			b.Logf("warm-up record %s again", k)
		case <-quiet:
			return
		}
	}
}
