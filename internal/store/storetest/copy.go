package storetest

import (
	"errors"
	"reflect"
	"slices"

	"github.com/cairn-s3/cairn/internal/store"
)

var copyTests = []test{
	{"CopyDirective", testCopyDirective},
	{"ReplaceDirective", testReplaceDirective},
	{"TaggingDirective", testTaggingDirective},
	{"ToItself", testCopyToItself},
	{"FromVersion", testCopyFromVersion},
	{"FromMultipart", testCopyFromMultipart},
	{"Check", testCopyCheck},
	{"Missing", testCopyMissing},
}

var errTest = errors.New("storetest: injected failure")

func testCopyDirective(e *env) {
	e.mkbucket("src", store.Unversioned)
	e.mkbucket("dst", store.Enabled)
	meta := store.Metadata{ContentType: "a/b", User: map[string]string{"x": "1"}, Tags: map[string]string{"t": "v"},
		Checksums: map[string]string{store.ChecksumCRC32: "AAAAAA=="}}
	for _, n := range []int{0, 10, 1<<20 + 1} {
		body := data(n, 1)
		src := e.putOpts("src", "k", body, store.PutOptions{Size: int64(n), Meta: meta, Owner: "alice"})
		info, err := e.b.CopyObject(e.ctx, store.CopySource{Bucket: "src", Key: "k"}, "dst", "copy", store.CopyOptions{Owner: "bob"})
		if err != nil {
			e.t.Fatalf("CopyObject(%d bytes): %v", n, err)
		}
		if info.ETag != src.ETag || info.Size != int64(n) || info.Owner != "bob" || info.Bucket != "dst" || info.Key != "copy" ||
			info.VersionID == "" || !reflect.DeepEqual(info.Meta, meta) || !recent(info.LastModified) {
			e.t.Errorf("CopyObject = %+v", info)
		}
		got := e.mustGet("dst", "copy", "", body)
		if !reflect.DeepEqual(got.Meta, meta) || got.VersionID != info.VersionID {
			e.t.Errorf("copied object = %+v", got)
		}
	}
	// The copy is independent of its source.
	if _, err := e.b.DeleteObject(e.ctx, "src", "k", store.DeleteOptions{}); err != nil {
		e.t.Fatal(err)
	}
	e.mustGet("dst", "copy", "", data(1<<20+1, 1))
}

func testReplaceDirective(e *env) {
	e.mkbucket("b", store.Unversioned)
	body := data(1000, 2)
	e.putOpts("b", "src", body, store.PutOptions{Size: 1000, Meta: store.Metadata{ContentType: "old/type", User: map[string]string{"old": "1"}}})
	repl := store.Metadata{ContentType: "new/type", User: map[string]string{"new": "2"}, CacheControl: "no-cache"}
	info, err := e.b.CopyObject(e.ctx, store.CopySource{Bucket: "b", Key: "src"}, "b", "dst", store.CopyOptions{ReplaceMeta: true, Meta: repl})
	if err != nil {
		e.t.Fatal(err)
	}
	got := e.mustGet("b", "dst", "", body)
	for _, x := range []store.ObjectInfo{info, got} {
		if !reflect.DeepEqual(x.Meta, repl) {
			e.t.Errorf("REPLACE copy Meta = %+v, want %+v", x.Meta, repl)
		}
	}
}

func testTaggingDirective(e *env) {
	e.mkbucket("b", store.Unversioned)
	e.putOpts("b", "src", []byte("x"), store.PutOptions{Size: 1, Meta: store.Metadata{ContentType: "a/b", Tags: map[string]string{"old": "1"}}})
	cp := func(dst string, opts store.CopyOptions) store.ObjectInfo {
		e.t.Helper()
		if _, err := e.b.CopyObject(e.ctx, store.CopySource{Bucket: "b", Key: "src"}, "b", dst, opts); err != nil {
			e.t.Fatal(err)
		}
		return e.mustGet("b", dst, "", []byte("x"))
	}
	got := cp("t1", store.CopyOptions{Meta: store.Metadata{Tags: map[string]string{"new": "2"}}})
	if !reflect.DeepEqual(got.Meta.Tags, map[string]string{"new": "2"}) || got.Meta.ContentType != "a/b" {
		e.t.Errorf("COPY metadata with new tags: %+v", got.Meta)
	}
	got = cp("t2", store.CopyOptions{ReplaceTags: true})
	if len(got.Meta.Tags) != 0 || got.Meta.ContentType != "a/b" {
		e.t.Errorf("tagging directive REPLACE with no tags: %+v", got.Meta)
	}
	got = cp("t3", store.CopyOptions{ReplaceMeta: true, Meta: store.Metadata{ContentType: "c/d"}})
	if !reflect.DeepEqual(got.Meta.Tags, map[string]string{"old": "1"}) || got.Meta.ContentType != "c/d" {
		e.t.Errorf("metadata REPLACE keeps tags unless they are replaced: %+v", got.Meta)
	}
}

