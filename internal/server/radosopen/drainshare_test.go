//go:build rados

package radosopen_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server/servertest"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// drainFigure reads a cairn_rados_drain_* figure from gw's /metrics.
func drainFigure(t *testing.T, gw *servertest.Running, name string) int {
	t.Helper()
	resp, err := http.Get(gw.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in /metrics", name)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return int(v)
}

// Two gateway processes share a notifying bucket's shards (the metadata
// object's too): each handles about half, where the first used to keep
// them all; once shared, neither tries to take a shard lease at its passes
// (cairn_rados_drain_probes_total stays flat), and every event is
// delivered. SIGKILLed, one leaves the survivor every shard once the
// leases lapse.
func TestTwoGatewaysShareShards(t *testing.T) {
	bin := buildCairn(t)
	conf := radostest.ConfPath(t)
	prefix := radostest.PoolPrefix(t, radostest.Conn(t))
	const lease = 1500 * time.Millisecond
	a := startProc(t, bin, conf, prefix, "--drain-lease", lease.String())
	b := startProc(t, bin, conf, prefix, "--drain-lease", lease.String())
	url, keys := sink(t)
	persistentBucket(t, a.Running, "spread", url)
	var want []string
	for i := range 40 {
		key := fmt.Sprint("k", i)
		gw := []*gatewayProc{a, b}[i%2]
		if _, err := rootClient(gw.Running).PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("spread"),
			Key: aws.String(key), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
		want = append(want, key)
	}
	got := collect(t, keys, len(want), 60*time.Second, 0)
	if n := missingOf(want, got); n > 0 {
		t.Fatalf("%d events never delivered", n)
	}

	held := func() (int, int) {
		return drainFigure(t, a.Running, "cairn_rados_drain_shards_held"), drainFigure(t, b.Running, "cairn_rados_drain_shards_held")
	}
	var ha, hb int
	for range 300 {
		if ha, hb = held(); ha > 0 && hb > 0 && ha-hb <= 2 && hb-ha <= 2 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ha == 0 || hb == 0 || ha-hb > 2 || hb-ha > 2 {
		t.Fatalf("shards held: %d and %d, want them shared about evenly", ha, hb)
	}
	probes := func() (int, int) {
		return drainFigure(t, a.Running, "cairn_rados_drain_probes_total"), drainFigure(t, b.Running, "cairn_rados_drain_probes_total")
	}
	pa, pb := probes()
	time.Sleep(2 * lease) // six passes of each gateway
	if qa, qb := probes(); qa != pa || qb != pb {
		t.Errorf("lease probes over six settled passes: %d and %d, want none", qa-pa, qb-pb)
	}
	if ha2, hb2 := held(); ha2 != ha || hb2 != hb {
		t.Errorf("shards held moved while settled: %d/%d, then %d/%d", ha, hb, ha2, hb2)
	}

	a.kill(t)
	killed := time.Now()
	for range 300 {
		if drainFigure(t, b.Running, "cairn_rados_drain_shards_held") == ha+hb {
			t.Logf("FIGURES the survivor held all %d shards %.1fs after the kill (lease %s)", ha+hb, time.Since(killed).Seconds(), lease)
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the survivor holds %d of %d shards 30 s after the kill", drainFigure(t, b.Running, "cairn_rados_drain_shards_held"), ha+hb)
}
