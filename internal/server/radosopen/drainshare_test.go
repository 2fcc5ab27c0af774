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

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/radosopen"
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

// Two gateways share a notifying bucket's shards (the metadata object's
// too): each handles some, about half, where the first used to keep them
// all; once shared, neither tries to take a shard lease at its passes
// (cairn_rados_drain_probes_total stays flat), and every event is delivered.
func TestTwoGatewaysShareShards(t *testing.T) {
	conf := radostest.ConfPath(t)
	prefix := radostest.PoolPrefix(t, radostest.Conn(t))
	const lease = 1500 * time.Millisecond
	var gws []*servertest.Running
	for range 2 {
		gws = append(gws, servertest.Start(t, servertest.Options{
			Store:         server.StoreRados,
			Ceph:          server.CephConfig{ConfFile: conf, User: "client.admin", PoolPrefix: prefix, DrainLease: lease},
			RadosOpener:   radosopen.Open,
			Notifications: fastDelivery,
		}))
	}
	a, b := gws[0], gws[1]
	url, keys := sink(t)
	persistentBucket(t, a, "spread", url)
	var want []string
	for i := range 40 {
		key := fmt.Sprint("k", i)
		if _, err := rootClient(gws[i%2]).PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("spread"),
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
		return drainFigure(t, a, "cairn_rados_drain_shards_held"), drainFigure(t, b, "cairn_rados_drain_shards_held")
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
	pa, pb := drainFigure(t, a, "cairn_rados_drain_probes_total"), drainFigure(t, b, "cairn_rados_drain_probes_total")
	time.Sleep(2 * lease) // six passes of each gateway
	if da, db := drainFigure(t, a, "cairn_rados_drain_probes_total")-pa, drainFigure(t, b, "cairn_rados_drain_probes_total")-pb; da != 0 || db != 0 {
		t.Errorf("lease probes over six settled passes: %d and %d, want none", da, db)
	}
	if ha2, hb2 := held(); ha2 != ha || hb2 != hb {
		t.Errorf("shards held moved while settled: %d/%d, then %d/%d", ha, hb, ha2, hb2)
	}
}
