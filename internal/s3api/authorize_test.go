package s3api

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// altPrincipal names userAlt in a bucket policy.
const altPrincipal = `{"AWS":["arn:aws:iam:::user/alt"]}`

// TestDeleteObjectsPolicyPerEntry: each entry of a multi-object delete is
// authorized as a DeleteObject of its key, so a Deny on a prefix protects
// its keys from a user the bucket ACL lets write, while the other keys of
// the same request are deleted.
func TestDeleteObjectsPolicyPerEntry(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	const bkt = "md-prefix"
	if _, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bkt), GrantWrite: aws.String("id=" + userAlt.ID)}); err != nil {
		t.Fatal(err)
	}
	ts.PutObject(t, ts.Root, bkt, "protected/a", []byte("a"))
	ts.PutObject(t, ts.Root, bkt, "open/b", []byte("b"))
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":` + altPrincipal +
		`,"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::` + bkt + `/protected/*"}]}`
	if err := putPolicy(t, ts.Root, bkt, deny); err != nil {
		t.Fatal(err)
	}
	out, err := ts.Alt.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bkt), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("protected/a")}, {Key: aws.String("open/b")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) != 1 || aws.ToString(out.Errors[0].Key) != "protected/a" || aws.ToString(out.Errors[0].Code) != "AccessDenied" {
		t.Errorf("errors = %+v, want one AccessDenied for protected/a", out.Errors)
	}
	if len(out.Deleted) != 1 || aws.ToString(out.Deleted[0].Key) != "open/b" {
		t.Errorf("deleted = %+v, want open/b", out.Deleted)
	}
	if _, err := ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("protected/a")}); err != nil {
		t.Errorf("protected/a is gone: %v", err)
	}
	_, err = ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("open/b")})
	wantErr(t, err, "", http.StatusNotFound)
}

// TestDeleteObjectsVersionedAction: an entry naming a version is authorized
// with s3:DeleteObjectVersion, as DeleteObject with a versionId is.
func TestDeleteObjectsVersionedAction(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	const bkt = "md-version"
	if _, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bkt), GrantWrite: aws.String("id=" + userAlt.ID)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Root.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bkt),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	v1 := ts.PutObject(t, ts.Root, bkt, "k", []byte("1")).VersionId
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":` + altPrincipal +
		`,"Action":"s3:DeleteObjectVersion","Resource":"arn:aws:s3:::` + bkt + `/*"}]}`
	if err := putPolicy(t, ts.Root, bkt, deny); err != nil {
		t.Fatal(err)
	}
	_, err := ts.Alt.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bkt), Key: aws.String("k"), VersionId: v1})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	out, err := ts.Alt.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bkt), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("k"), VersionId: v1}, {Key: aws.String("k")}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) != 1 || aws.ToString(out.Errors[0].VersionId) != aws.ToString(v1) || aws.ToString(out.Errors[0].Code) != "AccessDenied" {
		t.Errorf("errors = %+v, want AccessDenied for the version", out.Errors)
	}
	if len(out.Deleted) != 1 || !aws.ToBool(out.Deleted[0].DeleteMarker) {
		t.Errorf("deleted = %+v, want one delete marker", out.Deleted)
	}
	if _, err := ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("k"), VersionId: v1}); err != nil {
		t.Errorf("version %s is gone: %v", aws.ToString(v1), err)
	}
}

// TestDeleteObjectsWithoutAccess: a caller no ACL grant and no policy could
// let delete anything is refused the whole request.
func TestDeleteObjectsWithoutAccess(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "md-private")
	ts.PutObject(t, ts.Root, "md-private", "k", []byte("k"))
	_, err := ts.Alt.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("md-private"), Delete: &types.Delete{
		Objects: []types.ObjectIdentifier{{Key: aws.String("k")}},
	}})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
}

// TestCopySourceNeedsRead: copying, whole or as a part, from an object the
// caller may not read is AccessDenied, even into the caller's own bucket.
func TestCopySourceNeedsRead(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "cs-alice")
	ts.PutObject(t, ts.Root, "cs-alice", "secret", []byte("private bytes"))
	ts.CreateBucket(t, ts.Alt, "cs-bob")
	_, err := ts.Alt.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("cs-bob"), Key: aws.String("stolen"),
		CopySource: aws.String("cs-alice/secret")})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	up, err := ts.Alt.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("cs-bob"), Key: aws.String("stolen")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Alt.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("cs-bob"), Key: aws.String("stolen"),
		UploadId: up.UploadId, PartNumber: aws.Int32(1), CopySource: aws.String("cs-alice/secret")})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	_, err = ts.Alt.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("cs-bob"), Key: aws.String("stolen")})
	wantErr(t, err, "", http.StatusNotFound)
}

// TestCopySourceVersionAction: a copy naming a source version needs
// s3:GetObjectVersion on it, as a GetObject of that version does: a Deny
// of it in the source bucket's policy wins over the object's public ACL.
func TestCopySourceVersionAction(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "csv-alice")
	if _, err := ts.Root.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("csv-alice"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	put, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("csv-alice"), Key: aws.String("doc"),
		Body: bytes.NewReader([]byte("v1")), ACL: types.ObjectCannedACLPublicRead})
	if err != nil {
		t.Fatal(err)
	}
	deny := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":` + altPrincipal +
		`,"Action":"s3:GetObjectVersion","Resource":"arn:aws:s3:::csv-alice/*"}]}`
	if err := putPolicy(t, ts.Root, "csv-alice", deny); err != nil {
		t.Fatal(err)
	}
	ts.CreateBucket(t, ts.Alt, "csv-bob")
	_, err = ts.Alt.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("csv-alice"), Key: aws.String("doc"), VersionId: put.VersionId})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	src := "csv-alice/doc?versionId=" + aws.ToString(put.VersionId)
	_, err = ts.Alt.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("csv-bob"), Key: aws.String("copy"), CopySource: aws.String(src)})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	// Without a version the object's public ACL grants the read.
	if _, err := ts.Alt.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("csv-bob"), Key: aws.String("copy"),
		CopySource: aws.String("csv-alice/doc")}); err != nil {
		t.Fatalf("copy of the current version: %v", err)
	}
}

