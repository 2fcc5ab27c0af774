package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestLifecycleVersioned: in a versioned bucket, an expiring current
// version gets a delete marker (and stays, noncurrent);
// NoncurrentVersionExpiration removes noncurrent versions but the newest
// NewerNoncurrentVersions; ExpiredObjectDeleteMarker removes a delete
// marker with no older version and keeps one that hides a version.
func TestLifecycleVersioned(t *testing.T) {
	g := startLCGateway(t, servertest.Options{})
	b := newName("lc-versions")
	g.mkBucket(t, b, true)
	ctx := context.Background()
	g.put(t, b, "cur/a", "v1", "")
	var ncIDs []string
	for _, v := range []string{"v1", "v2", "v3"} {
		ncIDs = append(ncIDs, aws.ToString(g.put(t, b, "nc/k", v, "").VersionId))
	}
	// dm/lone: a marker whose version was removed; dm/hides: one that hides a version.
	v := g.put(t, b, "dm/lone", "x", "")
	if _, err := g.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("dm/lone")}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("dm/lone"), VersionId: v.VersionId}); err != nil {
		t.Fatal(err)
	}
	g.put(t, b, "dm/hides", "x", "")
	if _, err := g.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("dm/hides")}); err != nil {
		t.Fatal(err)
	}
	g.putLifecycle(t, b,
		expireRule("cur", "cur/", 1),
		s3types.LifecycleRule{ID: aws.String("nc"), Status: s3types.ExpirationStatusEnabled, Filter: prefixFilter("nc/"),
			NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1), NewerNoncurrentVersions: aws.Int32(1)}},
		s3types.LifecycleRule{ID: aws.String("dm"), Status: s3types.ExpirationStatusEnabled, Filter: prefixFilter("dm/"),
			Expiration: &s3types.LifecycleExpiration{ExpiredObjectDeleteMarker: aws.Bool(true)}},
	)

	lcWaitFor(t, "a delete marker on cur/a", func() bool {
		es := g.versions(t, b, "cur/")
		return len(es) == 2 && es[1].marker && es[1].latest && !es[0].latest
	})
	lcWaitFor(t, "nc/k's oldest version removed", func() bool { return len(g.versions(t, b, "nc/")) == 2 })
	lcWaitFor(t, "dm/lone's marker removed", func() bool { return len(g.versions(t, b, "dm/lone")) == 0 })
	lcProcess(t, g.srv, b)
	got := map[string]bool{}
	for _, e := range g.versions(t, b, "nc/") {
		got[e.id] = true
	}
	if !got[ncIDs[2]] || !got[ncIDs[1]] || got[ncIDs[0]] {
		t.Errorf("nc/k versions %v, want the current %s and the newest noncurrent %s", got, ncIDs[2], ncIDs[1])
	}
	if es := g.versions(t, b, "dm/hides"); len(es) != 2 {
		t.Errorf("dm/hides: %+v, want its marker and the version it hides", es)
	}
	if es := g.versions(t, b, "cur/"); len(es) != 2 {
		t.Errorf("cur/a: %+v, want one marker only (a marker hiding a version stays)", es)
	}
}

// TestLifecycleObjectLock: lifecycle never removes a version under a legal
// hold or a retention (GOVERNANCE included: it has no bypass), while the
// current versions of locked objects still get delete markers, as in S3.
func TestLifecycleObjectLock(t *testing.T) {
	g := startLCGateway(t, servertest.Options{})
	b := newName("lc-lock")
	ctx := context.Background()
	if _, err := g.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("held"), Body: stringsReader("x"),
		ObjectLockLegalHoldStatus: s3types.ObjectLockLegalHoldStatusOn}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String("retained"), Body: stringsReader("x"),
		ObjectLockMode: s3types.ObjectLockModeGovernance, ObjectLockRetainUntilDate: aws.Time(time.Now().Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	g.put(t, b, "free", "x", "")
	g.putLifecycle(t, b, s3types.LifecycleRule{ID: aws.String("all"), Status: s3types.ExpirationStatusEnabled, Filter: prefixFilter(""),
		Expiration:                  &s3types.LifecycleExpiration{Days: aws.Int32(1)},
		NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)}})

	// free: marker added, then its version (noncurrent) removed.
	lcWaitFor(t, "free's version removed", func() bool {
		es := g.versions(t, b, "free")
		return len(es) == 1 && es[0].marker
	})
	lcWaitFor(t, "markers on the locked objects", func() bool {
		return !g.exists(t, b, "held") && !g.exists(t, b, "retained")
	})
	lcProcess(t, g.srv, b)
	lcProcess(t, g.srv, b)
	for _, k := range []string{"held", "retained"} {
		n := 0
		for _, e := range g.versions(t, b, k) {
			if !e.marker {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s: %d versions left, want its locked version", k, n)
		}
	}
}

// TestLifecycleTransitionAndAbort: a Transition relabels the current
// version's storage class (no data moves), a NoncurrentVersionTransition
// a noncurrent one's, and AbortIncompleteMultipartUpload aborts uploads.
func TestLifecycleTransitionAndAbort(t *testing.T) {
	g := startLCGateway(t, servertest.Options{})
	b := newName("lc-transition")
	g.mkBucket(t, b, true)
	ctx := context.Background()
	old := g.put(t, b, "t/a", "first", "")
	g.put(t, b, "t/a", "second", "")
	up, err := g.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("up/x")})
	if err != nil {
		t.Fatal(err)
	}
	keep, err := g.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("keep/x")})
	if err != nil {
		t.Fatal(err)
	}
	g.putLifecycle(t, b,
		s3types.LifecycleRule{ID: aws.String("glacier"), Status: s3types.ExpirationStatusEnabled, Filter: prefixFilter("t/"),
			Transitions:                  []s3types.Transition{{Days: aws.Int32(1), StorageClass: s3types.TransitionStorageClassGlacier}},
			NoncurrentVersionTransitions: []s3types.NoncurrentVersionTransition{{NoncurrentDays: aws.Int32(1), StorageClass: s3types.TransitionStorageClassStandardIa}}},
		s3types.LifecycleRule{ID: aws.String("mpu"), Status: s3types.ExpirationStatusEnabled, Filter: prefixFilter("up/"),
			AbortIncompleteMultipartUpload: &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: aws.Int32(1)}})

	class := func(id *string) s3types.StorageClass {
		out, err := g.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("t/a"), VersionId: id})
		if err != nil {
			t.Fatal(err)
		}
		return s3types.StorageClass(out.StorageClass)
	}
	lcWaitFor(t, "current version relabeled GLACIER", func() bool { return class(nil) == s3types.StorageClassGlacier })
	lcWaitFor(t, "noncurrent version relabeled STANDARD_IA", func() bool { return class(old.VersionId) == s3types.StorageClassStandardIa })
	uploads := func() map[string]bool {
		out, err := g.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(b)})
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, u := range out.Uploads {
			m[aws.ToString(u.UploadId)] = true
		}
		return m
	}
	lcWaitFor(t, "upload aborted", func() bool { return !uploads()[aws.ToString(up.UploadId)] })
	if !uploads()[aws.ToString(keep.UploadId)] {
		t.Error("the upload no rule selects was aborted")
	}
	obj, err := g.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String("t/a")})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	if data := readAll(t, obj.Body); data != "second" {
		t.Errorf("relabeled object reads %q, want its data unchanged", data)
	}
}
