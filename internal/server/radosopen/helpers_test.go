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
	conf := radostest.ConfPath(t)
	prefix := radostest.PoolPrefix(t, radostest.Conn(t))
	gws := make([]*servertest.Running, n)
	for i := range gws {
		gws[i] = servertest.Start(t, servertest.Options{
			Store:         server.StoreRados,
			Ceph:          server.CephConfig{ConfFile: conf, User: "client.admin", PoolPrefix: prefix},
			RadosOpener:   radosopen.Open,
			Notifications: nc,
		})
	}
	return gws
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
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
