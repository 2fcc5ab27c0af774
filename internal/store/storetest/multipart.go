package storetest

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/cairn-s3/cairn/internal/store"
)

var multipartTests = []test{
	{"Complete", testMultipartComplete},
	{"SinglePart", testMultipartSinglePart},
	{"PartOverwrite", testPartOverwrite},
	{"ListPartsPaging", testListPartsPaging},
	{"CompleteErrors", testCompleteErrors},
	{"PartErrors", testPartErrors},
	{"Abort", testAbort},
	{"WrongKey", testUploadWrongKey},
	{"Versioned", testMultipartVersioned},
	{"ListUploads", testListUploads},
	{"CompleteTwice", testCompleteTwice},
	{"CompleteChecksums", testCompleteChecksums},
	{"CompleteConditional", testCompleteConditional},
}

// A conditional completion is checked against the key's latest version in
// the commit: of concurrent If-None-Match "*" completions of different
// uploads exactly one wins, a failed check keeps its upload, and If-Match
// needs the current ETag.
func testCompleteConditional(e *env) {
	e.mkbucket("b", store.Unversioned)
	const n = 6
	ups := make([]store.Upload, n)
	parts := make([]store.PartInfo, n)
	for i := range ups {
		ups[i] = e.create("b", "k", store.PutOptions{})
		parts[i] = e.part(ups[i], 1, data(10+i, uint64(i)))
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range ups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.b.CompleteMultipartUpload(e.ctx, "b", "k", ups[i].UploadID,
				[]store.CompletePart{{Number: 1, ETag: parts[i].ETag}}, store.CompleteOptions{IfNoneMatch: "*"})
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner < 0:
			winner = i
		case err == nil:
			e.t.Errorf("uploads %d and %d both completed with IfNoneMatch *", winner, i)
		case !errors.Is(err, store.ErrPreconditionFailed):
			e.t.Errorf("upload %d: %v, want ErrPreconditionFailed", i, err)
		}
	}
	if winner < 0 {
		e.t.Fatal("no completion succeeded")
	}
	cur := e.mustGet("b", "k", "", data(10+winner, uint64(winner)))
	loser := (winner + 1) % n
	_, err := e.b.CompleteMultipartUpload(e.ctx, "b", "k", ups[loser].UploadID,
		[]store.CompletePart{{Number: 1, ETag: parts[loser].ETag}}, store.CompleteOptions{IfMatch: `"` + md5hex([]byte("other")) + `"`})
	wantErr(e.t, "If-Match with another ETag", err, store.ErrPreconditionFailed)
	if _, err := e.b.CompleteMultipartUpload(e.ctx, "b", "k", ups[loser].UploadID,
		[]store.CompletePart{{Number: 1, ETag: parts[loser].ETag}}, store.CompleteOptions{IfMatch: cur.ETag}); err != nil {
		e.t.Fatalf("If-Match with the current ETag, on an upload a failed check kept: %v", err)
	}
	e.mustGet("b", "k", "", data(10+loser, uint64(loser)))
}

