package s3api

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// publicPolicy lets everyone do anything on bucket, as the s3-tests do.
func publicPolicy(bucket string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"*","Resource":["arn:aws:s3:::` +
		bucket + `","arn:aws:s3:::` + bucket + `/*"]}]}`
}

func getOwnership(t *testing.T, c *s3.Client, bucket string) (types.ObjectOwnership, error) {
	t.Helper()
	out, err := c.GetBucketOwnershipControls(context.Background(), &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", err
	}
	if n := len(out.OwnershipControls.Rules); n != 1 {
		t.Fatalf("%d rules, want 1", n)
	}
	return out.OwnershipControls.Rules[0].ObjectOwnership, nil
}

func putOwnership(c *s3.Client, bucket string, o types.ObjectOwnership) error {
	_, err := c.PutBucketOwnershipControls(context.Background(), &s3.PutBucketOwnershipControlsInput{
		Bucket:            aws.String(bucket),
		OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: o}}},
	})
	return err
}

func objectACLOwner(t *testing.T, c *s3.Client, bucket, key string) string {
	t.Helper()
	out, err := c.GetObjectAcl(context.Background(), &s3.GetObjectAclInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get acl %s: %v", key, err)
	}
	return aws.ToString(out.Owner.ID)
}

func TestOwnershipControlsCRUD(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "own-crud")
	_, err := getOwnership(t, ts.Root, "own-crud")
	wantErr(t, err, "OwnershipControlsNotFoundError", http.StatusNotFound)

	if err := putOwnership(ts.Root, "own-crud", types.ObjectOwnershipBucketOwnerPreferred); err != nil {
		t.Fatal(err)
	}
	if got, err := getOwnership(t, ts.Root, "own-crud"); err != nil || got != types.ObjectOwnershipBucketOwnerPreferred {
		t.Fatalf("ownership = %q, %v", got, err)
	}
	// Only the owner manages the controls.
	wantErr(t, putOwnership(ts.Alt, "own-crud", types.ObjectOwnershipObjectWriter), "AccessDenied", http.StatusForbidden)
	wantErr(t, putOwnership(ts.Root, "own-crud", "Nobody"), "MalformedXML", http.StatusBadRequest)

	for range 2 { // deleting missing controls succeeds too
		if _, err := ts.Root.DeleteBucketOwnershipControls(ctx, &s3.DeleteBucketOwnershipControlsInput{Bucket: aws.String("own-crud")}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = getOwnership(t, ts.Root, "own-crud")
	wantErr(t, err, "OwnershipControlsNotFoundError", http.StatusNotFound)

	// Created with a header.
	if _, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("own-hdr"), ObjectOwnership: types.ObjectOwnershipObjectWriter}); err != nil {
		t.Fatal(err)
	}
	if got, err := getOwnership(t, ts.Root, "own-hdr"); err != nil || got != types.ObjectOwnershipObjectWriter {
		t.Fatalf("ownership = %q, %v", got, err)
	}
	_, err = ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("own-bad"), ObjectOwnership: "Nobody"})
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	_, err = ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{
		Bucket: aws.String("own-pub"), ACL: types.BucketCannedACLPublicRead, ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced,
	})
	wantErr(t, err, "InvalidBucketAclWithObjectOwnership", http.StatusBadRequest)
}

