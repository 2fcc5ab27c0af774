//go:build rados

package radosopen_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// One gateway on RADOS serves the basics: bucket, PUT, GET, LIST,
// multipart, versioning.
func TestGatewayBasics(t *testing.T) {
	gw := startGateways(t, 1)[0]
	c := rootClient(gw)
	ctx := t.Context()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("a/one"), Body: strings.NewReader("hello")}); err != nil {
		t.Fatalf("put: %v", err)
	}
	if got := get(t, c, "bkt", "a/one"); got != "hello" {
		t.Fatalf("get: %q", got)
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("a/")})
	if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "a/one" {
		t.Fatalf("list: %+v %v", list, err)
	}

	// Multipart: two parts, the first at the 5 MiB minimum.
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	part1 := bytes.Repeat([]byte("p"), 5<<20)
	var done []s3types.CompletedPart
	for i, body := range [][]byte{part1, []byte("tail")} {
		n := int32(i + 1)
		p, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("big"), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatalf("part %d: %v", n, err)
		}
		done = append(done, s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: p.ETag})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("big"),
		UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: done}}); err != nil {
		t.Fatalf("complete: %v", err)
	}
	if got := get(t, c, "bkt", "big"); got != string(part1)+"tail" {
		t.Fatalf("multipart object: %d bytes", len(got))
	}

	// Versioning: two versions, the older one readable by id.
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("bkt"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatalf("versioning: %v", err)
	}
	v1, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("v"), Body: strings.NewReader("one")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("v"), Body: strings.NewReader("two")}); err != nil {
		t.Fatalf("put v2: %v", err)
	}
	old, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("v"), VersionId: v1.VersionId})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(old.Body); string(b) != "one" {
		t.Fatalf("version 1: %q", b)
	}
	vs, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("bkt"), Prefix: aws.String("v")})
	if err != nil || len(vs.Versions) != 2 {
		t.Fatalf("versions: %+v %v", vs, err)
	}

	// Ceph deep-scrubs the objects: Cairn's own scrub is not offered.
	if code, body := admin(t, gw, http.MethodPost, "/admin/scrub"); code != http.StatusNotImplemented {
		t.Errorf("POST /admin/scrub on RADOS: %d %s, want 501", code, body)
	}
}

// A PUT through one gateway is read through the other at once, and a
// listing there shows it.
func TestTwoGatewaysReadAfterWrite(t *testing.T) {
	gws := startGateways(t, 2)
	a, b := rootClient(gws[0]), rootClient(gws[1])
	ctx := t.Context()
	if _, err := a.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("shared")}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	for i := range 20 {
		body := strings.Repeat("x", i*1000)
		if _, err := a.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("shared"), Key: aws.String("k"), Body: strings.NewReader(body)}); err != nil {
			t.Fatalf("put: %v", err)
		}
		if got := get(t, b, "shared", "k"); got != body {
			t.Fatalf("round %d: the other gateway read %d bytes, want %d", i, len(got), len(body))
		}
	}
	list, err := b.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("shared")})
	if err != nil || len(list.Contents) != 1 {
		t.Fatalf("list through the other gateway: %+v %v", list, err)
	}
}

// 200 concurrent If-None-Match: * PUTs of one key, spread over two
// gateways: exactly one wins, every other is 412 PreconditionFailed.
func TestTwoGatewaysIfNoneMatchOneWinner(t *testing.T) {
	gws := startGateways(t, 2)
	clients := []*s3.Client{rootClient(gws[0]), rootClient(gws[1])}
	ctx := t.Context()
	if _, err := clients[0].CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("race")}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	const n = 200
	var wg sync.WaitGroup
	codes := make([]string, n)
	for i := range n {
		wg.Go(func() {
			_, err := clients[i%2].PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("race"), Key: aws.String("once"),
				Body: strings.NewReader("writer " + string(rune('a'+i%26))), IfNoneMatch: aws.String("*")})
			codes[i] = errorCode(err)
		})
	}
	wg.Wait()
	count := map[string]int{}
	for _, c := range codes {
		count[c]++
	}
	if count["OK"] != 1 || count["PreconditionFailed"] != n-1 {
		t.Fatalf("outcomes %v: want exactly one OK and %d PreconditionFailed", count, n-1)
	}
}

func get(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// errorCode is the S3 error code of err, "OK" for nil.
func errorCode(err error) string {
	if err == nil {
		return "OK"
	}
	if ae, ok := errors.AsType[smithy.APIError](err); ok {
		return ae.ErrorCode()
	}
	return err.Error()
}