// The Checksums hook of CompleteMultipartUpload sees the upload and the
// listed parts with their stored checksums; what it returns is the object's
// checksum, and its error fails the completion without a trace.
func testCompleteChecksums(e *env) {
	e.mkbucket("b", store.Unversioned)
	meta := store.Metadata{Checksums: map[string]string{store.ChecksumCRC32: ""}, ChecksumType: "COMPOSITE"}
	up := e.create("b", "k", store.PutOptions{Meta: meta})
	bodies := [][]byte{data(store.MinPartSize, 1), data(10, 2)}
	var list []store.CompletePart
	for i, body := range bodies {
		sum := map[string]string{store.ChecksumCRC32: fmt.Sprintf("part%d", i+1)}
		p, err := e.b.UploadPart(e.ctx, "b", "k", up.UploadID, i+1, bytes.NewReader(body), store.PartOptions{
			Size: int64(len(body)), Checksums: func() map[string]string { return sum },
		})
		if err != nil {
			e.t.Fatal(err)
		}
		list = append(list, store.CompletePart{Number: p.Number, ETag: p.ETag})
	}
	refuse := errors.New("refused")
	_, err := e.b.CompleteMultipartUpload(e.ctx, "b", "k", up.UploadID, list, store.CompleteOptions{
		Checksums: func(store.Upload, []store.Part) (map[string]string, string, error) { return nil, "", refuse },
	})
	wantErr(e.t, "refused by the hook", err, refuse)
	e.absent("b", "k")
	var seen []store.Part
	oi, err := e.b.CompleteMultipartUpload(e.ctx, "b", "k", up.UploadID, list, store.CompleteOptions{
		Checksums: func(u store.Upload, parts []store.Part) (map[string]string, string, error) {
			if u.UploadID != up.UploadID || u.Meta.ChecksumType != "COMPOSITE" {
				e.t.Errorf("hook saw upload %+v", u)
			}
			seen = parts
			return map[string]string{store.ChecksumCRC32: "whole-2"}, "COMPOSITE", nil
		},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(seen) != 2 || seen[0].Checksums[store.ChecksumCRC32] != "part1" || seen[1].Checksums[store.ChecksumCRC32] != "part2" || seen[1].Size != 10 {
		e.t.Errorf("hook saw parts %+v", seen)
	}
	got, _, err := e.get("b", "k", store.GetOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range []store.ObjectInfo{oi, got} {
		if o.Meta.Checksums[store.ChecksumCRC32] != "whole-2" || len(o.Meta.Checksums) != 1 || o.Meta.ChecksumType != "COMPOSITE" {
			e.t.Errorf("object checksums = %v %q", o.Meta.Checksums, o.Meta.ChecksumType)
		}
		if len(o.Parts) != 2 || o.Parts[0].Checksums[store.ChecksumCRC32] != "part1" {
			e.t.Errorf("object parts = %+v", o.Parts)
		}
	}
}

// A client that lost the answer to CompleteMultipartUpload retries it; the
// retry succeeds with the same object, as in S3.
func testCompleteTwice(e *env) {
	e.mkbucket("b", store.Enabled)
	up := e.create("b", "k", store.PutOptions{})
	p := e.part(up, 1, data(10, 1))
	first, err := e.complete(up, p)
	if err != nil {
		e.t.Fatal(err)
	}
	again, err := e.complete(up, p)
	if err != nil {
		e.t.Fatalf("repeated complete: %v", err)
	}
	if again.ETag != first.ETag || again.VersionID != first.VersionID {
		e.t.Errorf("repeated complete = %s/%s, first %s/%s", again.ETag, again.VersionID, first.ETag, first.VersionID)
	}
	if _, err := e.b.CompleteMultipartUpload(e.ctx, "b", "other", up.UploadID, []store.CompletePart{{Number: 1, ETag: p.ETag}}, store.CompleteOptions{}); !errors.Is(err, store.ErrNoSuchUpload) {
		e.t.Errorf("completing a finished upload under another key: %v, want ErrNoSuchUpload", err)
	}
}

func (e *env) create(bucket, key string, opts store.PutOptions) store.Upload {
	e.t.Helper()
	up, err := e.b.CreateMultipartUpload(e.ctx, bucket, key, opts)
	if err != nil {
		e.t.Fatalf("CreateMultipartUpload(%s/%s): %v", bucket, key, err)
	}
	if up.UploadID == "" || up.Bucket != bucket || up.Key != key || !recent(up.Initiated) {
		e.t.Errorf("CreateMultipartUpload = %+v", up)
	}
	return up
}

func (e *env) part(up store.Upload, n int, body []byte) store.PartInfo {
	e.t.Helper()
	p, err := e.b.UploadPart(e.ctx, up.Bucket, up.Key, up.UploadID, n, bytes.NewReader(body), store.PartOptions{Size: int64(len(body))})
	if err != nil {
		e.t.Fatalf("UploadPart(%d, %d bytes): %v", n, len(body), err)
	}
	if p.Number != n || p.Size != int64(len(body)) || p.ETag != md5hex(body) {
		e.t.Errorf("UploadPart(%d) = %+v", n, p)
	}
	return p
}

func (e *env) complete(up store.Upload, parts ...store.PartInfo) (store.ObjectInfo, error) {
	var list []store.CompletePart
	for _, p := range parts {
		list = append(list, store.CompletePart{Number: p.Number, ETag: p.ETag})
	}
	return e.b.CompleteMultipartUpload(e.ctx, up.Bucket, up.Key, up.UploadID, list, store.CompleteOptions{})
}

// multipartETag is the S3 ETag of an object assembled from parts.
func multipartETag(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		h.Write(md5sum(p))
	}
	return hex.EncodeToString(h.Sum(nil)) + fmt.Sprintf("-%d", len(parts))
}

func testMultipartComplete(e *env) {
	e.mkbucket("b", store.Unversioned)
	meta := store.Metadata{ContentType: "video/mp4", User: map[string]string{"a": "b"}}
	up := e.create("b", "big", store.PutOptions{Meta: meta, Owner: "alice"})
	bodies := [][]byte{data(store.MinPartSize, 1), data(store.MinPartSize+1, 2), data(1000, 3)}
	// Parts arrive out of order and with gaps in numbering.
	p3 := e.part(up, 7, bodies[2])
	p1 := e.part(up, 1, bodies[0])
	p2 := e.part(up, 3, bodies[1])
	info, err := e.complete(up, p1, p2, p3)
	if err != nil {
		e.t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	whole := slices.Concat(bodies...)
	if want := multipartETag(bodies...); info.ETag != want {
		e.t.Errorf("ETag = %q, want %q", info.ETag, want)
	}
	if info.Size != int64(len(whole)) || info.Owner != "alice" || !reflect.DeepEqual(info.Meta, meta) {
		e.t.Errorf("CompleteMultipartUpload info = %+v", info)
	}
	got := e.mustGet("b", "big", "", whole)
	wantParts := []store.Part{
		{Number: 1, Size: int64(len(bodies[0])), ETag: p1.ETag},
		{Number: 3, Size: int64(len(bodies[1])), ETag: p2.ETag},
		{Number: 7, Size: int64(len(bodies[2])), ETag: p3.ETag},
	}
	for _, x := range []store.ObjectInfo{info, got} {
		if len(x.Parts) != len(wantParts) {
			e.t.Fatalf("Parts = %+v, want %+v", x.Parts, wantParts)
		}
		for i, p := range x.Parts {
			if p.Number != wantParts[i].Number || p.Size != wantParts[i].Size || p.ETag != wantParts[i].ETag {
				e.t.Errorf("Parts[%d] = %+v, want %+v", i, p, wantParts[i])
			}
		}
		if x.ETag != info.ETag || !reflect.DeepEqual(x.Meta, meta) {
			e.t.Errorf("read info = %+v", x)
		}
	}
	// GET ?partNumber=N serves part N, counting parts in order.
	for i, body := range bodies {
		_, b, err := e.get("b", "big", store.GetOptions{PartNumber: i + 1})
		if err != nil || !bytes.Equal(b, body) {
			e.t.Errorf("GetObject(partNumber=%d): %d bytes, %v; want %d bytes", i+1, len(b), err, len(body))
		}
	}
	_, _, err = e.get("b", "big", store.GetOptions{PartNumber: 4})
	wantErr(e.t, "GetObject(partNumber=4)", err, store.ErrInvalidPartNumber)
	// A range across the part boundaries.
	off := int64(store.MinPartSize - 10)
	_, b, err := e.get("b", "big", store.GetOptions{Range: &store.Range{Offset: off, Length: store.MinPartSize + 100}})
	if err != nil || !bytes.Equal(b, whole[off:off+store.MinPartSize+100]) {
		e.t.Errorf("range across parts: %d bytes, %v", len(b), err)
	}
	// The upload is gone.
	_, err = e.b.ListParts(e.ctx, "b", "big", up.UploadID, store.ListPartsOptions{})
	wantErr(e.t, "ListParts after complete", err, store.ErrNoSuchUpload)
	e.assertNoUploads("b")
	// Overwriting and deleting a multipart object works like any other.
	e.put("b", "big", []byte("small"))
	e.mustGet("b", "big", "", []byte("small"))
}

func (e *env) assertNoUploads(bucket string) {
	e.t.Helper()
	res, err := e.b.ListMultipartUploads(e.ctx, bucket, store.ListUploadsOptions{})
	if err != nil || len(res.Uploads) != 0 {
		e.t.Errorf("uploads remain: %+v, %v", res.Uploads, err)
	}
}

func testMultipartSinglePart(e *env) {
	e.mkbucket("b", store.Unversioned)
	for _, n := range []int{0, 10, 1 << 20} {
		key := fmt.Sprint(n)
		up := e.create("b", key, store.PutOptions{})
		body := data(n, 4)
		p := e.part(up, 1, body)
		info, err := e.complete(up, p)
		if err != nil {
			e.t.Fatalf("complete with one %d-byte part: %v", n, err)
		}
		if info.ETag != multipartETag(body) {
			e.t.Errorf("ETag = %q, want %q", info.ETag, multipartETag(body))
		}
		e.mustGet("b", key, "", body)
	}
}

func testPartOverwrite(e *env) {
	e.mkbucket("b", store.Unversioned)
	up := e.create("b", "k", store.PutOptions{})
	old := e.part(up, 1, data(1<<20, 1))
	newer := e.part(up, 1, []byte("second"))
	res, err := e.b.ListParts(e.ctx, "b", "k", up.UploadID, store.ListPartsOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res.Parts) != 1 || res.Parts[0].ETag != newer.ETag || res.Parts[0].Size != 6 {
		e.t.Fatalf("ListParts after overwrite = %+v", res.Parts)
	}
	_, err = e.complete(up, old)
	wantErr(e.t, "complete with the overwritten part's ETag", err, store.ErrInvalidPart)
	if _, err := e.complete(up, newer); err != nil {
		e.t.Fatal(err)
	}
	e.mustGet("b", "k", "", []byte("second"))
}

func testListPartsPaging(e *env) {
	e.mkbucket("b", store.Unversioned)
	up := e.create("b", "k", store.PutOptions{Meta: store.Metadata{ContentType: "x/y"}, Owner: "alice"})
	nums := []int{1, 2, 5, 9, 10, 100, 10000}
	for _, n := range nums {
		e.part(up, n, []byte(fmt.Sprint(n)))
	}
	for max := 1; max <= len(nums)+1; max++ {
		var got []int
		marker := 0
		for page := 0; ; page++ {
			if page > len(nums) {
				e.t.Fatalf("ListParts with max %d does not end", max)
			}
			res, err := e.b.ListParts(e.ctx, "b", "k", up.UploadID, store.ListPartsOptions{PartNumberMarker: marker, MaxParts: max})
			if err != nil {
				e.t.Fatal(err)
			}
			if res.Upload.UploadID != up.UploadID || res.Upload.Owner != "alice" || res.Upload.Meta.ContentType != "x/y" {
				e.t.Errorf("ListParts Upload = %+v", res.Upload)
			}
			for _, p := range res.Parts {
				got = append(got, p.Number)
				if p.ETag != md5hex([]byte(fmt.Sprint(p.Number))) || !recent(p.LastModified) {
					e.t.Errorf("part %+v", p)
				}
			}
			if !res.IsTruncated {
				break
			}
			if res.NextPartNumberMarker != got[len(got)-1] {
				e.t.Fatalf("NextPartNumberMarker = %d, last part %d", res.NextPartNumberMarker, got[len(got)-1])
			}
			marker = res.NextPartNumberMarker
		}
		if !slices.Equal(got, nums) {
			e.t.Errorf("ListParts pages with max %d = %v, want %v", max, got, nums)
		}
	}
}

func testCompleteErrors(e *env) {
	e.mkbucket("b", store.Unversioned)
	up := e.create("b", "k", store.PutOptions{})
	big1 := data(store.MinPartSize, 1)
	p1 := e.part(up, 1, big1)
	p2 := e.part(up, 2, []byte("small"))
	p3 := e.part(up, 3, []byte("last"))

	bad := p2
	bad.ETag = md5hex([]byte("other"))
	_, err := e.complete(up, p1, bad)
	wantErr(e.t, "complete with a wrong ETag", err, store.ErrInvalidPart)
	_, err = e.complete(up, p1, store.PartInfo{Number: 4, ETag: p3.ETag})
	wantErr(e.t, "complete with a missing part", err, store.ErrInvalidPart)
	_, err = e.complete(up, p2, p1)
	wantErr(e.t, "complete out of order", err, store.ErrInvalidPartOrder)
	_, err = e.complete(up, p1, p1)
	wantErr(e.t, "complete with a repeated part", err, store.ErrInvalidPartOrder)
	_, err = e.complete(up, p1, p2, p3)
	wantErr(e.t, "complete with a small middle part", err, store.ErrEntityTooSmall)
	_, err = e.complete(up)
	if err == nil {
		e.t.Error("complete with no parts succeeded")
	}
	e.absent("b", "k")
	// Failed attempts leave the upload intact. Quoted ETags are accepted,
	// and parts not listed are dropped.
	info, err := e.b.CompleteMultipartUpload(e.ctx, "b", "k", up.UploadID, []store.CompletePart{
		{Number: 1, ETag: `"` + p1.ETag + `"`}, {Number: 3, ETag: p3.ETag},
	}, store.CompleteOptions{})
	if err != nil {
		e.t.Fatalf("complete after failures: %v", err)
	}
	if info.ETag != multipartETag(big1, []byte("last")) {
		e.t.Errorf("ETag = %q", info.ETag)
	}
	e.mustGet("b", "k", "", slices.Concat(big1, []byte("last")))
}

func testPartErrors(e *env) {
	e.mkbucket("b", store.Unversioned)
	up := e.create("b", "k", store.PutOptions{})
	for _, n := range []int{0, -1, 10001} {
		_, err := e.b.UploadPart(e.ctx, "b", "k", up.UploadID, n, strings.NewReader("x"), store.PartOptions{Size: 1})
		wantErr(e.t, fmt.Sprintf("UploadPart(%d)", n), err, store.ErrInvalidPartNumber)
	}
	_, err := e.b.UploadPart(e.ctx, "b", "k", up.UploadID, 1, strings.NewReader("x"), store.PartOptions{Size: 1, ContentMD5: md5sum([]byte("y"))})
	wantErr(e.t, "UploadPart with a wrong Content-MD5", err, store.ErrBadDigest)
	_, err = e.b.UploadPart(e.ctx, "b", "k", up.UploadID, 1, strings.NewReader("x"), store.PartOptions{Size: 2})
	wantErr(e.t, "UploadPart with a short body", err, store.ErrIncompleteBody)
	_, err = e.b.UploadPart(e.ctx, "b", "k", up.UploadID, 1, &failingReader{data: data(1<<20, 1), err: errTest}, store.PartOptions{Size: -1})
	wantErr(e.t, "UploadPart with a failing body", err, errTest)
	res, err := e.b.ListParts(e.ctx, "b", "k", up.UploadID, store.ListPartsOptions{})
	if err != nil || len(res.Parts) != 0 {
		e.t.Errorf("ListParts after failed uploads = %+v, %v", res.Parts, err)
	}
	_, err = e.b.UploadPart(e.ctx, "b", "k", "no-such-upload", 1, strings.NewReader("x"), store.PartOptions{Size: 1})
	wantErr(e.t, "UploadPart to a missing upload", err, store.ErrNoSuchUpload)
	p, err := e.b.UploadPart(e.ctx, "b", "k", up.UploadID, 2, strings.NewReader("ok"), store.PartOptions{Size: 2, ContentMD5: md5sum([]byte("ok"))})
	if err != nil || p.ETag != md5hex([]byte("ok")) {
		e.t.Errorf("UploadPart with a right Content-MD5 = %+v, %v", p, err)
	}
}

func testAbort(e *env) {
	e.mkbucket("b", store.Unversioned)
	up := e.create("b", "k", store.PutOptions{})
	e.part(up, 1, data(1<<20, 1))
	e.part(up, 2, []byte("x"))
	if err := e.b.AbortMultipartUpload(e.ctx, "b", "k", up.UploadID); err != nil {
		e.t.Fatal(err)
	}
	_, err := e.b.UploadPart(e.ctx, "b", "k", up.UploadID, 3, strings.NewReader("x"), store.PartOptions{Size: 1})
	wantErr(e.t, "UploadPart after abort", err, store.ErrNoSuchUpload)
	_, err = e.b.ListParts(e.ctx, "b", "k", up.UploadID, store.ListPartsOptions{})
	wantErr(e.t, "ListParts after abort", err, store.ErrNoSuchUpload)
	_, err = e.b.CompleteMultipartUpload(e.ctx, "b", "k", up.UploadID, []store.CompletePart{{Number: 1, ETag: md5hex([]byte("x"))}}, store.CompleteOptions{})
	wantErr(e.t, "complete after abort", err, store.ErrNoSuchUpload)
	wantErr(e.t, "abort twice", e.b.AbortMultipartUpload(e.ctx, "b", "k", up.UploadID), store.ErrNoSuchUpload)
	e.absent("b", "k")
	e.assertEmpty("b")
	if err := e.b.DeleteBucket(e.ctx, "b"); err != nil {
		e.t.Errorf("DeleteBucket after abort: %v", err)
	}
}

func testUploadWrongKey(e *env) {
	e.mkbucket("b", store.Unversioned)
	e.mkbucket("c", store.Unversioned)
	up := e.create("b", "k", store.PutOptions{})
	_, err := e.b.UploadPart(e.ctx, "b", "other", up.UploadID, 1, strings.NewReader("x"), store.PartOptions{Size: 1})
	wantErr(e.t, "UploadPart under another key", err, store.ErrNoSuchUpload)
	_, err = e.b.ListParts(e.ctx, "c", "k", up.UploadID, store.ListPartsOptions{})
	wantErr(e.t, "ListParts in another bucket", err, store.ErrNoSuchUpload)
	wantErr(e.t, "abort under another key", e.b.AbortMultipartUpload(e.ctx, "b", "other", up.UploadID), store.ErrNoSuchUpload)
	p := e.part(up, 1, []byte("x"))
	_, err = e.b.CompleteMultipartUpload(e.ctx, "b", "other", up.UploadID, []store.CompletePart{{Number: 1, ETag: p.ETag}}, store.CompleteOptions{})
	wantErr(e.t, "complete under another key", err, store.ErrNoSuchUpload)
	e.absent("b", "other")
}

func testMultipartVersioned(e *env) {
	e.mkbucket("b", store.Enabled)
	v1 := e.put("b", "k", []byte("plain"))
	up := e.create("b", "k", store.PutOptions{})
	p := e.part(up, 1, []byte("multi"))
	info, err := e.complete(up, p)
	if err != nil {
		e.t.Fatal(err)
	}
	if info.VersionID == "" || info.VersionID == v1.VersionID || info.VersionID == store.NullVersion {
		e.t.Errorf("completed version id %q", info.VersionID)
	}
	e.mustGet("b", "k", "", []byte("multi"))
	e.mustGet("b", "k", v1.VersionID, []byte("plain"))
	// An upload started before a newer put still becomes the latest when it completes.
	up2 := e.create("b", "k", store.PutOptions{})
	p2 := e.part(up2, 1, []byte("late"))
	e.put("b", "k", []byte("newer"))
	if _, err := e.complete(up2, p2); err != nil {
		e.t.Fatal(err)
	}
	e.mustGet("b", "k", "", []byte("late"))
	if n := len(e.versions("b", "")); n != 4 {
		e.t.Errorf("%d versions, want 4", n)
	}
}

func testListUploads(e *env) {
	e.mkbucket("b", store.Unversioned)
	keys := []string{"a", "a/1", "a/2", "b", "a", "c/d/e", "b"}
	var ups []store.Upload
	for _, k := range keys {
		ups = append(ups, e.create("b", k, store.PutOptions{}))
	}
	// Sorted by key, then by initiation.
	order := []int{0, 4, 1, 2, 3, 6, 5}
	res, err := e.b.ListMultipartUploads(e.ctx, "b", store.ListUploadsOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res.Uploads) != len(order) || res.IsTruncated {
		e.t.Fatalf("ListMultipartUploads = %+v", res)
	}
	for i, j := range order {
		if res.Uploads[i].UploadID != ups[j].UploadID || res.Uploads[i].Key != keys[j] {
			e.t.Errorf("upload %d = %s %s, want %s %s", i, res.Uploads[i].Key, res.Uploads[i].UploadID, keys[j], ups[j].UploadID)
		}
	}
	// Paging with both markers.
	for max := 1; max <= len(order); max++ {
		var got []string
		o := store.ListUploadsOptions{MaxUploads: max}
		for page := 0; ; page++ {
			if page > len(order) {
				e.t.Fatalf("paging with max %d does not end", max)
			}
			res, err := e.b.ListMultipartUploads(e.ctx, "b", o)
			if err != nil {
				e.t.Fatal(err)
			}
			for _, u := range res.Uploads {
				got = append(got, u.UploadID)
			}
			if !res.IsTruncated {
				break
			}
			last := res.Uploads[len(res.Uploads)-1]
			if res.NextKeyMarker != last.Key || res.NextUploadIDMarker != last.UploadID {
				e.t.Fatalf("next markers %q %q, last %s %s", res.NextKeyMarker, res.NextUploadIDMarker, last.Key, last.UploadID)
			}
			o.KeyMarker, o.UploadIDMarker = res.NextKeyMarker, res.NextUploadIDMarker
		}
		if len(got) != len(order) {
			e.t.Errorf("paging with max %d: %d uploads, want %d", max, len(got), len(order))
		}
	}
	// Prefix and delimiter.
	res, err = e.b.ListMultipartUploads(e.ctx, "b", store.ListUploadsOptions{Delimiter: "/"})
	if err != nil {
		e.t.Fatal(err)
	}
	var got []string
	for _, u := range res.Uploads {
		got = append(got, u.Key)
	}
	if !slices.Equal(got, []string{"a", "a", "b", "b"}) || !slices.Equal(res.CommonPrefixes, []string{"a/", "c/"}) {
		e.t.Errorf("with delimiter: uploads %q, prefixes %q", got, res.CommonPrefixes)
	}
	res, err = e.b.ListMultipartUploads(e.ctx, "b", store.ListUploadsOptions{Prefix: "a/"})
	if err != nil || len(res.Uploads) != 2 || res.Uploads[0].Key != "a/1" {
		e.t.Errorf("with prefix a/: %+v, %v", res, err)
	}
	// A key marker alone skips every upload of that key.
	res, err = e.b.ListMultipartUploads(e.ctx, "b", store.ListUploadsOptions{KeyMarker: "a/2"})
	if err != nil || len(res.Uploads) != 3 || res.Uploads[0].Key != "b" {
		e.t.Errorf("after key marker a/2: %+v, %v", res, err)
	}
}
