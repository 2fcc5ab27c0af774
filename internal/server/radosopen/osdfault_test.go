//go:build rados

package radosopen_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/radosopen"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// OSD faults under load, on a cluster of this test's own (the shared one
// must stay healthy for the other tests): one gateway, 8 PUT streams of
// 64 KiB–1 MiB objects each reading back an earlier object after every PUT.
// Neither a graceful stop nor a kill -9 of one of the three OSDs (size 3,
// min_size 2) may fail a request: with no SDK retries and generous HTTP
// timeouts, a failure is the gateway's. Requests may stall while a killed
// or hung OSD is not yet marked down (heartbeat grace 5 s); the stalls are
// logged.
// Every acknowledged object reads back with its bytes, and the restarted
// OSD brings the cluster back to active+clean.
func TestOSDFaultsUnderLoad(t *testing.T) {
	cl := startOwnCluster(t)
	gw := servertest.Start(t, servertest.Options{
		Store:       server.StoreRados,
		Ceph:        server.CephConfig{ConfFile: cl.conf(), User: "client.admin", PoolPrefix: "cairn-faults-"},
		RadosOpener: radosopen.Open,
	})
	c := patientClient(gw)
	if _, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("faults")}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	t.Run("GracefulStop", func(t *testing.T) { osdFault(t, cl, c, "osd-stop", "osd-start", 1) })
	t.Run("Kill", func(t *testing.T) { osdFault(t, cl, c, "osd-kill", "osd-start", 2) })
	// A killed OSD's peers are refused connections and report it at once;
	// a hung one is found only by the heartbeat grace: the longest stall.
	t.Run("Freeze", func(t *testing.T) { osdFault(t, cl, c, "osd-freeze", "osd-thaw", 0) })
}

// osdFault runs the load, applies action to OSD id once the load is going,
// keeps the load on until the OSD is down and the cluster has taken a
// round of PUTs more, then brings the OSD back with restore and checks
// everything.
func osdFault(t *testing.T, cl *ownCluster, c *s3.Client, action, restore string, id int) {
	load := &faultLoad{c: c, bucket: "faults", prefix: action, acked: map[string][32]byte{}}
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); load.run(ctx, stop) }()

	waitPuts(t, &load.puts, 2*faultWriters, done)
	faultAt := time.Now()
	cl.osd(t, action, id)
	down := cl.waitOSDDown(t, id)
	t.Logf("%s osd.%d at %s; marked down %.1fs later", action, id, faultAt.Format("15:04:05.000"), down.Seconds())
	waitPuts(t, &load.puts, load.puts.Load()+4*faultWriters, done)
	close(stop)
	<-done

	for _, s := range load.slow {
		t.Logf("slowest: %s took %v (started %.1fs after the fault)", s.what, s.took.Round(time.Millisecond), s.at.Sub(faultAt).Seconds())
	}
	for _, f := range load.failed {
		t.Errorf("failed under %s: %s", action, f)
	}
	load.verifyAll(t)
	cl.osd(t, restore, id)
	cl.waitClean(t)
	load.verifyAll(t)
}

// waitPuts waits until at least n PUTs were acknowledged or the load ended.
func waitPuts(t *testing.T, puts *atomic.Int64, n int64, done <-chan struct{}) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for puts.Load() < n {
		select {
		case <-done:
			t.Fatalf("the load ended after %d acknowledged PUTs, before %d", puts.Load(), n)
		case <-tick.C:
		}
	}
}

// patientClient is an aws-sdk-go-v2 client with no retries (a failed
// request shows) and HTTP timeouts far above any stall a fault may cause.
func patientClient(gw *servertest.Running) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(gw.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(gw.RootAccessKey, gw.RootSecretKey, ""),
		Retryer:     aws.NopRetryer{},
		HTTPClient:  awshttp.NewBuildableClient().WithTimeout(2 * time.Minute),
	})
}
