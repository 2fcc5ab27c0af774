package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/cairn-s3/cairn/internal/store"
)

var objectTests = []test{
	{"PutGetHead", testPutGetHead},
	{"UnknownSize", testUnknownSize},
	{"Missing", testObjectMissing},
	{"MetadataRoundTrip", testMetadataRoundTrip},
	{"ChecksumsAfterBody", testChecksumsAfterBody},
	{"Overwrite", testOverwrite},
	{"Ranges", testRanges},
	{"RangeFunc", testRangeFunc},
	{"PartNumberOfSimpleObject", testPartNumberSimple},
	{"Keys", testKeys},
	{"BadDigest", testBadDigest},
	{"IncompleteBody", testIncompleteBody},
	{"BodyLongerThanDeclared", testBodyTooLong},
	{"BodyReadError", testBodyReadError},
	{"ContextCancelledMidBody", testCancelMidBody},
	{"ContextCancelledMidRead", testCancelMidRead},
	{"Conditional", testConditionalPut},
	{"Delete", testDeleteUnversioned},
	{"Update", testUpdateObject},
}

// sizes straddle the usual inline thresholds and file buffer sizes.
var sizes = []int{0, 1, 100, 4 << 10, 64<<10 - 1, 64 << 10, 64<<10 + 1, 256<<10 + 7, 1<<20 + 3}

func testPutGetHead(e *env) {
	e.mkbucket("b", store.Unversioned)
	for i, n := range sizes {
		key := fmt.Sprintf("obj-%d", n)
		body := data(n, uint64(i))
		info := e.putOpts("b", key, body, store.PutOptions{Size: int64(n), Owner: "alice"})
		if info.Bucket != "b" || info.Key != key || info.Size != int64(n) || info.VersionID != "" ||
			!info.IsLatest || info.DeleteMarker || info.Owner != "alice" || !recent(info.LastModified) {
			e.t.Errorf("PutObject(%d bytes) info = %+v", n, info)
		}
		got := e.mustGet("b", key, "", body)
		head, err := e.b.HeadObject(e.ctx, "b", key, store.GetOptions{})
		if err != nil {
			e.t.Fatalf("HeadObject: %v", err)
		}
		for _, x := range []store.ObjectInfo{got, head} {
			if x.ETag != info.ETag || x.Size != info.Size || !x.LastModified.Equal(info.LastModified) ||
				x.VersionID != "" || x.Owner != "alice" || x.Key != key || x.Bucket != "b" {
				e.t.Errorf("read info = %+v, want %+v", x, info)
			}
		}
	}
}

func testUnknownSize(e *env) {
	e.mkbucket("b", store.Unversioned)
	for i, n := range sizes {
		body := data(n, uint64(i))
		key := fmt.Sprintf("k%d", n)
		info := e.putOpts("b", key, body, store.PutOptions{Size: -1})
		if info.Size != int64(n) {
			e.t.Errorf("PutObject with unknown size: Size = %d, want %d", info.Size, n)
		}
		e.mustGet("b", key, "", body)
	}
}

func testObjectMissing(e *env) {
	e.mkbucket("b", store.Unversioned)
	e.absent("b", "nope")
	e.put("b", "a", []byte("x"))
	e.absent("b", "a/")
	e.absent("b", "A")
}

