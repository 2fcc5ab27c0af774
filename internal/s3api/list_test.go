package s3api

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// fillBucket writes keys (each body is its key) through the store with a
// few writers in parallel.
func fillBucket(t testing.TB, ts *testServer, bucket string, keys []string) {
	t.Helper()
	const writers = 4
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(keys); i += writers {
				if _, err := ts.Store.PutObject(context.Background(), bucket, keys[i], strings.NewReader(keys[i]),
					storePut(int64(len(keys[i])))); err != nil {
					errs <- fmt.Errorf("put %q: %w", keys[i], err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// expectedListing computes, from the full key set, what a listing with
// prefix and delimiter must return, in order: "K:<key>" and "P:<prefix>".
func expectedListing(keys []string, prefix, delimiter string) []string {
	sorted := slices.Clone(keys)
	sort.Strings(sorted)
	var out []string
	seen := map[string]bool{}
	for _, k := range sorted {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if delimiter != "" {
			if i := strings.Index(k[len(prefix):], delimiter); i >= 0 {
				cp := k[:len(prefix)+i+len(delimiter)]
				if !seen[cp] {
					seen[cp] = true
					out = append(out, "P:"+cp)
				}
				continue
			}
		}
		out = append(out, "K:"+k)
	}
	return out
}

// pageEntries merges a page's objects and prefixes into listing order.
func pageEntries(objs []types.Object, cps []types.CommonPrefix) []string {
	var out []string
	for _, o := range objs {
		out = append(out, "K:"+aws.ToString(o.Key))
	}
	for _, p := range cps {
		out = append(out, "P:"+aws.ToString(p.Prefix))
	}
	sort.Slice(out, func(i, j int) bool { return out[i][2:] < out[j][2:] })
	return out
}

func listingKeys() []string {
	var keys []string
	for i := range 400 {
		keys = append(keys, fmt.Sprintf("top%04d", i))
	}
	for d := range 30 {
		for f := range 50 {
			keys = append(keys, fmt.Sprintf("dir%02d/file%03d", d, f))
		}
	}
	for s := range 10 {
		for l := range 10 {
			keys = append(keys, fmt.Sprintf("dir05/sub%02d/leaf%02d", s, l))
		}
	}
	return keys // 2000 keys
}

// TestListPagination pages through 2,000 keys with v1 and v2, with and
// without delimiters, and compares the union of the pages with the set
// computed from the keys.
func TestListPagination(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "pages")
	keys := listingKeys()
	fillBucket(t, ts, "pages", keys)

	cases := []struct {
		prefix, delimiter string
		pageSize          int32
	}{
		{"", "", 1000},
		{"", "", 333},
		{"", "/", 7},
		{"", "/", 1000},
		{"dir05/", "/", 13},
		{"dir1", "/", 3},
		{"dir0", "", 250},
		{"top01", "", 1},
		{"", "1", 100},
		{"nothing", "/", 10},
	}
	for _, tc := range cases {
		want := expectedListing(keys, tc.prefix, tc.delimiter)
		name := fmt.Sprintf("prefix=%q,delim=%q,size=%d", tc.prefix, tc.delimiter, tc.pageSize)
		t.Run("v1/"+name, func(t *testing.T) {
			var got []string
			marker := ""
			for i := 0; i < 2100; i++ {
				out, err := ts.Root.ListObjects(ctx, &s3.ListObjectsInput{
					Bucket: aws.String("pages"), Prefix: aws.String(tc.prefix), Delimiter: aws.String(tc.delimiter),
					Marker: aws.String(marker), MaxKeys: aws.Int32(tc.pageSize),
				})
				if err != nil {
					t.Fatal(err)
				}
				page := pageEntries(out.Contents, out.CommonPrefixes)
				if len(page) > int(tc.pageSize) {
					t.Fatalf("page of %d entries, max %d", len(page), tc.pageSize)
				}
				got = append(got, page...)
				truncated := aws.ToBool(out.IsTruncated)
				if !truncated {
					if out.NextMarker != nil {
						t.Fatalf("NextMarker %q on the last page", *out.NextMarker)
					}
					break
				}
				switch {
				case tc.delimiter == "" && out.NextMarker != nil:
					t.Fatalf("NextMarker %q without delimiter", *out.NextMarker)
				case tc.delimiter != "" && out.NextMarker == nil:
					t.Fatal("no NextMarker on a truncated page with delimiter")
				case tc.delimiter != "":
					marker = *out.NextMarker
				default:
					marker = aws.ToString(out.Contents[len(out.Contents)-1].Key)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paged listing has %d entries, want %d\nfirst difference at %d", len(got), len(want), firstDiff(got, want))
			}
		})
		t.Run("v2/"+name, func(t *testing.T) {
			var got []string
			p := s3.NewListObjectsV2Paginator(ts.Root, &s3.ListObjectsV2Input{
				Bucket: aws.String("pages"), Prefix: aws.String(tc.prefix), Delimiter: aws.String(tc.delimiter),
				MaxKeys: aws.Int32(tc.pageSize),
			})
			for i := 0; p.HasMorePages() && i < 2100; i++ {
				out, err := p.NextPage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				page := pageEntries(out.Contents, out.CommonPrefixes)
				if int(aws.ToInt32(out.KeyCount)) != len(page) {
					t.Fatalf("KeyCount %d, page has %d", aws.ToInt32(out.KeyCount), len(page))
				}
				if aws.ToBool(out.IsTruncated) != (out.NextContinuationToken != nil) {
					t.Fatalf("IsTruncated %v with NextContinuationToken %v", aws.ToBool(out.IsTruncated), out.NextContinuationToken)
				}
				got = append(got, page...)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("paged listing has %d entries, want %d\nfirst difference at %d", len(got), len(want), firstDiff(got, want))
			}
		})
	}

	t.Run("start-after", func(t *testing.T) {
		out, err := ts.Root.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
			Bucket: aws.String("pages"), StartAfter: aws.String("top0397"),
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := pageEntries(out.Contents, nil); !slices.Equal(got, []string{"K:top0398", "K:top0399"}) {
			t.Fatalf("after top0397: %v", got)
		}
		if aws.ToString(out.StartAfter) != "top0397" {
			t.Fatalf("StartAfter = %q", aws.ToString(out.StartAfter))
		}
	})

	t.Run("owner", func(t *testing.T) {
		v2, err := ts.Root.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("pages"), MaxKeys: aws.Int32(2)})
		if err != nil || len(v2.Contents) != 2 || v2.Contents[0].Owner != nil {
			t.Fatalf("v2 without fetch-owner: %+v, %v", v2.Contents, err)
		}
		v2, err = ts.Root.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("pages"), MaxKeys: aws.Int32(2), FetchOwner: aws.Bool(true)})
		if err != nil || v2.Contents[0].Owner == nil || aws.ToString(v2.Contents[0].Owner.ID) != userRoot.ID {
			t.Fatalf("v2 with fetch-owner: %+v, %v", v2.Contents, err)
		}
		v1, err := ts.Root.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("pages"), MaxKeys: aws.Int32(1)})
		if err != nil || v1.Contents[0].Owner == nil || aws.ToString(v1.Contents[0].Owner.ID) != userRoot.ID {
			t.Fatalf("v1 owner: %+v, %v", v1.Contents, err)
		}
		o := v1.Contents[0]
		if aws.ToString(o.ETag) != `"`+md5Hex([]byte(aws.ToString(o.Key)))+`"` || o.StorageClass != types.ObjectStorageClassStandard ||
			aws.ToInt64(o.Size) != int64(len(aws.ToString(o.Key))) || o.LastModified == nil {
			t.Fatalf("object entry %+v", o)
		}
	})
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestListURLEncoding lists keys that XML or URLs mangle, with and without
// encoding-type=url.
func TestListURLEncoding(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "odd")
	keys := []string{"a b", "a+b", "a%41", "ümlaut/é", "q?x=1&y=2#f", "sp ace/in dir", "tab\tkey", "ctl\x01key", "lt<gt>", "~tilde"}
	fillBucket(t, ts, "odd", keys)

	decode := func(t *testing.T, s *string) string {
		t.Helper()
		v, err := url.QueryUnescape(aws.ToString(s))
		if err != nil {
			t.Fatalf("undecodable %q: %v", aws.ToString(s), err)
		}
		return v
	}
	t.Run("v2 flat", func(t *testing.T) {
		out, err := ts.Root.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("odd"), EncodingType: types.EncodingTypeUrl})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range out.Contents {
			got = append(got, decode(t, o.Key))
		}
		want := slices.Sorted(slices.Values(keys))
		if !slices.Equal(got, want) {
			t.Fatalf("decoded keys %q, want %q", got, want)
		}
		if out.EncodingType != types.EncodingTypeUrl {
			t.Fatalf("EncodingType = %q", out.EncodingType)
		}
	})
	t.Run("v1 delimiter space", func(t *testing.T) {
		out, err := ts.Root.ListObjects(ctx, &s3.ListObjectsInput{
			Bucket: aws.String("odd"), Delimiter: aws.String(" "), Marker: aws.String("a b"), EncodingType: types.EncodingTypeUrl,
		})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.Delimiter) != "%20" || aws.ToString(out.Marker) != "a%20b" {
			t.Fatalf("Delimiter %q Marker %q, want encoded", aws.ToString(out.Delimiter), aws.ToString(out.Marker))
		}
		var cps []string
		for _, p := range out.CommonPrefixes {
			cps = append(cps, decode(t, p.Prefix))
		}
		if !slices.Equal(cps, []string{"sp "}) {
			t.Fatalf("common prefixes %q", cps)
		}
	})
	t.Run("v2 start-after encoded", func(t *testing.T) {
		out, err := ts.Root.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
			Bucket: aws.String("odd"), StartAfter: aws.String("q?x=1&y=2#f"), Prefix: aws.String("q"), EncodingType: types.EncodingTypeUrl,
		})
		if err != nil || aws.ToString(out.StartAfter) != "q%3Fx%3D1%26y%3D2%23f" || len(out.Contents) != 0 {
			t.Fatalf("StartAfter %q, %d objects, %v", aws.ToString(out.StartAfter), len(out.Contents), err)
		}
	})
	t.Run("plain keys unencoded", func(t *testing.T) {
		out, err := ts.Root.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("odd"), Prefix: aws.String("a")})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range out.Contents {
			got = append(got, aws.ToString(o.Key))
		}
		if !slices.Equal(got, []string{"a b", "a%41", "a+b"}) {
			t.Fatalf("keys %q", got)
		}
	})
}

