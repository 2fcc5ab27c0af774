//go:build rados

package radosopen_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/radosopen"
	"github.com/cairn-s3/cairn/internal/server/servertest"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// TestLifecycleTwoGateways: two gateways on one pool both run the
// lifecycle worker (a 1 s day) and forced passes; they step one at a time
// under the pool's lock and share the cursors, so each expiring current
// version of a versioned bucket gets exactly one delete marker.
func TestLifecycleTwoGateways(t *testing.T) {
	conf := radostest.ConfPath(t)
	prefix := radostest.PoolPrefix(t, radostest.Conn(t))
	var gws []*servertest.Running
	for range 2 {
		gws = append(gws, servertest.Start(t, servertest.Options{
			Store: server.StoreRados, Ceph: server.CephConfig{ConfFile: conf, User: "client.admin", PoolPrefix: prefix},
			RadosOpener: radosopen.Open, Lifecycle: server.LifecycleConfig{DebugInterval: time.Second, PageSize: 4},
		}))
	}
	c := rootClient(gws[0])
	ctx := context.Background()
	const b, n = "lc-two", 12
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(fmt.Sprintf("k%02d", i)),
			Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String(b),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID: aws.String("cur"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}}}}}); err != nil {
		t.Fatal(err)
	}
	markers := func() map[string]int {
		out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(b)})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]int{}
		for _, d := range out.DeleteMarkers {
			m[aws.ToString(d.Key)]++
		}
		return m
	}
	deadline := time.Now().Add(60 * time.Second)
	for len(markers()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("markers %v: not every key expired within 60s", markers())
		}
		time.Sleep(100 * time.Millisecond)
	}
	// More passes, forced on both at once, beside the scheduled ones.
	var wg sync.WaitGroup
	codes := make([]int, 2*len(gws))
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = processStatus(gws[i%len(gws)], b)
		}()
	}
	wg.Wait()
	for _, code := range codes {
		if code != http.StatusOK {
			t.Errorf("lc process: %d", code)
		}
	}
	for k, count := range markers() {
		if count != 1 {
			t.Errorf("%s has %d delete markers, want 1", k, count)
		}
	}
}

// processStatus runs POST /admin/lc?process on gw (from any goroutine).
func processStatus(gw *servertest.Running, bucket string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, gw.URL+"/admin/lc?process&bucket="+bucket, nil)
	if err != nil {
		return 0
	}
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	creds := aws.Credentials{AccessKeyID: gw.RootAccessKey, SecretAccessKey: gw.RootSecretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
		return 0
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