func testMetadataRoundTrip(e *env) {
	e.mkbucket("b", store.Unversioned)
	meta := store.Metadata{
		ContentType:        "text/plain; charset=utf-8",
		ContentEncoding:    "gzip",
		ContentDisposition: `attachment; filename="a.txt"`,
		ContentLanguage:    "en",
		CacheControl:       "max-age=60",
		Expires:            "Wed, 21 Oct 2015 07:28:00 GMT",
		User:               map[string]string{"color": "blue", "empty": ""},
		Tags:               map[string]string{"project": "cairn", "tier": "1"},
		ACL:                "public-read",
		StorageClass:       "STANDARD",
		Checksums:          map[string]string{store.ChecksumCRC32: "AAAAAA==", store.ChecksumSHA256: "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
		ChecksumType:       "FULL_OBJECT",
	}
	for _, n := range []int{10, 1 << 20} {
		key := fmt.Sprintf("k%d", n)
		e.putOpts("b", key, data(n, 1), store.PutOptions{Size: int64(n), Meta: meta})
		info := e.mustGet("b", key, "", data(n, 1))
		if !reflect.DeepEqual(info.Meta, meta) {
			e.t.Errorf("GetObject Meta = %+v, want %+v", info.Meta, meta)
		}
		head, _ := e.b.HeadObject(e.ctx, "b", key, store.GetOptions{})
		if !reflect.DeepEqual(head.Meta, meta) {
			e.t.Errorf("HeadObject Meta = %+v, want %+v", head.Meta, meta)
		}
	}
}

func testChecksumsAfterBody(e *env) {
	e.mkbucket("b", store.Unversioned)
	body := []byte("trailer checksums")
	r := &funcReader{data: body}
	read := false
	_, err := e.b.PutObject(e.ctx, "b", "k", r, store.PutOptions{
		Size: int64(len(body)),
		Meta: store.Metadata{Checksums: map[string]string{store.ChecksumSHA1: "header"}},
		Checksums: func() map[string]string {
			read = len(r.data) == 0
			return map[string]string{store.ChecksumCRC32C: "trailer"}
		},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if !read {
		e.t.Error("Checksums called before the body was read")
	}
	info := e.mustGet("b", "k", "", body)
	want := map[string]string{store.ChecksumSHA1: "header", store.ChecksumCRC32C: "trailer"}
	if !reflect.DeepEqual(info.Meta.Checksums, want) {
		e.t.Errorf("Checksums = %v, want %v", info.Meta.Checksums, want)
	}
}

func testOverwrite(e *env) {
	e.mkbucket("b", store.Unversioned)
	// Every transition between small and large bodies.
	bodies := [][]byte{data(10, 1), data(1<<20, 2), data(20, 3), data(300<<10, 4), data(0, 5)}
	for i, body := range bodies {
		e.putOpts("b", "k", body, store.PutOptions{Size: int64(len(body)), Meta: store.Metadata{User: map[string]string{"i": fmt.Sprint(i)}}})
		info := e.mustGet("b", "k", "", body)
		if info.Meta.User["i"] != fmt.Sprint(i) {
			e.t.Errorf("after overwrite %d: metadata = %v", i, info.Meta.User)
		}
	}
	vs := e.versions("b", "")
	if len(vs) != 1 || vs[0].VersionID != "" || !vs[0].IsLatest {
		e.t.Errorf("versions of an overwritten unversioned object = %+v, want one", vs)
	}
}

func testRanges(e *env) {
	e.mkbucket("b", store.Unversioned)
	for _, n := range []int{100, 1<<20 + 3} {
		body := data(n, 7)
		key := fmt.Sprint(n)
		e.put("b", key, body)
		for _, r := range []store.Range{
			{Offset: 0, Length: 1}, {Offset: 0, Length: int64(n)}, {Offset: 1, Length: int64(n) - 1},
			{Offset: int64(n) - 1, Length: 1}, {Offset: 10, Length: 50},
			{Offset: int64(n) / 2, Length: int64(n)}, // runs past the end: clamped
		} {
			info, got, err := e.get("b", key, store.GetOptions{Range: &r})
			if err != nil {
				e.t.Fatalf("GetObject(%d bytes, range %+v): %v", n, r, err)
			}
			end := min(r.Offset+r.Length, int64(n))
			if !bytes.Equal(got, body[r.Offset:end]) {
				e.t.Errorf("GetObject(%d bytes, range %+v): got %d bytes, want %d", n, r, len(got), end-r.Offset)
			}
			if info.Size != int64(n) {
				e.t.Errorf("ranged GetObject Size = %d, want the object's %d", info.Size, n)
			}
		}
		for _, r := range []store.Range{{Offset: int64(n), Length: 1}, {Offset: int64(n) + 10, Length: 1}} {
			_, _, err := e.get("b", key, store.GetOptions{Range: &r})
			wantErr(e.t, fmt.Sprintf("range %+v of %d bytes", r, n), err, store.ErrInvalidRange)
		}
	}
	e.put("b", "empty", nil)
	_, _, err := e.get("b", "empty", store.GetOptions{Range: &store.Range{Offset: 0, Length: 1}})
	wantErr(e.t, "range of an empty object", err, store.ErrInvalidRange)
}

func testRangeFunc(e *env) {
	e.mkbucket("b", store.Unversioned)
	body := data(1000, 3)
	put := e.put("b", "k", body)
	var seen store.ObjectInfo
	_, got, err := e.get("b", "k", store.GetOptions{RangeFunc: func(info store.ObjectInfo) (*store.Range, error) {
		seen = info
		return &store.Range{Offset: info.Size - 10, Length: 10}, nil // a suffix range
	}})
	if err != nil {
		e.t.Fatal(err)
	}
	if !bytes.Equal(got, body[990:]) || seen.ETag != put.ETag || seen.Size != 1000 {
		e.t.Errorf("RangeFunc read %d bytes, saw %+v", len(got), seen)
	}
	_, got, err = e.get("b", "k", store.GetOptions{RangeFunc: func(store.ObjectInfo) (*store.Range, error) { return nil, nil }})
	if err != nil || !bytes.Equal(got, body) {
		e.t.Errorf("RangeFunc returning nil: %d bytes, %v; want the whole object", len(got), err)
	}
	failed := errors.New("precondition")
	info, _, err := e.get("b", "k", store.GetOptions{RangeFunc: func(store.ObjectInfo) (*store.Range, error) { return nil, failed }})
	wantErr(e.t, "RangeFunc error", err, failed)
	if info.ETag != put.ETag {
		e.t.Errorf("GetObject with failing RangeFunc returned info %+v, want the object's", info)
	}
}

func testPartNumberSimple(e *env) {
	e.mkbucket("b", store.Unversioned)
	body := data(100, 1)
	e.put("b", "k", body)
	_, got, err := e.get("b", "k", store.GetOptions{PartNumber: 1})
	if err != nil || !bytes.Equal(got, body) {
		e.t.Errorf("part 1 of a simple object: %d bytes, %v", len(got), err)
	}
	_, _, err = e.get("b", "k", store.GetOptions{PartNumber: 2})
	wantErr(e.t, "part 2 of a simple object", err, store.ErrInvalidPartNumber)
	_, err = e.b.HeadObject(e.ctx, "b", "k", store.GetOptions{PartNumber: 2})
	wantErr(e.t, "HEAD of part 2 of a simple object", err, store.ErrInvalidPartNumber)
	_, err = e.b.HeadObject(e.ctx, "b", "k", store.GetOptions{Range: &store.Range{Offset: 100, Length: 1}})
	wantErr(e.t, "HEAD with a range past the end", err, store.ErrInvalidRange)
}

func testKeys(e *env) {
	e.mkbucket("b", store.Unversioned)
	keys := []string{"a", "a/", "a/b", "a b", "a%2Fb", "ü/ñ/😀", "a\x01", "a\tb", "..", "a//b", strings.Repeat("k", store.MaxKeyLength)}
	for i, k := range keys {
		e.put("b", k, []byte(fmt.Sprint(i)))
	}
	for i, k := range keys {
		e.mustGet("b", k, "", []byte(fmt.Sprint(i)))
	}
	res, err := e.b.ListObjects(e.ctx, "b", store.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res.Objects) != len(keys) {
		e.t.Errorf("ListObjects returned %d keys, want %d", len(res.Objects), len(keys))
	}
	_, err = e.b.PutObject(e.ctx, "b", strings.Repeat("k", store.MaxKeyLength+1), strings.NewReader("x"), store.PutOptions{Size: 1})
	wantErr(e.t, "PutObject with a too long key", err, store.ErrKeyTooLong)
}

func testBadDigest(e *env) {
	e.mkbucket("b", store.Unversioned)
	for _, n := range []int{10, 1 << 20} {
		body := data(n, 9)
		key := fmt.Sprint(n)
		_, err := e.b.PutObject(e.ctx, "b", key, bytes.NewReader(body), store.PutOptions{Size: int64(n), ContentMD5: md5sum([]byte("other"))})
		wantErr(e.t, "PutObject with a wrong Content-MD5", err, store.ErrBadDigest)
		e.absent("b", key)
		// A failed overwrite leaves the old object.
		e.put("b", key, body)
		_, err = e.b.PutObject(e.ctx, "b", key, bytes.NewReader(data(n, 10)), store.PutOptions{Size: int64(n), ContentMD5: md5sum(body)})
		wantErr(e.t, "overwrite with a wrong Content-MD5", err, store.ErrBadDigest)
		e.mustGet("b", key, "", body)
		e.putOpts("b", key+"ok", body, store.PutOptions{Size: int64(n), ContentMD5: md5sum(body)})
	}
}

func testIncompleteBody(e *env) {
	e.mkbucket("b", store.Unversioned)
	for _, n := range []int{10, 1 << 20} {
		body := data(n, 11)
		key := fmt.Sprint(n)
		_, err := e.b.PutObject(e.ctx, "b", key, bytes.NewReader(body), store.PutOptions{Size: int64(n) + 1})
		wantErr(e.t, "PutObject with a short body", err, store.ErrIncompleteBody)
		e.absent("b", key)
		_, err = e.b.PutObject(e.ctx, "b", key, &failingReader{data: body, err: io.ErrUnexpectedEOF}, store.PutOptions{Size: -1})
		wantErr(e.t, "PutObject with an unexpected EOF", err, store.ErrIncompleteBody)
		e.absent("b", key)
	}
	e.assertEmpty("b")
}

func testBodyTooLong(e *env) {
	e.mkbucket("b", store.Unversioned)
	for _, n := range []int{10, 1 << 20} {
		body := data(n, 12)
		key := fmt.Sprint(n)
		if _, err := e.b.PutObject(e.ctx, "b", key, bytes.NewReader(body), store.PutOptions{Size: int64(n) - 1}); err == nil {
			e.t.Errorf("PutObject of %d bytes declared as %d succeeded", n, n-1)
		}
		e.absent("b", key)
	}
}

func testBodyReadError(e *env) {
	e.mkbucket("b", store.Unversioned)
	sigErr := errors.New("signature mismatch in chunk 3")
	for _, n := range []int{10, 100 << 10, 1 << 20} {
		key := fmt.Sprint(n)
		_, err := e.b.PutObject(e.ctx, "b", key, &failingReader{data: data(n, 13), err: sigErr}, store.PutOptions{Size: int64(n)})
		wantErr(e.t, "PutObject with a failing body", err, sigErr)
		e.absent("b", key)
		old := data(n/2, 14)
		e.put("b", key, old)
		_, err = e.b.PutObject(e.ctx, "b", key, &failingReader{data: data(n, 15), err: sigErr}, store.PutOptions{Size: -1})
		wantErr(e.t, "overwrite with a failing body", err, sigErr)
		e.mustGet("b", key, "", old)
	}
}

func testCancelMidBody(e *env) {
	e.mkbucket("b", store.Unversioned)
	for _, n := range []int{10 << 10, 2 << 20} {
		ctx, cancel := context.WithCancel(e.ctx)
		r := &funcReader{data: data(n, 16), after: n / 2, at: cancel}
		_, err := e.b.PutObject(ctx, "b", "k", r, store.PutOptions{Size: int64(n)})
		cancel()
		wantErr(e.t, "PutObject cancelled mid-body", err, context.Canceled)
		e.absent("b", "k")
	}
	e.assertEmpty("b")
}

func testCancelMidRead(e *env) {
	e.mkbucket("b", store.Unversioned)
	body := data(4<<20, 17)
	e.put("b", "k", body)
	ctx, cancel := context.WithCancel(e.ctx)
	_, rc, err := e.b.GetObject(ctx, "b", "k", store.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, make([]byte, 1000)); err != nil {
		e.t.Fatal(err)
	}
	cancel()
	_, err = io.Copy(io.Discard, rc)
	wantErr(e.t, "reading after cancel", err, context.Canceled)
}

func testConditionalPut(e *env) {
	e.mkbucket("b", store.Unversioned)
	_, err := e.b.PutObject(e.ctx, "b", "k", strings.NewReader("x"), store.PutOptions{Size: 1, IfMatch: "*"})
	wantErr(e.t, "If-Match * on a missing object", err, store.ErrNoSuchKey)
	e.absent("b", "k")
	v1 := e.putOpts("b", "k", []byte("one"), store.PutOptions{Size: 3, IfNoneMatch: "*"})
	_, err = e.b.PutObject(e.ctx, "b", "k", strings.NewReader("two"), store.PutOptions{Size: 3, IfNoneMatch: "*"})
	wantErr(e.t, "If-None-Match * on an existing object", err, store.ErrPreconditionFailed)
	_, err = e.b.PutObject(e.ctx, "b", "k", strings.NewReader("two"), store.PutOptions{Size: 3, IfMatch: md5hex([]byte("zzz"))})
	wantErr(e.t, "If-Match with another ETag", err, store.ErrPreconditionFailed)
	e.mustGet("b", "k", "", []byte("one"))
	e.putOpts("b", "k", []byte("two"), store.PutOptions{Size: 3, IfMatch: `"` + v1.ETag + `"`})
	e.mustGet("b", "k", "", []byte("two"))
}

func testDeleteUnversioned(e *env) {
	e.mkbucket("b", store.Unversioned)
	for _, n := range []int{10, 1 << 20} {
		e.put("b", "k", data(n, 1))
		res, err := e.b.DeleteObject(e.ctx, "b", "k", store.DeleteOptions{})
		if err != nil || res.DeleteMarker || res.VersionID != "" {
			e.t.Fatalf("DeleteObject = %+v, %v", res, err)
		}
		e.absent("b", "k")
		if vs := e.versions("b", ""); len(vs) != 0 {
			e.t.Errorf("versions after delete in an unversioned bucket: %+v", vs)
		}
	}
	if _, err := e.b.DeleteObject(e.ctx, "b", "never", store.DeleteOptions{}); err != nil {
		e.t.Errorf("DeleteObject of a missing key: %v, want success", err)
	}
}

func testUpdateObject(e *env) {
	e.mkbucket("b", store.Unversioned)
	body := data(100, 1)
	put := e.putOpts("b", "k", body, store.PutOptions{Size: 100, Meta: store.Metadata{ContentType: "a/b", Tags: map[string]string{"x": "1"}}})
	info, err := e.b.UpdateObject(e.ctx, "b", "k", "", func(o *store.ObjectInfo) error {
		if o.ETag != put.ETag {
			e.t.Errorf("UpdateObject fn saw %+v", o)
		}
		o.Meta.Tags = map[string]string{"y": "2"}
		o.Meta.ACL = "public-read"
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	got := e.mustGet("b", "k", "", body)
	want := store.Metadata{ContentType: "a/b", Tags: map[string]string{"y": "2"}, ACL: "public-read"}
	for _, x := range []store.ObjectInfo{info, got} {
		if !reflect.DeepEqual(x.Meta, want) || x.ETag != put.ETag || !x.LastModified.Equal(put.LastModified) {
			e.t.Errorf("after UpdateObject: %+v", x)
		}
	}
	boom := errors.New("boom")
	_, err = e.b.UpdateObject(e.ctx, "b", "k", "", func(o *store.ObjectInfo) error { o.Meta.Tags = nil; return boom })
	wantErr(e.t, "UpdateObject with failing fn", err, boom)
	if got := e.mustGet("b", "k", "", body); got.Meta.Tags["y"] != "2" {
		e.t.Errorf("failed UpdateObject changed tags: %v", got.Meta.Tags)
	}
	_, err = e.b.UpdateObject(e.ctx, "b", "nope", "", func(*store.ObjectInfo) error { return nil })
	wantErr(e.t, "UpdateObject of a missing key", err, store.ErrNoSuchKey)
}

// assertEmpty checks that a bucket holds no version and no upload.
func (e *env) assertEmpty(bucket string) {
	e.t.Helper()
	if vs := e.versions(bucket, ""); len(vs) != 0 {
		e.t.Errorf("bucket %s holds versions: %+v", bucket, vs)
	}
	res, err := e.b.ListMultipartUploads(e.ctx, bucket, store.ListUploadsOptions{})
	if err != nil || len(res.Uploads) != 0 {
		e.t.Errorf("bucket %s holds uploads: %+v, %v", bucket, res.Uploads, err)
	}
}
