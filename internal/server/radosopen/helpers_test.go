//go:build rados

package radosopen_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/ceph/go-ceph/rados"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/radosopen"
	"github.com/cairn-s3/cairn/internal/server/servertest"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// startGateways starts n gateways (real servers on loopback) on one fresh
// pool of the test cluster, as `cairn server --store rados` would; the
// pool is deleted when the test ends.
func startGateways(t testing.TB, n int) []*servertest.Running {
	t.Helper()
	return startGatewaysWith(t, n, server.NotificationConfig{})
}

// startGatewaysWith is startGateways with notification settings.
func startGatewaysWith(t testing.TB, n int, nc server.NotificationConfig) []*servertest.Running {
	t.Helper()
	gws, _ := startGatewaysOn(t, radostest.Conn(t), n, nc)
	return gws
}

// startGatewaysInPool is startGateways that also opens the gateways' pool
// on conn, for tests that watch or read its objects directly.
func startGatewaysInPool(t testing.TB, conn *rados.Conn, n int) ([]*servertest.Running, *rados.IOContext) {
	t.Helper()
	gws, prefix := startGatewaysOn(t, conn, n, server.NotificationConfig{})
	ioctx, err := conn.OpenIOContext(prefix + ".cairn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ioctx.Destroy)
	return gws, ioctx
}

// startGatewaysOn starts n gateways on a fresh pool prefix created
// through conn, which it returns.
func startGatewaysOn(t testing.TB, conn *rados.Conn, n int, nc server.NotificationConfig) ([]*servertest.Running, string) {
	t.Helper()
	conf := radostest.ConfPath(t)
	prefix := radostest.PoolPrefix(t, conn)
	gws := make([]*servertest.Running, n)
	for i := range gws {
		gws[i] = servertest.Start(t, servertest.Options{
			Store:         server.StoreRados,
			Ceph:          server.CephConfig{ConfFile: conf, User: "client.admin", PoolPrefix: prefix},
			RadosOpener:   radosopen.Open,
			Notifications: nc,
		})
	}
	return gws, prefix
}

// client is an aws-sdk-go-v2 S3 client of gw signing with creds.
func client(gw *servertest.Running, ak, sk string) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(gw.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
		Retryer:     aws.NopRetryer{},
	})
}

func rootClient(gw *servertest.Running) *s3.Client {
	return client(gw, gw.RootAccessKey, gw.RootSecretKey)
}

// admin sends a signed admin API request as root and returns status and body.
func admin(t *testing.T, gw *servertest.Running, method, pathQuery string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	resp := rootDo(t, ctx, gw, method, pathQuery)
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// rootDo sends a bodiless request to gw signed (SigV4) as root.
func rootDo(t *testing.T, ctx context.Context, gw *servertest.Running, method, pathQuery string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, gw.URL+pathQuery, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
	creds := aws.Credentials{AccessKeyID: gw.RootAccessKey, SecretAccessKey: gw.RootSecretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, pathQuery, err)
	}
	return resp
}
