//go:build rados

package radosopen_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
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
