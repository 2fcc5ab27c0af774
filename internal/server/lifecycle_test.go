package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// lcNever is a lifecycle of real days: within a test, nothing is due.
var lcNever = server.LifecycleConfig{DebugInterval: 24 * time.Hour}

// TestLifecycleExpirationFilters: in an unversioned bucket, Expiration
// removes exactly the objects its filters select (prefix, tag, And of
// prefix and tags, size bounds), and a disabled rule removes nothing.
func TestLifecycleExpirationFilters(t *testing.T) {
	g := startLCGateway(t, servertest.Options{})
	b := newName("lc-filters")
	g.mkBucket(t, b, false)
	g.putLifecycle(t, b,
		expireRule("logs", "logs/", 1),
		s3types.LifecycleRule{ID: aws.String("tagged"), Status: s3types.ExpirationStatusEnabled,
			Filter:     &s3types.LifecycleRuleFilter{Tag: &s3types.Tag{Key: aws.String("tmp"), Value: aws.String("yes")}},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}},
		s3types.LifecycleRule{ID: aws.String("and"), Status: s3types.ExpirationStatusEnabled,
			Filter: &s3types.LifecycleRuleFilter{And: &s3types.LifecycleRuleAndOperator{Prefix: aws.String("and/"),
				Tags: []s3types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}}}},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}},
		s3types.LifecycleRule{ID: aws.String("size"), Status: s3types.ExpirationStatusEnabled,
			Filter: &s3types.LifecycleRuleFilter{And: &s3types.LifecycleRuleAndOperator{Prefix: aws.String("size/"),
				ObjectSizeGreaterThan: aws.Int64(10), ObjectSizeLessThan: aws.Int64(100)}},
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}},
		s3types.LifecycleRule{ID: aws.String("off"), Status: s3types.ExpirationStatusDisabled, Filter: prefixFilter("off/"),
			Expiration: &s3types.LifecycleExpiration{Days: aws.Int32(1)}},
	)
	gone := []string{"logs/a", "logs/b", "t/x", "and/both", "size/mid"}
	stay := []string{"other/a", "t/y", "and/one", "size/small", "size/large", "off/a"}
	for _, k := range gone {
		tags := ""
		switch k {
		case "t/x":
			tags = "tmp=yes"
		case "and/both":
			tags = "a=1&b=2"
		}
		g.put(t, b, k, body(k), tags)
	}
	g.put(t, b, "other/a", "x", "")
	g.put(t, b, "t/y", "x", "tmp=no")
	g.put(t, b, "and/one", "x", "a=1")
	g.put(t, b, "size/small", "0123456789", "")             // 10: not greater than 10
	g.put(t, b, "size/large", strings.Repeat("x", 100), "") // 100: not less than 100
	g.put(t, b, "off/a", "x", "")
	for _, k := range gone {
		lcWaitFor(t, "expiration of "+k, func() bool { return !g.exists(t, b, k) })
	}
	lcProcess(t, g.srv, b) // one more whole pass: what stays, stays
	for _, k := range stay {
		if !g.exists(t, b, k) {
			t.Errorf("%s was removed; no enabled rule selects it", k)
		}
	}
	if st := lcList(t, g.srv)[b]; st.TotalRemoved != int64(len(gone)) || st.Status == "" {
		t.Errorf("lc list %s: %+v, want %d removed in total", b, st, len(gone))
	}
	resp, text := send(t, rootCreds(g.srv), newRequest(t, http.MethodGet, g.srv.URL+"/metrics", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	var size int
	for _, k := range gone {
		size += len(body(k))
	}
	for _, want := range []string{
		fmt.Sprintf(`cairn_lifecycle_objects_total{action="expire"} %d`, len(gone)),
		fmt.Sprintf(`cairn_lifecycle_bytes_total{action="expire"} %d`, size),
	} {
		if !strings.Contains(string(text), want+"\n") {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// body returns a 50-byte body (the size rule's middle) for size/mid.
func body(k string) string {
	if k == "size/mid" {
		return strings.Repeat("m", 50)
	}
	return "data of " + k
}

// TestLifecycleExpirationHeader: PUT, GET, HEAD, CopyObject and
// CompleteMultipartUpload answer x-amz-expiration
// with the date S3 computes (midnight UTC after the rule's days) and the
// rule's id, for objects a rule expires, and nothing for others.
func TestLifecycleExpirationHeader(t *testing.T) {
	g := startLCGateway(t, servertest.Options{Lifecycle: lcNever})
	b := newName("lc-header")
	g.mkBucket(t, b, false)
	g.putLifecycle(t, b, expireRule("rule-7", "logs/", 7))
	ctx := context.Background()
	// want is what S3 answers for key: midnight UTC after its mtime + 7 days.
	want := func(key string) string {
		head, err := g.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		day := aws.ToTime(head.LastModified).UTC().Add(7 * 24 * time.Hour).Truncate(24 * time.Hour).Add(24 * time.Hour)
		return `expiry-date="` + day.Format(http.TimeFormat) + `", rule-id="rule-7"`
	}
	check := func(op, key, got string) {
		t.Helper()
		if w := want(key); got != w {
			t.Errorf("%s x-amz-expiration = %q, want %q", op, got, w)
		}
	}
	put, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("logs/a"), Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	check("PUT", "logs/a", aws.ToString(put.Expiration))
	head, err := g.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("logs/a")})
	if err != nil {
		t.Fatal(err)
	}
	check("HEAD", "logs/a", aws.ToString(head.Expiration))
	obj, err := g.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("logs/a")})
	if err != nil {
		t.Fatal(err)
	}
	obj.Body.Close()
	check("GET", "logs/a", aws.ToString(obj.Expiration))
	cp, err := g.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("logs/copy"), CopySource: aws.String(b + "/logs/a")})
	if err != nil {
		t.Fatal(err)
	}
	check("CopyObject", "logs/copy", aws.ToString(cp.Expiration))
	check("CompleteMultipartUpload", "logs/mp", completeExpiration(t, g, b, "logs/mp"))
	g.put(t, b, "other", "x", "")
	head, err = g.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("other")})
	if err != nil {
		t.Fatal(err)
	}
	if head.Expiration != nil {
		t.Errorf("HEAD other: x-amz-expiration = %q, want none", *head.Expiration)
	}
}

// completeExpiration uploads key in one part and returns the completion's
// x-amz-expiration.
func completeExpiration(t *testing.T, g *gateway, bucket, key string) string {
	t.Helper()
	ctx := context.Background()
	up, err := g.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	part, err := g.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := g.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{PartNumber: aws.Int32(1), ETag: part.ETag}}}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Expiration)
}
