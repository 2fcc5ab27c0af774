package cli

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestAdminLC: `cairn admin lc process --bucket B` runs a pass now (a rule
// whose date has passed removes the object before it returns), and `lc
// list` shows the bucket's pass and what it removed; a missing bucket
// fails with NoSuchBucket.
func TestAdminLC(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{Lifecycle: server.LifecycleConfig{DebugInterval: 24 * time.Hour}})
	vars, admin := s3Env(srv), adminEnv(srv)
	ok(t, vars, "mb", "s3://lcb")
	ok(t, vars, "mb", "s3://nolc")
	ctx := context.Background()
	s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.RootAccessKey, srv.RootSecretKey, "")})
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lcb"), Key: aws.String("old"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("lcb"),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID: aws.String("past"), Status: s3types.ExpirationStatusEnabled, Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String("")},
			Expiration: &s3types.LifecycleExpiration{Date: aws.Time(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))}}}}}); err != nil {
		t.Fatal(err)
	}
	ok(t, admin, "admin", "lc", "process", "--bucket", "lcb")
	if _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("lcb"), Key: aws.String("old")}); err == nil {
		t.Error("the expired object is still there after lc process")
	}
	var doc struct {
		Buckets []struct {
			Bucket       string `json:"bucket"`
			Status       string `json:"status"`
			TotalRemoved int64  `json:"total_objects_removed"`
		} `json:"buckets"`
	}
	decode(t, ok(t, admin, "admin", "lc", "list"), &doc)
	if len(doc.Buckets) != 1 || doc.Buckets[0].Bucket != "lcb" || doc.Buckets[0].Status != "COMPLETE" || doc.Buckets[0].TotalRemoved != 1 {
		t.Errorf("lc list: %+v, want lcb COMPLETE with 1 removed (and no bucket without rules)", doc.Buckets)
	}
	fails(t, admin, "NoSuchBucket", "admin", "lc", "process", "--bucket", "missing")
}
