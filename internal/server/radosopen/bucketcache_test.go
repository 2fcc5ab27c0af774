//go:build rados

package radosopen_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Each gateway caches bucket records; a change through one is seen by the
// other on its very next request (watch/notify on cairn.buckets: the
// change returns once every gateway dropped the record). Versioning
// enabled through A applies to B's next PUT; a bucket deleted through A is
// NoSuchBucket on B; created again through A, B writes into the new one.
func TestTwoGatewaysShareBucketChanges(t *testing.T) {
	gws := startGateways(t, 2)
	a, b := rootClient(gws[0]), rootClient(gws[1])
	ctx := t.Context()
	bkt := aws.String("cached")
	put := func(c *s3.Client, key, body string) (*s3.PutObjectOutput, string) {
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bkt, Key: aws.String(key), Body: strings.NewReader(body)})
		return out, errorCode(err)
	}
	if _, err := a.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bkt}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	for i := range 3 { // B caches the unversioned record
		if out, code := put(b, "k", "unversioned"); code != "OK" || aws.ToString(out.VersionId) != "" {
			t.Fatalf("PUT %d through B: %s, version id %q", i, code, aws.ToString(out.VersionId))
		}
	}

	if _, err := a.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bkt,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatalf("enable versioning through A: %v", err)
	}
	out, code := put(b, "k", "versioned")
	if v := aws.ToString(out.VersionId); code != "OK" || v == "" || v == "null" {
		t.Fatalf("PUT through B after versioning was enabled through A: %s, version id %q, want a new version", code, v)
	}
	vs, err := b.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: bkt})
	if err != nil || len(vs.Versions) != 2 {
		t.Fatalf("versions listed through B: %d, %v; want the null version and the new one", len(vs.Versions), err)
	}

	// Empty the bucket through A, delete it, and B refuses it at once.
	for _, v := range vs.Versions {
		if _, err := a.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: bkt, Key: v.Key, VersionId: v.VersionId}); err != nil {
			t.Fatalf("delete version %s: %v", aws.ToString(v.VersionId), err)
		}
	}
	if _, err := a.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: bkt}); err != nil {
		t.Fatalf("delete bucket through A: %v", err)
	}
	if _, code := put(b, "k", "into a deleted bucket"); code != "NoSuchBucket" {
		t.Fatalf("PUT through B into a bucket deleted through A: %s, want NoSuchBucket", code)
	}
	if _, err := b.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: bkt}); errorCode(err) == "OK" {
		t.Fatal("HEAD through B of a bucket deleted through A succeeded")
	}

	// Created again through A (unversioned): B writes into the new bucket.
	if _, err := a.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bkt}); err != nil {
		t.Fatalf("create again through A: %v", err)
	}
	if out, code := put(b, "new", "fresh"); code != "OK" || aws.ToString(out.VersionId) != "" {
		t.Fatalf("PUT through B into the recreated bucket: %s, version id %q", code, aws.ToString(out.VersionId))
	}
	if got := get(t, a, "cached", "new"); got != "fresh" {
		t.Fatalf("A reads %q from the recreated bucket", got)
	}
}
