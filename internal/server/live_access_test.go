package server_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/cairn-s3/cairn/internal/server"
)

// TestLiveMinioListenAccessed listens with mc watch's default event set
// (put, delete, get): the stream accepts s3:ObjectAccessed:* and a GET and
// a HEAD of an object arrive as ObjectAccessed:Get and :Head, between the
// writes around them; a failed read reports nothing.
func TestLiveMinioListenAccessed(t *testing.T) {
	const bucket = "live-reads"
	g := startLive(t, server.LiveConfig{}, bucket)
	u, _ := url.Parse(g.srv.URL)
	mc, err := minio.New(u.Host, &minio.Options{Creds: miniocreds.NewStaticV4(g.srv.RootAccessKey, g.srv.RootSecretKey, ""),
		Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// mc sends put, delete, get in that order; sorted here, as the
	// signature of repeated query values in any order is another item's.
	ch := mc.ListenBucketNotification(ctx, bucket, "", "",
		[]string{"s3:ObjectAccessed:*", "s3:ObjectCreated:*", "s3:ObjectRemoved:*"})
	waitListeners(t, g.srv.Server, 1)

	g.put(t, bucket, "k", "hello")
	out, err := g.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	if _, err := g.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("missing")}); err == nil {
		t.Fatal("GET of a missing key succeeded")
	}
	g.put(t, bucket, "end", "x")

	nextEvents(t, ch, bucket, []listenWant{
		{"ObjectCreated:Put", "k", 5}, {"ObjectAccessed:Get", "k", 5}, {"ObjectAccessed:Head", "k", 5}, {"ObjectCreated:Put", "end", -1},
	})
}
