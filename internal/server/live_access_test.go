package server_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

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

	want := []struct{ name, key string }{
		{"ObjectCreated:Put", "k"}, {"ObjectAccessed:Get", "k"}, {"ObjectAccessed:Head", "k"}, {"ObjectCreated:Put", "end"},
	}
	for _, w := range want {
		select {
		case info, ok := <-ch:
			if !ok {
				t.Fatal("stream closed")
			}
			if info.Err != nil {
				t.Fatalf("listen: %v", info.Err)
			}
			if len(info.Records) != 1 {
				t.Fatalf("got %d records, want 1", len(info.Records))
			}
			r := info.Records[0]
			if !strings.HasSuffix(r.EventName, w.name) || r.S3.Object.Key != w.key {
				t.Fatalf("got %s %s, want %s %s", r.EventName, r.S3.Object.Key, w.name, w.key)
			}
			if w.key == "k" && r.S3.Object.Size != 5 {
				t.Errorf("%s: size %d, want 5", w.name, r.S3.Object.Size)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no event for %s %s", w.name, w.key)
		}
	}
}
