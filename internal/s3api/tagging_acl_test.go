package s3api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestObjectTagging(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "tags")
	if _, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("tags"), Key: aws.String("o"), Body: strings.NewReader("x"), Tagging: aws.String("a=1&b=two%20words"),
	}); err != nil {
		t.Fatal(err)
	}
	get := func(t *testing.T) map[string]string {
		t.Helper()
		out, err := ts.Root.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("o")})
		if err != nil {
			t.Fatalf("GetObjectTagging: %v", err)
		}
		m := map[string]string{}
		for _, tg := range out.TagSet {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	if m := get(t); len(m) != 2 || m["a"] != "1" || m["b"] != "two words" {
		t.Fatalf("x-amz-tagging: tags = %v", m)
	}
	out, _ := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("tags"), Key: aws.String("o")})
	if aws.ToInt32(out.TagCount) != 2 {
		t.Errorf("x-amz-tagging-count = %d, want 2", aws.ToInt32(out.TagCount))
	}

	tagSet := func(n int) []types.Tag {
		var tags []types.Tag
		for i := range n {
			tags = append(tags, types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")})
		}
		return tags
	}
	tests := []struct {
		name   string
		client *s3.Client
		tags   []types.Tag
		code   string
		status int
	}{
		{"ten", ts.Root, tagSet(10), "", 200},
		{"eleven", ts.Root, tagSet(11), "InvalidTag", 400},
		{"duplicate keys", ts.Root, []types.Tag{{Key: aws.String("d"), Value: aws.String("1")}, {Key: aws.String("d"), Value: aws.String("2")}}, "InvalidTag", 400},
		{"key too long", ts.Root, []types.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("v")}}, "InvalidTag", 400},
		{"value too long", ts.Root, []types.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}, "InvalidTag", 400},
		{"other user", ts.Alt, tagSet(1), "AccessDenied", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
				Bucket: aws.String("tags"), Key: aws.String("o"), Tagging: &types.Tagging{TagSet: tt.tags},
			})
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				if m := get(t); len(m) != len(tt.tags) {
					t.Fatalf("tags = %v, want %d", m, len(tt.tags))
				}
				return
			}
			wantErr(t, err, tt.code, tt.status)
		})
	}
	t.Run("delete", func(t *testing.T) {
		if _, err := ts.Root.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("o")}); err != nil {
			t.Fatal(err)
		}
		if m := get(t); len(m) != 0 {
			t.Fatalf("after delete: %v", m)
		}
	})
	t.Run("missing key", func(t *testing.T) {
		_, err := ts.Root.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("none")})
		wantErr(t, err, "NoSuchKey", 404)
		_, err = ts.Root.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{Bucket: aws.String("tags"), Key: aws.String("none"), Tagging: &types.Tagging{TagSet: tagSet(1)}})
		wantErr(t, err, "NoSuchKey", 404)
	})
	t.Run("malformed", func(t *testing.T) {
		resp := ts.Do(t, userRoot, http.MethodPut, "/tags/o?tagging", []byte("<Tagging><TagSet>"), nil)
		if b := readAll(t, resp.Body); resp.StatusCode != 400 || xmlCode(b) != "MalformedXML" {
			t.Fatalf("got %d %s", resp.StatusCode, b)
		}
	})
}

// grantsOf summarises an ACL as "grantee:permission" strings.
func grantsOf(grants []types.Grant) []string {
	var out []string
	for _, g := range grants {
		who := aws.ToString(g.Grantee.ID)
		if g.Grantee.URI != nil {
			who = aws.ToString(g.Grantee.URI)[strings.LastIndex(aws.ToString(g.Grantee.URI), "/")+1:]
		}
		out = append(out, who+":"+string(g.Permission))
	}
	return out
}