func TestOwnershipEnforced(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	const bkt = "own-enf"
	if _, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bkt), ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, putOwnership(ts.Root, bkt, types.ObjectOwnershipBucketOwnerEnforced), "InvalidBucketAclWithObjectOwnership", http.StatusBadRequest)
	if _, err := ts.Root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(bkt), ACL: types.BucketCannedACLPrivate}); err != nil {
		t.Fatal(err)
	}
	if err := putOwnership(ts.Root, bkt, types.ObjectOwnershipBucketOwnerEnforced); err != nil {
		t.Fatal(err)
	}
	if err := putPolicy(t, ts.Root, bkt, publicPolicy(bkt)); err != nil {
		t.Fatal(err)
	}

	alt := ts.Alt
	ts.PutObject(t, alt, bkt, "plain", []byte("x"))
	if got := objectACLOwner(t, alt, bkt, "plain"); got != userRoot.ID {
		t.Errorf("owner of alt's object = %q, want the bucket owner", got)
	}
	_, err := alt.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("full"), Body: bytes.NewReader(nil), ACL: types.ObjectCannedACLBucketOwnerFullControl})
	if err != nil {
		t.Fatal(err)
	}
	_, err = alt.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String("priv"), Body: bytes.NewReader(nil), ACL: types.ObjectCannedACLPrivate})
	wantErr(t, err, "AccessControlListNotSupported", http.StatusBadRequest)

	up, err := alt.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	parts, err := alt.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bkt), Key: aws.String("mp"), UploadId: up.UploadId})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(parts.Owner.ID); got != userRoot.ID {
		t.Errorf("upload owner = %q, want the bucket owner", got)
	}
	_, err = alt.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String("mp2"), ACL: types.ObjectCannedACLPublicRead})
	wantErr(t, err, "AccessControlListNotSupported", http.StatusBadRequest)

	if _, err := alt.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String("cp"), CopySource: aws.String(bkt + "/plain")}); err != nil {
		t.Fatal(err)
	}
	if got := objectACLOwner(t, alt, bkt, "cp"); got != userRoot.ID {
		t.Errorf("owner of copy = %q, want the bucket owner", got)
	}
	_, err = alt.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String("cp2"), CopySource: aws.String(bkt + "/plain"), ACL: types.ObjectCannedACLPrivate})
	wantErr(t, err, "AccessControlListNotSupported", http.StatusBadRequest)

	_, err = ts.Root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(bkt), ACL: types.BucketCannedACLPrivate})
	wantErr(t, err, "AccessControlListNotSupported", http.StatusBadRequest)
	_, err = ts.Root.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(bkt), Key: aws.String("plain"), ACL: types.ObjectCannedACLPrivate})
	wantErr(t, err, "AccessControlListNotSupported", http.StatusBadRequest)
}

func TestOwnershipPreferredAndWriter(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	for _, tc := range []struct {
		ownership types.ObjectOwnership
		fullOwner string // owner of an object written with bucket-owner-full-control
	}{
		{types.ObjectOwnershipBucketOwnerPreferred, userRoot.ID},
		{types.ObjectOwnershipObjectWriter, userAlt.ID},
	} {
		t.Run(string(tc.ownership), func(t *testing.T) {
			bkt := "own-" + map[types.ObjectOwnership]string{
				types.ObjectOwnershipBucketOwnerPreferred: "pref", types.ObjectOwnershipObjectWriter: "writer",
			}[tc.ownership]
			if _, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bkt), ObjectOwnership: tc.ownership}); err != nil {
				t.Fatal(err)
			}
			if err := putPolicy(t, ts.Root, bkt, publicPolicy(bkt)); err != nil {
				t.Fatal(err)
			}
			alt := ts.Alt
			for _, acl := range []types.ObjectCannedACL{"", types.ObjectCannedACLPrivate, types.ObjectCannedACLBucketOwnerFullControl} {
				want := userAlt.ID
				if acl == types.ObjectCannedACLBucketOwnerFullControl {
					want = tc.fullOwner
				}
				key := "put-" + string(acl)
				if _, err := alt.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bkt), Key: aws.String(key), Body: bytes.NewReader(nil), ACL: acl}); err != nil {
					t.Fatal(err)
				}
				if got := objectACLOwner(t, alt, bkt, key); got != want {
					t.Errorf("PutObject ACL %q: owner %q, want %q", acl, got, want)
				}
				ckey := "copy-" + string(acl)
				if _, err := alt.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bkt), Key: aws.String(ckey), CopySource: aws.String(bkt + "/" + key), ACL: acl}); err != nil {
					t.Fatal(err)
				}
				if got := objectACLOwner(t, alt, bkt, ckey); got != want {
					t.Errorf("CopyObject ACL %q: owner %q, want %q", acl, got, want)
				}
				up, err := alt.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bkt), Key: aws.String("mp-" + string(acl)), ACL: acl})
				if err != nil {
					t.Fatal(err)
				}
				parts, err := alt.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(bkt), Key: aws.String("mp-" + string(acl)), UploadId: up.UploadId})
				if err != nil {
					t.Fatal(err)
				}
				if got := aws.ToString(parts.Owner.ID); got != want {
					t.Errorf("CreateMultipartUpload ACL %q: owner %q, want %q", acl, got, want)
				}
			}
			// ACLs stay enabled.
			if _, err := alt.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String(bkt), ACL: types.BucketCannedACLPrivate}); err != nil {
				t.Fatal(err)
			}
			if _, err := alt.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(bkt), Key: aws.String("put-"), ACL: types.ObjectCannedACLPrivate}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
