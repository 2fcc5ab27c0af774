package storetest

import (
	"bytes"
	"errors"
	"reflect"
	"strings"

	"github.com/cairn-s3/cairn/internal/store"
)

var bucketTests = []test{
	{"CreateGet", testBucketCreateGet},
	{"CreateExists", testBucketCreateExists},
	{"Missing", testBucketMissing},
	{"ListSorted", testBucketListSorted},
	{"Update", testBucketUpdate},
	{"DeleteEmpty", testBucketDeleteEmpty},
	{"DeleteNotEmpty", testBucketDeleteNotEmpty},
}

func testBucketCreateGet(e *env) {
	want := store.Bucket{
		Name: "photos", Owner: "alice", Region: "eu-west-1", ACL: "private",
		Config: map[string][]byte{"tagging": []byte("<Tagging/>")},
	}
	if err := e.b.CreateBucket(e.ctx, want); err != nil {
		e.t.Fatalf("CreateBucket: %v", err)
	}
	got, err := e.b.GetBucket(e.ctx, "photos")
	if err != nil {
		e.t.Fatalf("GetBucket: %v", err)
	}
	if !recent(got.Created) {
		e.t.Errorf("Created = %v, want about now", got.Created)
	}
	got.Created = want.Created
	if !reflect.DeepEqual(got, want) {
		e.t.Errorf("GetBucket = %+v, want %+v", got, want)
	}
	if got.Versioning != store.Unversioned {
		e.t.Errorf("Versioning = %q, want unversioned", got.Versioning)
	}
}

func testBucketCreateExists(e *env) {
	e.mkbucket("b", store.Unversioned)
	err := e.b.CreateBucket(e.ctx, store.Bucket{Name: "b", Owner: "someone-else"})
	wantErr(e.t, "CreateBucket twice", err, store.ErrBucketExists)
	got, err := e.b.GetBucket(e.ctx, "b")
	if err != nil || got.Owner != "owner" {
		e.t.Errorf("GetBucket after failed create = %+v, %v; want the first owner", got, err)
	}
}

func testBucketMissing(e *env) {
	_, err := e.b.GetBucket(e.ctx, "nope")
	wantErr(e.t, "GetBucket", err, store.ErrNoSuchBucket)
	wantErr(e.t, "DeleteBucket", e.b.DeleteBucket(e.ctx, "nope"), store.ErrNoSuchBucket)
	err = e.b.UpdateBucket(e.ctx, "nope", func(*store.Bucket) error { return nil })
	wantErr(e.t, "UpdateBucket", err, store.ErrNoSuchBucket)
	_, err = e.b.PutObject(e.ctx, "nope", "k", strings.NewReader("x"), store.PutOptions{Size: 1})
	wantErr(e.t, "PutObject", err, store.ErrNoSuchBucket)
	_, _, err = e.get("nope", "k", store.GetOptions{})
	wantErr(e.t, "GetObject", err, store.ErrNoSuchBucket)
	_, err = e.b.HeadObject(e.ctx, "nope", "k", store.GetOptions{})
	wantErr(e.t, "HeadObject", err, store.ErrNoSuchBucket)
	_, err = e.b.DeleteObject(e.ctx, "nope", "k", store.DeleteOptions{})
	wantErr(e.t, "DeleteObject", err, store.ErrNoSuchBucket)
	_, err = e.b.ListObjects(e.ctx, "nope", store.ListOptions{})
	wantErr(e.t, "ListObjects", err, store.ErrNoSuchBucket)
	_, err = e.b.ListObjectVersions(e.ctx, "nope", store.ListVersionsOptions{})
	wantErr(e.t, "ListObjectVersions", err, store.ErrNoSuchBucket)
	_, err = e.b.CreateMultipartUpload(e.ctx, "nope", "k", store.PutOptions{})
	wantErr(e.t, "CreateMultipartUpload", err, store.ErrNoSuchBucket)
	_, err = e.b.ListMultipartUploads(e.ctx, "nope", store.ListUploadsOptions{})
	wantErr(e.t, "ListMultipartUploads", err, store.ErrNoSuchBucket)
}