func testCopyToItself(e *env) {
	for _, vs := range []store.Versioning{store.Unversioned, store.Enabled} {
		bucket := "b-" + string(vs)
		e.mkbucket(bucket, vs)
		for _, n := range []int{10, 1 << 20} {
			body := data(n, 3)
			src := e.putOpts(bucket, "k", body, store.PutOptions{Size: int64(n), Meta: store.Metadata{ContentType: "old"}})
			info, err := e.b.CopyObject(e.ctx, store.CopySource{Bucket: bucket, Key: "k"}, bucket, "k",
				store.CopyOptions{ReplaceMeta: true, Meta: store.Metadata{ContentType: "new"}})
			if err != nil {
				e.t.Fatalf("copy to itself: %v", err)
			}
			got := e.mustGet(bucket, "k", "", body)
			if got.Meta.ContentType != "new" || got.ETag != src.ETag || info.ETag != src.ETag {
				e.t.Errorf("after copy to itself: %+v", got)
			}
			if vs == store.Enabled {
				e.mustGet(bucket, "k", src.VersionID, body)
			}
		}
		want := 1
		if vs == store.Enabled {
			want = 4
		}
		if got := len(e.versions(bucket, "")); got != want {
			e.t.Errorf("%s bucket: %d versions after copies to itself, want %d", vs, got, want)
		}
	}
}

func testCopyFromVersion(e *env) {
	e.mkbucket("b", store.Enabled)
	v1 := e.put("b", "k", []byte("first"))
	e.put("b", "k", []byte("second"))
	e.del("b", "k", "")
	info, err := e.b.CopyObject(e.ctx, store.CopySource{Bucket: "b", Key: "k", VersionID: v1.VersionID}, "b", "restored", store.CopyOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	if info.ETag != v1.ETag {
		e.t.Errorf("ETag = %q, want %q", info.ETag, v1.ETag)
	}
	e.mustGet("b", "restored", "", []byte("first"))
	_, err = e.b.CopyObject(e.ctx, store.CopySource{Bucket: "b", Key: "k"}, "b", "x", store.CopyOptions{})
	wantErr(e.t, "copy from a delete marker", err, store.ErrNoSuchKey)
}

func testCopyFromMultipart(e *env) {
	e.mkbucket("b", store.Unversioned)
	up := e.create("b", "mp", store.PutOptions{})
	b1, b2 := data(store.MinPartSize, 1), []byte("tail")
	p1, p2 := e.part(up, 1, b1), e.part(up, 2, b2)
	if _, err := e.complete(up, p1, p2); err != nil {
		e.t.Fatal(err)
	}
	whole := slices.Concat(b1, b2)
	info, err := e.b.CopyObject(e.ctx, store.CopySource{Bucket: "b", Key: "mp"}, "b", "copy", store.CopyOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	// A copy is a single-part object.
	if info.ETag != md5hex(whole) || info.Parts != nil {
		e.t.Errorf("copy of a multipart object: ETag %q, Parts %v", info.ETag, info.Parts)
	}
	e.mustGet("b", "copy", "", whole)
}

func testCopyCheck(e *env) {
	e.mkbucket("b", store.Unversioned)
	src := e.put("b", "k", []byte("x"))
	var seen store.ObjectInfo
	_, err := e.b.CopyObject(e.ctx, store.CopySource{Bucket: "b", Key: "k"}, "b", "dst", store.CopyOptions{
		Check: func(s store.ObjectInfo) error { seen = s; return errTest },
	})
	wantErr(e.t, "copy with failing Check", err, errTest)
	if seen.ETag != src.ETag {
		e.t.Errorf("Check saw %+v", seen)
	}
	e.absent("b", "dst")
}

func testCopyMissing(e *env) {
	e.mkbucket("b", store.Unversioned)
	_, err := e.b.CopyObject(e.ctx, store.CopySource{Bucket: "b", Key: "nope"}, "b", "dst", store.CopyOptions{})
	wantErr(e.t, "copy of a missing key", err, store.ErrNoSuchKey)
	_, err = e.b.CopyObject(e.ctx, store.CopySource{Bucket: "nope", Key: "k"}, "b", "dst", store.CopyOptions{})
	wantErr(e.t, "copy from a missing bucket", err, store.ErrNoSuchBucket)
	e.put("b", "k", []byte("x"))
	_, err = e.b.CopyObject(e.ctx, store.CopySource{Bucket: "b", Key: "k"}, "nope", "dst", store.CopyOptions{})
	wantErr(e.t, "copy to a missing bucket", err, store.ErrNoSuchBucket)
}