func TestListErrors(t *testing.T) {
	ts := newTestServer(t)
	ts.CreateBucket(t, ts.Root, "errs")
	tests := []struct {
		query  string
		code   string
		status int
	}{
		{"max-keys=-1", "InvalidArgument", 400},
		{"max-keys=abc", "InvalidArgument", 400},
		{"list-type=2&max-keys=1.5", "InvalidArgument", 400},
		{"encoding-type=xml", "InvalidArgument", 400},
		{"list-type=2&encoding-type=", "InvalidArgument", 400},
		{"list-type=2&continuation-token=garbage", "InvalidArgument", 400},
		{"versions&version-id-marker=abc", "InvalidArgument", 400},
		{"versions&max-keys=x", "InvalidArgument", 400},
		{"uploads&max-uploads=-5", "InvalidArgument", 400},
		{"uploads&encoding-type=base64", "InvalidArgument", 400},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp := ts.Do(t, userRoot, http.MethodGet, "/errs?"+tt.query, nil, nil)
			if body := readAll(t, resp.Body); resp.StatusCode != tt.status || xmlCode(body) != tt.code {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, tt.status, tt.code)
			}
		})
	}
	for _, q := range []string{"no-such-bucket?list-type=2", "no-such-bucket", "no-such-bucket?versions", "no-such-bucket?uploads"} {
		resp := ts.Do(t, userRoot, http.MethodGet, "/"+q, nil, nil)
		if body := readAll(t, resp.Body); resp.StatusCode != 404 || xmlCode(body) != "NoSuchBucket" {
			t.Errorf("%s: got %d %s, want NoSuchBucket", q, resp.StatusCode, body)
		}
	}

	putStoreObject(t, ts, "errs", "k", "v")
	t.Run("max-keys=0", func(t *testing.T) {
		out, err := ts.Root.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("errs"), MaxKeys: aws.Int32(0)})
		if err != nil || len(out.Contents) != 0 || aws.ToBool(out.IsTruncated) || aws.ToInt32(out.KeyCount) != 0 {
			t.Fatalf("max-keys=0: %+v, %v", out, err)
		}
	})
	t.Run("max-keys clamped", func(t *testing.T) {
		out, err := ts.Root.ListObjects(context.Background(), &s3.ListObjectsInput{Bucket: aws.String("errs"), MaxKeys: aws.Int32(5000)})
		if err != nil || aws.ToInt32(out.MaxKeys) != 1000 || len(out.Contents) != 1 {
			t.Fatalf("max-keys=5000: %+v, %v", out, err)
		}
	})
}

