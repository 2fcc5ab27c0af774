package server_test

// Helpers of the lifecycle tests: a gateway whose lifecycle day lasts one
// second (--lc-debug-interval 1), bounded waits, and the admin lc calls.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// lcDay is the lifecycle day of the tests: a rule of 1 day acts one
// second after the object's creation.
const lcDay = time.Second

// lcWait bounds every wait for the worker.
const lcWait = 30 * time.Second

func startLCGateway(t *testing.T, opts servertest.Options) *gateway {
	t.Helper()
	if opts.Lifecycle.DebugInterval == 0 {
		opts.Lifecycle.DebugInterval = lcDay
	}
	opts.Notifications = fastRetries
	return startGatewayWith(t, opts)
}

// putLifecycle sets a bucket's lifecycle rules.
func (g *gateway) putLifecycle(t *testing.T, bucket string, rules ...s3types.LifecycleRule) {
	t.Helper()
	if _, err := g.s3.PutBucketLifecycleConfiguration(context.Background(), &s3.PutBucketLifecycleConfigurationInput{
		Bucket: aws.String(bucket), LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules},
	}); err != nil {
		t.Fatalf("PutBucketLifecycleConfiguration %s: %v", bucket, err)
	}
}

func (g *gateway) mkBucket(t *testing.T, name string, versioned bool) {
	t.Helper()
	ctx := context.Background()
	if _, err := g.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", name, err)
	}
	if versioned {
		if _, err := g.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(name),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			t.Fatalf("PutBucketVersioning %s: %v", name, err)
		}
	}
}

func (g *gateway) put(t *testing.T, bucket, key, body string, tagging string) *s3.PutObjectOutput {
	t.Helper()
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}
	if tagging != "" {
		in.Tagging = aws.String(tagging)
	}
	out, err := g.s3.PutObject(context.Background(), in)
	if err != nil {
		t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
	}
	return out
}

// exists reports whether the key has a current version.
func (g *gateway) exists(t *testing.T, bucket, key string) bool {
	t.Helper()
	_, err := g.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	var nf *s3types.NotFound
	if errors.As(err, &nf) {
		return false
	}
	if err != nil {
		t.Fatalf("HeadObject %s/%s: %v", bucket, key, err)
	}
	return true
}

// entry is one version or delete marker of a listing.
type entry struct {
	key, id string
	marker  bool
	latest  bool
}

func (g *gateway) versions(t *testing.T, bucket, prefix string) []entry {
	t.Helper()
	out, err := g.s3.ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatalf("ListObjectVersions %s: %v", bucket, err)
	}
	var es []entry
	for _, v := range out.Versions {
		es = append(es, entry{key: aws.ToString(v.Key), id: aws.ToString(v.VersionId), latest: aws.ToBool(v.IsLatest)})
	}
	for _, m := range out.DeleteMarkers {
		es = append(es, entry{key: aws.ToString(m.Key), id: aws.ToString(m.VersionId), marker: true, latest: aws.ToBool(m.IsLatest)})
	}
	return es
}

// lcWaitFor polls cond until it holds, failing after lcWait.
func lcWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(lcWait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, lcWait)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lcStatus is one bucket of GET /admin/lc.
type lcStatus struct {
	Bucket, Tenant, Status string
	Started                time.Time
	Removed                int64 `json:"objects_removed"`
	Transitioned           int64 `json:"objects_transitioned"`
	Aborted                int64 `json:"uploads_aborted"`
	TotalRemoved           int64 `json:"total_objects_removed"`
}

func lcList(t *testing.T, srv *servertest.Running) map[string]lcStatus {
	t.Helper()
	resp, body := send(t, rootCreds(srv), newRequest(t, http.MethodGet, srv.URL+"/admin/lc", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /admin/lc: %d %s", resp.StatusCode, body)
	}
	var doc struct{ Buckets []lcStatus }
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("GET /admin/lc: %v: %s", err, body)
	}
	out := map[string]lcStatus{}
	for _, s := range doc.Buckets {
		out[s.Bucket] = s
	}
	return out
}

// lcProcess runs a pass over bucket now (POST /admin/lc?process).
func lcProcess(t *testing.T, srv *servertest.Running, bucket string) {
	t.Helper()
	resp, body := send(t, rootCreds(srv), newRequest(t, http.MethodPost, srv.URL+"/admin/lc?process&bucket="+bucket, nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /admin/lc?process: %d %s", resp.StatusCode, body)
	}
}

func prefixFilter(p string) *s3types.LifecycleRuleFilter {
	return &s3types.LifecycleRuleFilter{Prefix: aws.String(p)}
}

func expireRule(id, prefix string, days int32) s3types.LifecycleRule {
	return s3types.LifecycleRule{ID: aws.String(id), Status: s3types.ExpirationStatusEnabled, Filter: prefixFilter(prefix),
		Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(days)}}
}

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