func testBucketListSorted(e *env) {
	got, err := e.b.ListBuckets(e.ctx)
	if err != nil || len(got) != 0 {
		e.t.Fatalf("ListBuckets on an empty store = %v, %v", got, err)
	}
	for _, n := range []string{"charlie", "alpha", "bravo", "alpha-2"} {
		e.mkbucket(n, store.Unversioned)
	}
	got, err = e.b.ListBuckets(e.ctx)
	if err != nil {
		e.t.Fatalf("ListBuckets: %v", err)
	}
	var names []string
	for _, b := range got {
		names = append(names, b.Name)
	}
	if want := []string{"alpha", "alpha-2", "bravo", "charlie"}; !reflect.DeepEqual(names, want) {
		e.t.Errorf("ListBuckets names = %v, want %v", names, want)
	}
}

func testBucketUpdate(e *env) {
	e.mkbucket("b", store.Unversioned)
	err := e.b.UpdateBucket(e.ctx, "b", func(b *store.Bucket) error {
		b.Versioning = store.Enabled
		b.Config = map[string][]byte{"notification": []byte("<N/>")}
		return nil
	})
	if err != nil {
		e.t.Fatalf("UpdateBucket: %v", err)
	}
	boom := errors.New("boom")
	err = e.b.UpdateBucket(e.ctx, "b", func(b *store.Bucket) error {
		b.Versioning = store.Suspended
		return boom
	})
	wantErr(e.t, "UpdateBucket with failing fn", err, boom)
	got, err := e.b.GetBucket(e.ctx, "b")
	if err != nil {
		e.t.Fatalf("GetBucket: %v", err)
	}
	if got.Versioning != store.Enabled || !bytes.Equal(got.Config["notification"], []byte("<N/>")) || got.Owner != "owner" {
		e.t.Errorf("GetBucket after updates = %+v", got)
	}
}

func testBucketDeleteEmpty(e *env) {
	e.mkbucket("b", store.Unversioned)
	if err := e.b.DeleteBucket(e.ctx, "b"); err != nil {
		e.t.Fatalf("DeleteBucket: %v", err)
	}
	_, err := e.b.GetBucket(e.ctx, "b")
	wantErr(e.t, "GetBucket after delete", err, store.ErrNoSuchBucket)
	// The name is free again, and the new bucket starts empty.
	e.mkbucket("b", store.Unversioned)
	res, err := e.b.ListObjects(e.ctx, "b", store.ListOptions{})
	if err != nil || len(res.Objects) != 0 {
		e.t.Errorf("ListObjects of recreated bucket = %+v, %v", res, err)
	}
}

func testBucketDeleteNotEmpty(e *env) {
	notEmpty := func(what string) {
		e.t.Helper()
		wantErr(e.t, "DeleteBucket with "+what, e.b.DeleteBucket(e.ctx, "b"), store.ErrBucketNotEmpty)
	}
	e.mkbucket("b", store.Unversioned)
	e.put("b", "k", []byte("x"))
	notEmpty("an object")
	if _, err := e.b.DeleteObject(e.ctx, "b", "k", store.DeleteOptions{}); err != nil {
		e.t.Fatal(err)
	}

	// Versions hidden behind a delete marker still count.
	e.setVersioning("b", store.Enabled)
	v := e.put("b", "k", []byte("y"))
	dm, err := e.b.DeleteObject(e.ctx, "b", "k", store.DeleteOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	notEmpty("a version behind a delete marker")
	if _, err := e.b.DeleteObject(e.ctx, "b", "k", store.DeleteOptions{VersionID: v.VersionID}); err != nil {
		e.t.Fatal(err)
	}
	notEmpty("only a delete marker")
	if _, err := e.b.DeleteObject(e.ctx, "b", "k", store.DeleteOptions{VersionID: dm.VersionID}); err != nil {
		e.t.Fatal(err)
	}

	up, err := e.b.CreateMultipartUpload(e.ctx, "b", "m", store.PutOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	notEmpty("an upload")
	if err := e.b.AbortMultipartUpload(e.ctx, "b", "m", up.UploadID); err != nil {
		e.t.Fatal(err)
	}
	if err := e.b.DeleteBucket(e.ctx, "b"); err != nil {
		e.t.Fatalf("DeleteBucket once empty: %v", err)
	}
}