func TestBucketACL(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "acl-b")
	ts.PutObject(t, ts.Root, "acl-b", "o", []byte("x"))

	acl, err := ts.Root.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("acl-b")})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(grantsOf(acl.Grants), ","); got != "root:FULL_CONTROL" || aws.ToString(acl.Owner.ID) != userRoot.ID || aws.ToString(acl.Owner.DisplayName) == "" {
		t.Fatalf("default ACL: grants %s, owner %+v", got, acl.Owner)
	}
	_, err = ts.Alt.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("acl-b"), Key: aws.String("o")})
	wantErr(t, err, "AccessDenied", 403)

	if _, err := ts.Root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("acl-b"), ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	acl, err = ts.Root.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("acl-b")})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(grantsOf(acl.Grants), ","); got != "AllUsers:READ,root:FULL_CONTROL" {
		t.Fatalf("public-read grants = %s", got)
	}
	// Reads are decided by the object's ACL, which stays private.
	_, err = ts.Alt.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("acl-b"), Key: aws.String("o")})
	wantErr(t, err, "AccessDenied", 403)
	if _, err := ts.Alt.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("acl-b")}); err != nil {
		t.Fatalf("public-read bucket, other user lists: %v", err)
	}

	t.Run("policy document", func(t *testing.T) {
		// Back to private through the document form, as clients that
		// edit a fetched ACL do.
		_, err := ts.Root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("acl-b"), AccessControlPolicy: &types.AccessControlPolicy{
			Owner: acl.Owner, Grants: acl.Grants[:1],
		}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = ts.Alt.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("acl-b"), Key: aws.String("o")})
		wantErr(t, err, "AccessDenied", 403)
	})
	for _, tt := range []struct {
		name   string
		client *s3.Client
		in     s3.PutBucketAclInput
		code   string
		status int
	}{
		{"other user", ts.Alt, s3.PutBucketAclInput{Bucket: aws.String("acl-b"), ACL: types.BucketCannedACLPublicReadWrite}, "AccessDenied", 403},
		{"bad canned", ts.Root, s3.PutBucketAclInput{Bucket: aws.String("acl-b"), ACL: "everyone"}, "InvalidArgument", 400},
		{"grant to unknown user", ts.Root, s3.PutBucketAclInput{Bucket: aws.String("acl-b"), AccessControlPolicy: &types.AccessControlPolicy{
			Owner:  &types.Owner{ID: aws.String(userRoot.ID)},
			Grants: []types.Grant{{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String("someone")}, Permission: types.PermissionRead}},
		}}, "InvalidArgument", 400},
		{"grant to unknown email", ts.Root, s3.PutBucketAclInput{Bucket: aws.String("acl-b"), AccessControlPolicy: &types.AccessControlPolicy{
			Owner:  &types.Owner{ID: aws.String(userRoot.ID)},
			Grants: []types.Grant{{Grantee: &types.Grantee{Type: types.TypeAmazonCustomerByEmail, EmailAddress: aws.String("nobody@example.com")}, Permission: types.PermissionRead}},
		}}, "UnresolvableGrantByEmailAddress", 400},
		{"missing bucket", ts.Root, s3.PutBucketAclInput{Bucket: aws.String("no-acl-b"), ACL: types.BucketCannedACLPrivate}, "NoSuchBucket", 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.PutBucketAcl(ctx, &tt.in)
			wantErr(t, err, tt.code, tt.status)
		})
	}
	t.Run("other user reads ACL", func(t *testing.T) {
		_, err := ts.Alt.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("acl-b")})
		wantErr(t, err, "AccessDenied", 403)
	})
}

func TestObjectACL(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "oacl")
	ts.PutObject(t, ts.Root, "oacl", "o", []byte("x"))
	anon := ts.AnonymousClient()

	acl, err := ts.Root.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("oacl"), Key: aws.String("o")})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(grantsOf(acl.Grants), ","); got != "root:FULL_CONTROL" {
		t.Fatalf("default object ACL = %s", got)
	}
	_, err = anon.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("oacl"), Key: aws.String("o")})
	wantErr(t, err, "AccessDenied", 403)

	if _, err := ts.Root.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("oacl"), Key: aws.String("o"), ACL: types.ObjectCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	acl, err = ts.Root.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("oacl"), Key: aws.String("o")})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(grantsOf(acl.Grants), ","); got != "AllUsers:READ,root:FULL_CONTROL" {
		t.Fatalf("public-read object ACL = %s", got)
	}
	if out, err := anon.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("oacl"), Key: aws.String("o")}); err != nil {
		t.Fatalf("anonymous read of public-read object: %v", err)
	} else {
		readAll(t, out.Body)
	}
	// The object's ACL grants reading it, not writing it.
	_, err = anon.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("oacl"), Key: aws.String("o"), Body: strings.NewReader("y")})
	wantErr(t, err, "AccessDenied", 403)

	t.Run("policy document round trip", func(t *testing.T) {
		if _, err := ts.Root.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("oacl"), Key: aws.String("o"),
			AccessControlPolicy: &types.AccessControlPolicy{Owner: acl.Owner, Grants: acl.Grants[1:]}}); err != nil {
			t.Fatal(err)
		}
		_, err := anon.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("oacl"), Key: aws.String("o")})
		wantErr(t, err, "AccessDenied", 403)
	})
	t.Run("errors", func(t *testing.T) {
		_, err := ts.Alt.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("oacl"), Key: aws.String("o"), ACL: types.ObjectCannedACLPublicRead})
		wantErr(t, err, "AccessDenied", 403)
		_, err = ts.Root.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("oacl"), Key: aws.String("none")})
		wantErr(t, err, "NoSuchKey", 404)
		_, err = ts.Root.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("oacl"), Key: aws.String("o"), ACL: "bogus"})
		wantErr(t, err, "InvalidArgument", 400)
	})
}
