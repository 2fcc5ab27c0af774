//go:build rados

package radosopen_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/radosopen"
	"github.com/cairn-s3/cairn/internal/server/servertest"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// A pool at its quota refuses new data with the local store's 507
// XMinioStorageFull at once (librados would otherwise pause the write
// until space returns), while reads and deletes keep working; lifting the
// quota lets PUTs through again.
func TestGatewayPoolQuotaFull(t *testing.T) {
	conn := radostest.Conn(t)
	prefix := radostest.PoolPrefix(t, conn)
	gw := servertest.Start(t, servertest.Options{
		Store:       server.StoreRados,
		Ceph:        server.CephConfig{ConfFile: radostest.ConfPath(t), User: "client.admin", PoolPrefix: prefix},
		RadosOpener: radosopen.Open,
	})
	pool := prefix + ".cairn"
	c := boundedClient(gw, 30*time.Second)
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("full")}); err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("k"), 5<<20) // striped: data objects besides the index
	for _, key := range []string{"keep-small", "keep-big"} {
		body := []byte("small body")
		if key == "keep-big" {
			body = big
		}
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("full"), Key: aws.String(key),
			Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}

	setQuota(t, conn, pool, 1)
	t.Cleanup(func() { setQuota(t, conn, pool, 0) })
	// The monitor flags the pool full once the OSDs' statistics reach it.
	// Striped, yet small enough that the server drains what it does not
	// read when it refuses early (more would reset the connection).
	striped := big[:200<<10]
	code := waitPutOutcome(t, c, "XMinioStorageFull", striped)
	t.Logf("PUT on a full pool: %s", code)
	for _, body := range [][]byte{[]byte("tiny"), striped} { // inline in the index, and striped
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("full"), Key: aws.String("more"),
			Body: bytes.NewReader(body)})
		if errorCode(err) != "XMinioStorageFull" || httpStatus(err) != http.StatusInsufficientStorage {
			t.Fatalf("PUT of %d bytes on a full pool: %v, want 507 XMinioStorageFull", len(body), err)
		}
	}
	if got := get(t, c, "full", "keep-small"); got != "small body" {
		t.Fatalf("GET on a full pool: %q", got)
	}
	for _, key := range []string{"keep-small", "keep-big"} {
		if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("full"), Key: aws.String(key)}); err != nil {
			t.Fatalf("DELETE %s on a full pool: %v", key, err)
		}
	}
	_, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("full"), Key: aws.String("keep-big")})
	if httpStatus(err) != http.StatusNotFound {
		t.Fatalf("HEAD of a deleted object: %v, want 404", err)
	}

	setQuota(t, conn, pool, 0)
	waitPutOutcome(t, c, "OK", []byte("again"))
}

// setQuota sets the pool's max_bytes quota (0: none).
func setQuota(t *testing.T, conn interface {
	MonCommand([]byte) ([]byte, string, error)
}, pool string, maxBytes int) {
	t.Helper()
	cmd := fmt.Sprintf(`{"prefix":"osd pool set-quota","pool":%q,"field":"max_bytes","val":"%d"}`, pool, maxBytes)
	if _, info, err := conn.MonCommand([]byte(cmd)); err != nil {
		t.Fatalf("set quota of %s: %v (%s)", pool, err, info)
	}
}

// waitPutOutcome PUTs body, bounded in count and time, until a PUT
// answers want ("OK" or an error code), failing on any other outcome but
// the two expected around a quota change.
func waitPutOutcome(t *testing.T, c *s3.Client, want string, body []byte) string {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for i := 0; time.Now().Before(deadline) && i < 300; i++ {
		_, err := c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("full"),
			Key: aws.String(fmt.Sprintf("fill-%d", i)), Body: bytes.NewReader(body)})
		code := errorCode(err)
		if code == want {
			return code
		}
		if code != "OK" && code != "XMinioStorageFull" {
			t.Fatalf("PUT %d: %v (want OK or XMinioStorageFull)", i, err)
		}
		time.Sleep(300 * time.Millisecond)
	}
	t.Fatalf("no PUT answered %s within 90 s", want)
	return ""
}

// boundedClient is an S3 client with no retries whose requests give up
// after limit (a hung request shows as a failure, not a hung test).
func boundedClient(gw *servertest.Running, limit time.Duration) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(gw.URL), UsePathStyle: true,
		Credentials: rootClient(gw).Options().Credentials,
		Retryer:     aws.NopRetryer{},
		HTTPClient:  awshttp.NewBuildableClient().WithTimeout(limit),
	})
}

// httpStatus is the HTTP status of an SDK error (0 if none).
func httpStatus(err error) int {
	if re, ok := errors.AsType[*awshttp.ResponseError](err); ok {
		return re.HTTPStatusCode()
	}
	return 0
}