// TestListXMLShape checks the raw v2 document against what S3 sends.
func TestListXMLShape(t *testing.T) {
	ts := newTestServer(t)
	ts.CreateBucket(t, ts.Root, "shape")
	putStoreObject(t, ts, "shape", "d/k", "v")
	resp := ts.Do(t, userRoot, http.MethodGet, "/shape?list-type=2&delimiter=/&encoding-type=url", nil, nil)
	body := string(readAll(t, resp.Body))
	for _, want := range []string{
		`<?xml version="1.0" encoding="UTF-8"?>`,
		`<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>shape</Name><Prefix></Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>d/</Prefix></CommonPrefixes></ListBucketResult>`,
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("document lacks %s:\n%s", want, body)
		}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
		t.Fatalf("Content-Type %q", ct)
	}
	var v struct {
		XMLName xml.Name
	}
	if err := xml.Unmarshal([]byte(body), &v); err != nil || v.XMLName.Space != s3Namespace {
		t.Fatalf("namespace %q, %v", v.XMLName.Space, err)
	}
}

// An empty continuation token lists from the start and is echoed back
// (RGW behaviour the conformance suite checks).
func TestListV2EmptyContinuationToken(t *testing.T) {
	ts := newTestServer(t)
	c := ts.Client(userRoot)
	ts.CreateBucket(t, c, "tok")
	ts.PutObject(t, c, "tok", "a", []byte("1"))
	ts.PutObject(t, c, "tok", "b", []byte("2"))
	out, err := c.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("tok"), ContinuationToken: aws.String("")})
	if err != nil {
		t.Fatal(err)
	}
	if out.ContinuationToken == nil || *out.ContinuationToken != "" || len(out.Contents) != 2 || aws.ToBool(out.IsTruncated) {
		t.Fatalf("ContinuationToken %v, %d keys, truncated %v", out.ContinuationToken, len(out.Contents), aws.ToBool(out.IsTruncated))
	}
}

