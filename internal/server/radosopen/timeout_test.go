//go:build rados

package radosopen_test

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/radosopen"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// A cluster that stops answering makes requests fail with a clear 503
// within the gateway's timeouts instead of hanging: every OSD hung (an
// object operation waits --ceph-osd-timeout), the only monitor stopped
// (the cluster status waits --ceph-mon-timeout). Once the cluster is back,
// so is the gateway. On a cluster of this test's own: it stops daemons.
func TestGatewayClusterTimeouts(t *testing.T) {
	cl := startOwnCluster(t)
	gw := servertest.Start(t, servertest.Options{
		Store: server.StoreRados,
		Ceph: server.CephConfig{ConfFile: cl.conf(), User: "client.admin", PoolPrefix: "cairn-timeouts-",
			MonTimeout: 3 * time.Second, OSDTimeout: 4 * time.Second},
		RadosOpener: radosopen.Open,
	})
	// Far above the timeouts: a request that hangs fails the test.
	c := boundedClient(gw, time.Minute)
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("timeouts")}); err != nil {
		t.Fatal(err)
	}
	put := func(key string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("timeouts"), Key: aws.String(key),
			Body: bytes.NewReader([]byte("body of " + key))})
		return err
	}
	if err := put("before"); err != nil {
		t.Fatal(err)
	}

	t.Run("OSDsHung", func(t *testing.T) {
		for id := range 3 {
			cl.run(t, time.Minute, "osd-freeze", cl.dir, strconv.Itoa(id))
		}
		start := time.Now()
		err := put("while-hung")
		t.Logf("PUT with every OSD hung: %v after %.1fs", err, time.Since(start).Seconds())
		for id := range 3 {
			cl.run(t, time.Minute, "osd-thaw", cl.dir, strconv.Itoa(id))
		}
		if errorCode(err) != "ServiceUnavailable" || httpStatus(err) != http.StatusServiceUnavailable {
			t.Fatalf("PUT with every OSD hung: %v, want 503 ServiceUnavailable", err)
		}
	})
	cl.waitClean(t)
	if err := put("after-osds"); err != nil {
		t.Fatalf("PUT once the OSDs are back: %v", err)
	}

	t.Run("MonDown", func(t *testing.T) {
		cl.run(t, time.Minute, "mon-stop", cl.dir)
		start := time.Now()
		status, body := admin(t, gw, http.MethodGet, "/admin/cluster")
		t.Logf("cluster status with no monitor: %d %s after %.1fs", status, body, time.Since(start).Seconds())
		// Object operations need no monitor while the OSD map holds.
		putErr := put("mon-down")
		t.Logf("PUT with no monitor: %v", putErr)
		cl.run(t, time.Minute, "mon-start", cl.dir)
		if status != http.StatusServiceUnavailable || !strings.Contains(body, "--ceph-mon-timeout") {
			t.Fatalf("cluster status with no monitor: %d %s, want 503 naming --ceph-mon-timeout", status, body)
		}
		if c := errorCode(putErr); c != "OK" && c != "ServiceUnavailable" {
			t.Fatalf("PUT with no monitor: %v, want success or 503", putErr)
		}
	})
	cl.waitClean(t)
	if status, body := admin(t, gw, http.MethodGet, "/admin/cluster"); status != http.StatusOK {
		t.Fatalf("cluster status once the monitor is back: %d %s", status, body)
	}
	if got := get(t, c, "timeouts", "before"); got != "body of before" {
		t.Fatalf("GET after the faults: %q", got)
	}
}
