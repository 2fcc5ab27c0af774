package s3api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func putPolicy(t *testing.T, c *s3.Client, bucket, doc string) error {
	t.Helper()
	_, err := c.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc)})
	return err
}

func TestBucketPolicyCRUD(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "pol-crud")
	_, err := ts.Root.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("pol-crud")})
	wantErr(t, err, "NoSuchBucketPolicy", http.StatusNotFound)

	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:ListBucket","Resource":["arn:aws:s3:::pol-crud","arn:aws:s3:::pol-crud/*"]}]}`
	if err := putPolicy(t, ts.Root, "pol-crud", doc); err != nil {
		t.Fatal(err)
	}
	out, err := ts.Root.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("pol-crud")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(out.Policy); got != doc {
		t.Errorf("policy = %s, want %s", got, doc)
	}
	// Others may not read or change the policy, even when it lets them list.
	_, err = ts.Alt.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("pol-crud")})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)

	for _, bad := range []string{`not json`, `{"Statement":[]}`,
		`{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::t:root"},"Action":"s3:*","Resource":"*"}}`} {
		wantErr(t, putPolicy(t, ts.Root, "pol-crud", bad), "MalformedPolicy", http.StatusBadRequest)
	}
	if _, err := ts.Root.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("pol-crud")}); err != nil {
		t.Fatal(err)
	}
	_, err = ts.Root.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("pol-crud")})
	wantErr(t, err, "NoSuchBucketPolicy", http.StatusNotFound)
}

func TestBucketPolicyAuthorization(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "pol-auth")
	ts.PutObject(t, ts.Root, "pol-auth", "public/a", []byte("a"))
	ts.PutObject(t, ts.Root, "pol-auth", "private/b", []byte("b"))
	anon := ts.AnonymousClient()
	get := func(c *s3.Client, key string) error {
		out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pol-auth"), Key: aws.String(key)})
		if err == nil {
			readAll(t, out.Body)
		}
		return err
	}
	list := func(c *s3.Client) error {
		_, err := c.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("pol-auth")})
		return err
	}

	// No policy: the private bucket is closed to others.
	wantErr(t, get(ts.Alt, "public/a"), "AccessDenied", http.StatusForbidden)
	wantErr(t, get(anon, "public/a"), "AccessDenied", http.StatusForbidden)

	doc := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol-auth/public/*"},
	 {"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/alt"]},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::pol-auth"},
	 {"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::pol-auth/*"}]}`
	if err := putPolicy(t, ts.Root, "pol-auth", doc); err != nil {
		t.Fatal(err)
	}
	if err := get(ts.Alt, "public/a"); err != nil {
		t.Errorf("alt get public/a: %v", err)
	}
	if err := get(anon, "public/a"); err != nil {
		t.Errorf("anonymous get public/a: %v", err)
	}
	wantErr(t, get(ts.Alt, "private/b"), "AccessDenied", http.StatusForbidden)
	if err := list(ts.Alt); err != nil {
		t.Errorf("alt list: %v", err)
	}
	wantErr(t, list(anon), "AccessDenied", http.StatusForbidden)
	// The explicit Deny binds the owner too.
	_, err := ts.Root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("pol-auth"), Key: aws.String("public/a")})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	// The owner keeps control of the policy itself.
	if _, err := ts.Root.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String("pol-auth")}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, get(anon, "public/a"), "AccessDenied", http.StatusForbidden)
}

func TestBucketPolicyExistingTag(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "pol-tag")
	for key, v := range map[string]string{"pub": "public", "priv": "private"} {
		_, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pol-tag"), Key: aws.String(key),
			Body: strings.NewReader("x"), Tagging: aws.String("security=" + v)})
		if err != nil {
			t.Fatal(err)
		}
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pol-tag/*","Condition":{"StringEquals":{"s3:ExistingObjectTag/security":"public"}}}]}`
	if err := putPolicy(t, ts.Root, "pol-tag", doc); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Alt.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("pol-tag"), Key: aws.String("pub")}); err != nil {
		t.Errorf("head pub: %v", err)
	}
	_, err := ts.Alt.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("pol-tag"), Key: aws.String("priv")})
	wantErr(t, err, "", http.StatusForbidden)
}

func TestPolicyStatusAndPublicAccessBlock(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "pol-stat")
	status := func() bool {
		t.Helper()
		out, err := ts.Root.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String("pol-stat")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToBool(out.PolicyStatus.IsPublic)
	}
	if status() {
		t.Error("new bucket is public")
	}
	public := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol-stat/*"}]}`
	if err := putPolicy(t, ts.Root, "pol-stat", public); err != nil {
		t.Fatal(err)
	}
	if !status() {
		t.Error("bucket with public policy is not public")
	}

	_, err := ts.Root.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String("pol-stat")})
	wantErr(t, err, "NoSuchPublicAccessBlockConfiguration", http.StatusNotFound)
	conf := &types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(false),
		BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true)}
	if _, err := ts.Root.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String("pol-stat"), PublicAccessBlockConfiguration: conf}); err != nil {
		t.Fatal(err)
	}
	out, err := ts.Root.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String("pol-stat")})
	if err != nil {
		t.Fatal(err)
	}
	got := out.PublicAccessBlockConfiguration
	if !aws.ToBool(got.BlockPublicAcls) || aws.ToBool(got.IgnorePublicAcls) || !aws.ToBool(got.BlockPublicPolicy) || !aws.ToBool(got.RestrictPublicBuckets) {
		t.Errorf("configuration = %+v, want %+v", got, conf)
	}
	// RestrictPublicBuckets: the public policy no longer grants anonymous reads.
	ts.PutObject(t, ts.Root, "pol-stat", "k", []byte("v"))
	_, err = ts.AnonymousClient().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pol-stat"), Key: aws.String("k")})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	// BlockPublicPolicy and BlockPublicAcls refuse public settings.
	wantErr(t, putPolicy(t, ts.Root, "pol-stat", public), "AccessDenied", http.StatusForbidden)
	_, err = ts.Root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("pol-stat"), ACL: types.BucketCannedACLPublicRead})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	_, err = ts.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pol-stat"), Key: aws.String("k2"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLAuthenticatedRead})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)

	if _, err := ts.Root.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String("pol-stat")}); err != nil {
		t.Fatal(err)
	}
	_, err = ts.Root.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String("pol-stat")})
	wantErr(t, err, "NoSuchPublicAccessBlockConfiguration", http.StatusNotFound)
}

func TestIgnorePublicACLs(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "pol-ign")
	if _, err := ts.Root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("pol-ign"), ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pol-ign"), Key: aws.String("k"), Body: strings.NewReader("x"), ACL: types.ObjectCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	conf := &types.PublicAccessBlockConfiguration{IgnorePublicAcls: aws.Bool(true)}
	if _, err := ts.Root.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String("pol-ign"), PublicAccessBlockConfiguration: conf}); err != nil {
		t.Fatal(err)
	}
	_, err := ts.Alt.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("pol-ign")})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	_, err = ts.Alt.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pol-ign"), Key: aws.String("k")})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
}

// TestMissingKeyWithListPolicy: a caller the policy lets list a prefix gets
// 404 for missing keys under it, and 403 elsewhere.
func TestMissingKeyWithListPolicy(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "pol-list")
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::pol-list","Condition":{"StringLike":{"s3:prefix":"public/*"}}}]}`
	if err := putPolicy(t, ts.Root, "pol-list", doc); err != nil {
		t.Fatal(err)
	}
	_, err := ts.Alt.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("pol-list"), Key: aws.String("public/x")})
	wantErr(t, err, "", http.StatusNotFound)
	_, err = ts.Alt.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("pol-list"), Key: aws.String("private/x")})
	wantErr(t, err, "", http.StatusForbidden)
}
