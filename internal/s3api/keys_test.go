package s3api

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/store"
)

// wantNoObject fails the test unless bucket/key does not exist in the store.
func wantNoObject(t *testing.T, ts *testServer, bucket, key string) {
	t.Helper()
	_, err := ts.Store.HeadObject(context.Background(), bucket, key, store.GetOptions{})
	if !errors.Is(err, store.ErrNoSuchKey) {
		t.Fatalf("store head %q: %v, want no such key", key, err)
	}
}

// TestInvalidKeysRejected writes keys that are not UTF-8 or carry NUL
// (aws-sdk-go-v2 percent-encodes their bytes as they are): every operation
// that would create such a key answers 400 InvalidURI and stores nothing.
func TestInvalidKeysRejected(t *testing.T) {
	ts := newTestServer(t)
	ts.CreateBucket(t, ts.Root, "keys")
	putStoreObject(t, ts, "keys", "src", "source")
	ctx := context.Background()
	bkt := aws.String("keys")
	for _, key := range []string{"bad\xffkey", "half\xc3", "nul\x00key"} {
		k := aws.String(key)
		_, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: bkt, Key: k, Body: strings.NewReader("body")})
		wantErr(t, err, "InvalidURI", http.StatusBadRequest)
		_, err = ts.Root.CopyObject(ctx, &s3.CopyObjectInput{Bucket: bkt, Key: k, CopySource: aws.String("keys/src")})
		wantErr(t, err, "InvalidURI", http.StatusBadRequest)
		_, err = ts.Root.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: bkt, Key: k})
		wantErr(t, err, "InvalidURI", http.StatusBadRequest)
		_, err = ts.Root.UploadPart(ctx, &s3.UploadPartInput{Bucket: bkt, Key: k, UploadId: aws.String("x"), PartNumber: aws.Int32(1), Body: strings.NewReader("p")})
		wantErr(t, err, "InvalidURI", http.StatusBadRequest)
		wantNoObject(t, ts, "keys", key)
	}
	ups, err := ts.Store.ListMultipartUploads(ctx, "keys", store.ListUploadsOptions{})
	if err != nil || len(ups.Uploads) != 0 {
		t.Fatalf("uploads %+v, %v", ups.Uploads, err)
	}
}

// TestInvalidPostFormKeyRejected: a browser form's key field is checked
// like a path key.
func TestInvalidPostFormKeyRejected(t *testing.T) {
	ts := newTestServer(t)
	if _, err := ts.Root.CreateBucket(context.Background(), &s3.CreateBucketInput{
		Bucket: aws.String("open"), ACL: types.BucketCannedACLPublicReadWrite,
	}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"bad\xffkey", "nul\x00key", "up/${filename}"} {
		pairs := []string{"key", key, "file", "x"}
		resp, body := postRaw(t, ts.URL+"/open", pairs...)
		if key == "up/${filename}" {
			// A valid key field whose substituted file name is valid too.
			wantPostStatus(t, resp, body, http.StatusNoContent, "")
			continue
		}
		wantPostStatus(t, resp, body, http.StatusBadRequest, "InvalidArgument")
		wantNoObject(t, ts, "open", key)
	}
}

// TestLegacyInvalidKeyWayOut: an object stored under a non-UTF-8 key
// before keys were checked lists under encoding-type=url as its raw bytes
// percent-encoded, and that name reads and deletes it.
func TestLegacyInvalidKeyWayOut(t *testing.T) {
	ts := newTestServer(t)
	ts.CreateBucket(t, ts.Root, "legacy")
	putStoreObject(t, ts, "legacy", "old\xffkey", "old bytes") // as a build before the check stored it
	ctx := context.Background()

	list, err := ts.Root.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("legacy"), EncodingType: types.EncodingTypeUrl})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "old%FFkey" {
		t.Fatalf("listed %+v, want one key old%%FFkey", list.Contents)
	}
	// What a client does with an encoding-type=url listing: decode, then
	// address the key (the SDK percent-encodes its bytes again).
	key, err := url.PathUnescape(aws.ToString(list.Contents[0].Key))
	if err != nil {
		t.Fatal(err)
	}
	get, err := ts.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("legacy"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GET by listed name: %v", err)
	}
	if body := readAll(t, get.Body); string(body) != "old bytes" {
		t.Fatalf("GET by listed name: %q", body)
	}
	// A PUT to the same name is refused: the key can go, not be renewed.
	_, err = ts.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("legacy"), Key: aws.String(key), Body: strings.NewReader("new")})
	wantErr(t, err, "InvalidURI", http.StatusBadRequest)
	if _, err := ts.Root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("legacy"), Key: aws.String(key)}); err != nil {
		t.Fatalf("DELETE by listed name: %v", err)
	}
	wantNoObject(t, ts, "legacy", "old\xffkey")
}

func TestValidKey(t *testing.T) {
	for key, want := range map[string]bool{
		"plain": true, "ünïcödé/日本": true, strings.Repeat("a", 1024): true, "tab\tand\nnewline": true,
		"\xff": false, "a\x00b": false, "\xc3": false, "\xed\xa0\x80": false, // a lone surrogate is not UTF-8
	} {
		if got := validKey(key); got != want {
			t.Errorf("validKey(%q) = %v, want %v", key, got, want)
		}
	}
}