// Owners in listings carry the user's display name, not only its id.
func TestListOwnerDisplayNames(t *testing.T) {
	ts := newTestServer(t)
	c := ts.Client(userRoot)
	ctx := context.Background()
	ts.CreateBucket(t, c, "names")
	ts.PutObject(t, c, "names", "k", []byte("v"))
	if _, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("names"), Key: aws.String("up")}); err != nil {
		t.Fatal(err)
	}
	want := userRoot.ID + "-name"
	l2, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("names"), FetchOwner: aws.Bool(true)})
	if err != nil || len(l2.Contents) != 1 || aws.ToString(l2.Contents[0].Owner.DisplayName) != want {
		t.Fatalf("ListObjectsV2 owner: %+v, %v", l2, err)
	}
	ups, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("names")})
	if err != nil || len(ups.Uploads) != 1 || aws.ToString(ups.Uploads[0].Owner.DisplayName) != want || aws.ToString(ups.Uploads[0].Initiator.DisplayName) != want {
		t.Fatalf("ListMultipartUploads owner: %+v, %v", ups, err)
	}
	buckets, err := c.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || aws.ToString(buckets.Owner.DisplayName) != want {
		t.Fatalf("ListBuckets owner: %+v, %v", buckets, err)
	}
}

// ListObjects v1 returns its Prefix as sent, even with encoding-type=url:
// botocore does not decode it (RGW does not encode it).
func TestListV1PrefixNotEncoded(t *testing.T) {
	ts := newTestServer(t)
	ts.CreateBucket(t, ts.Root, "pfx")
	resp := ts.Do(t, userRoot, "GET", "/pfx?prefix=a%20b&encoding-type=url", nil, nil)
	body := string(readAll(t, resp.Body))
	if resp.StatusCode != 200 || !strings.Contains(body, "<Prefix>a b</Prefix>") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}
