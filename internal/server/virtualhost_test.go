package server_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestVirtualHostedStyle drives the server with bucket.<domain> hosts, as
// SDKs do by default when given --domain. Every name resolves to the
// server's loopback address through the client's dialer.
func TestVirtualHostedStyle(t *testing.T) {
	const domain = "s3.cairn.test"
	srv := servertest.Start(t, servertest.Options{Domain: domain})
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	loopback := u.Host
	dialer := &net.Dialer{}
	httpClient := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, loopback)
		},
	}}
	c := s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String("http://" + domain + ":" + u.Port()),
		Credentials:  credentials.NewStaticCredentialsProvider(srv.RootAccessKey, srv.RootSecretKey, ""),
		HTTPClient:   httpClient,
		Retryer:      aws.NopRetryer{},
	})
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("vhost")}); err != nil {
		t.Fatalf("create bucket through bucket.%s: %v", domain, err)
	}
	body := []byte("virtual hosted")
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("vhost"), Key: aws.String("dir/k"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("vhost"), Key: aws.String("dir/k")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("read %q", got)
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("vhost")})
	if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "dir/k" {
		t.Fatalf("list through the virtual host: %+v, %v", list, err)
	}
	// The same bucket stays reachable path-style.
	pathStyle := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.RootAccessKey, srv.RootSecretKey, ""),
	})
	if _, err := pathStyle.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("vhost"), Key: aws.String("dir/k")}); err != nil {
		t.Fatalf("path-style head: %v", err)
	}
}