// TestObjectTaggingReadNeedsObjectACL: reading a version's tags is a read
// of that version (RGW: READ on the object's ACL), not of the bucket: a
// bucket whose ACL lets everyone list it does not show the tags of its
// private objects, while a public object's tags stay readable.
func TestObjectTaggingReadNeedsObjectACL(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	const bkt = "tags-acl"
	if _, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bkt), ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	for key, acl := range map[string]types.ObjectCannedACL{"private": types.ObjectCannedACLPrivate, "public": types.ObjectCannedACLPublicRead} {
		if _, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String(key),
			Body: bytes.NewReader([]byte(key)), Tagging: aws.String("k=secret"), ACL: acl}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := ts.Alt.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bkt), Key: aws.String("private")})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	resp, err := http.Get(ts.URL + "/" + bkt + "/private?tagging")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("anonymous GET ?tagging of a private object: %d, want 403", resp.StatusCode)
	}
	out, err := ts.Alt.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bkt), Key: aws.String("public")})
	if err != nil || len(out.TagSet) != 1 {
		t.Fatalf("tags of a public-read object: %v %+v", err, out)
	}
	_, err = ts.Alt.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bkt), Key: aws.String("missing")})
	wantErr(t, err, "NoSuchKey", http.StatusNotFound) // the bucket's ACL lets them list it
}

// TestObjectLockReadNeedsObjectACL: a version's retention and legal hold
// are read like the version: in a public-read bucket a private object's
// lock state is refused to others, a public-read object's is not.
func TestObjectLockReadNeedsObjectACL(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	const bkt = "lock-acl"
	if _, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bkt), ACL: types.BucketCannedACLPublicRead,
		ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour)
	for key, acl := range map[string]types.ObjectCannedACL{"private": types.ObjectCannedACLPrivate, "public": types.ObjectCannedACLPublicRead} {
		if _, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String(key), Body: bytes.NewReader([]byte(key)),
			ACL: acl, ObjectLockMode: types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: &until,
			ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := ts.Alt.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String(bkt), Key: aws.String("private")})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	_, err = ts.Alt.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String(bkt), Key: aws.String("private")})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	if _, err := ts.Alt.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String(bkt), Key: aws.String("public")}); err != nil {
		t.Errorf("retention of a public-read object: %v", err)
	}
	if _, err := ts.Alt.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String(bkt), Key: aws.String("public")}); err != nil {
		t.Errorf("legal hold of a public-read object: %v", err)
	}
}

// TestBypassGovernanceNeedsPermission: x-amz-bypass-governance-retention
// is honoured only for a caller the bucket policy does not deny
// s3:BypassGovernanceRetention: DeleteObject, each entry of DeleteObjects
// and PutObjectRetention of a GOVERNANCE-locked version are refused then.
func TestBypassGovernanceNeedsPermission(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	const bkt = "bypass-deny"
	if _, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bkt), ObjectLockEnabledForBucket: aws.Bool(true),
		GrantWrite: aws.String("id=" + userAlt.ID)}); err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(24 * time.Hour)
	v := ts.PutObject(t, ts.Root, bkt, "k", []byte("locked")).VersionId
	if _, err := ts.Root.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: aws.String(bkt), Key: aws.String("k"), VersionId: v,
		Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: &until}}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":` + altPrincipal +
		`,"Action":["s3:DeleteObjectVersion","s3:PutObjectRetention"],"Resource":"arn:aws:s3:::` + bkt + `/*"},` +
		`{"Effect":"Deny","Principal":` + altPrincipal + `,"Action":"s3:BypassGovernanceRetention","Resource":"arn:aws:s3:::` + bkt + `/*"}]}`
	if err := putPolicy(t, ts.Root, bkt, policy); err != nil {
		t.Fatal(err)
	}
	_, err := ts.Alt.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bkt), Key: aws.String("k"), VersionId: v,
		BypassGovernanceRetention: aws.Bool(true)})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	out, err := ts.Alt.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(bkt), BypassGovernanceRetention: aws.Bool(true),
		Delete: &types.Delete{Objects: []types.ObjectIdentifier{{Key: aws.String("k"), VersionId: v}}}})
	if err != nil || len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "AccessDenied" {
		t.Errorf("DeleteObjects with a denied bypass: %v, %+v; want one AccessDenied", err, out)
	}
	earlier := time.Now().Add(time.Hour)
	_, err = ts.Alt.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{Bucket: aws.String(bkt), Key: aws.String("k"), VersionId: v,
		BypassGovernanceRetention: aws.Bool(true),
		Retention:                 &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: &earlier}})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
	if _, err := ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("k"), VersionId: v}); err != nil {
		t.Fatalf("the locked version is gone: %v", err)
	}
	// The owner, whom the policy does not deny, still may.
	if _, err := ts.Root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bkt), Key: aws.String("k"), VersionId: v,
		BypassGovernanceRetention: aws.Bool(true)}); err != nil {
		t.Fatalf("owner's bypass: %v", err)
	}
}
