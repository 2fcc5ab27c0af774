package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// randomBody returns n deterministic pseudo-random bytes.
func randomBody(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)})
	_, _ = r.Read(b)
	return b
}

// multipartETag is S3's ETag of a multipart object: the md5 of the parts'
// binary md5s, then "-" and the part count.
func multipartETag(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		sum := md5.Sum(p)
		h.Write(sum[:])
	}
	return fmt.Sprintf("%s-%d", hex.EncodeToString(h.Sum(nil)), len(parts))
}

// uploadParts starts an upload and sends the bodies as parts 1..n.
func uploadParts(t *testing.T, c *s3.Client, bucket, key string, bodies ...[]byte) (string, []types.CompletedPart) {
	t.Helper()
	ctx := context.Background()
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("create upload: %v", err)
	}
	var parts []types.CompletedPart
	for i, body := range bodies {
		n := aws.Int32(int32(i + 1))
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId, PartNumber: n, Body: bytes.NewReader(body),
		})
		if err != nil {
			t.Fatalf("upload part %d: %v", i+1, err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: n, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	}
	return aws.ToString(up.UploadId), parts
}

func TestMultipartUpload(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	c := ts.Root
	ts.CreateBucket(t, c, "mpu")
	bodies := [][]byte{randomBody(1, 5<<20), randomBody(2, 5<<20+7), randomBody(3, 1234)}
	uploadID, parts := uploadParts(t, c, "mpu", "big/object", bodies...)

	t.Run("ListParts paging", func(t *testing.T) {
		var got []int32
		p := s3.NewListPartsPaginator(c, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big/object"), UploadId: aws.String(uploadID), MaxParts: aws.Int32(1)})
		for i := 0; p.HasMorePages() && i < 10; i++ {
			out, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.Initiator.ID) != userRoot.ID || aws.ToString(out.Owner.ID) != userRoot.ID || out.StorageClass != types.StorageClassStandard {
				t.Fatalf("initiator/owner/class %+v %+v %q", out.Initiator, out.Owner, out.StorageClass)
			}
			for _, part := range out.Parts {
				n := aws.ToInt32(part.PartNumber)
				if aws.ToString(part.ETag) != `"`+md5Hex(bodies[n-1])+`"` || aws.ToInt64(part.Size) != int64(len(bodies[n-1])) {
					t.Fatalf("part %d: %+v", n, part)
				}
				got = append(got, n)
			}
			if aws.ToBool(out.IsTruncated) && aws.ToString(out.NextPartNumberMarker) != fmt.Sprint(got[len(got)-1]) {
				t.Fatalf("NextPartNumberMarker %q after part %d", aws.ToString(out.NextPartNumberMarker), got[len(got)-1])
			}
		}
		if !slices.Equal(got, []int32{1, 2, 3}) {
			t.Fatalf("parts %v", got)
		}
	})

	t.Run("ListMultipartUploads", func(t *testing.T) {
		out, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("mpu")})
		if err != nil || len(out.Uploads) != 1 || aws.ToString(out.Uploads[0].UploadId) != uploadID ||
			aws.ToString(out.Uploads[0].Key) != "big/object" || aws.ToString(out.Uploads[0].Initiator.ID) != userRoot.ID {
			t.Fatalf("uploads %+v, %v", out.Uploads, err)
		}
	})

	out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("mpu"), Key: aws.String("big/object"), UploadId: aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		t.Fatalf("complete: %v", err)
	}
	wantETag := `"` + multipartETag(bodies...) + `"`
	if aws.ToString(out.ETag) != wantETag {
		t.Fatalf("ETag %s, want %s", aws.ToString(out.ETag), wantETag)
	}
	if aws.ToString(out.Bucket) != "mpu" || aws.ToString(out.Key) != "big/object" || aws.ToString(out.Location) != ts.URL+"/mpu/big/object" || out.VersionId != nil {
		t.Fatalf("complete output %+v", out)
	}

	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/object")})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(5<<20+5<<20+7+1234) || aws.ToString(head.ETag) != wantETag {
		t.Fatalf("head %+v, %v", head, err)
	}
	for n := range 3 {
		got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mpu"), Key: aws.String("big/object"), PartNumber: aws.Int32(int32(n + 1))})
		if err != nil {
			t.Fatalf("GET part %d: %v", n+1, err)
		}
		if b := readAll(t, got.Body); !bytes.Equal(b, bodies[n]) || aws.ToInt32(got.PartsCount) != 3 {
			t.Fatalf("GET part %d: %d bytes (want %d), PartsCount %d", n+1, len(b), len(bodies[n]), aws.ToInt32(got.PartsCount))
		}
	}
	if _, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mpu"), Key: aws.String("big/object"), UploadId: aws.String(uploadID)}); errCode(err) != "NoSuchUpload" {
		t.Fatalf("ListParts after complete: %v, want NoSuchUpload", err)
	}
}

func TestMultipartErrors(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	c := ts.Root
	ts.CreateBucket(t, c, "mperr")
	big := randomBody(4, 5<<20)
	uploadID, parts := uploadParts(t, c, "mperr", "k", big, []byte("tail"))
	smallID, smallParts := uploadParts(t, c, "mperr", "small", []byte("one"), []byte("two"))

	complete := func(id string, ps []types.CompletedPart) error {
		_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String("mperr"), Key: aws.String("k"), UploadId: aws.String(id),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: ps},
		})
		return err
	}
	bad := func(mut func(p *types.CompletedPart)) []types.CompletedPart {
		ps := slices.Clone(parts)
		mut(&ps[0])
		return ps
	}
	tests := []struct {
		name   string
		err    func() error
		code   string
		status int
	}{
		{"wrong etag", func() error {
			return complete(uploadID, bad(func(p *types.CompletedPart) { p.ETag = aws.String(`"00000000000000000000000000000000"`) }))
		}, "InvalidPart", 400},
		{"missing part", func() error {
			return complete(uploadID, []types.CompletedPart{parts[0], {PartNumber: aws.Int32(3), ETag: parts[1].ETag}})
		}, "InvalidPart", 400},
		{"descending", func() error { return complete(uploadID, []types.CompletedPart{parts[1], parts[0]}) }, "InvalidPartOrder", 400},
		{"too small", func() error {
			_, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
				Bucket: aws.String("mperr"), Key: aws.String("small"), UploadId: aws.String(smallID),
				MultipartUpload: &types.CompletedMultipartUpload{Parts: smallParts},
			})
			return err
		}, "EntityTooSmall", 400},
		{"no such upload", func() error { return complete("bm9wZQ", parts) }, "NoSuchUpload", 404},
		{"abort no such upload", func() error {
			_, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mperr"), Key: aws.String("k"), UploadId: aws.String("bm9wZQ")})
			return err
		}, "NoSuchUpload", 404},
		{"list parts no such upload", func() error {
			_, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mperr"), Key: aws.String("k"), UploadId: aws.String("bm9wZQ")})
			return err
		}, "NoSuchUpload", 404},
		{"other user", func() error {
			_, err := ts.Alt.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
				Bucket: aws.String("mperr"), Key: aws.String("k"), UploadId: aws.String(uploadID),
				MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
			})
			return err
		}, "AccessDenied", 403},
		{"bad checksum algorithm", func() error {
			_, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("mperr"), Key: aws.String("x"),
				ChecksumAlgorithm: types.ChecksumAlgorithm("MD4")})
			return err
		}, "InvalidRequest", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.err(), tt.code, tt.status) })
	}

	t.Run("raw documents", func(t *testing.T) {
		path := "/mperr/k?uploadId=" + uploadID
		for _, tt := range []struct {
			name, body, code string
		}{
			{"malformed", "<CompleteMultipartUpload><Part>", "MalformedXML"},
			{"empty list", "<CompleteMultipartUpload></CompleteMultipartUpload>", "MalformedXML"},
			{"empty body", "", "MalformedXML"},
			{"part zero", "<CompleteMultipartUpload><Part><PartNumber>0</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>", "InvalidArgument"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				resp := ts.Do(t, userRoot, http.MethodPost, path, []byte(tt.body), nil)
				if body := readAll(t, resp.Body); resp.StatusCode != 400 || xmlCode(body) != tt.code {
					t.Fatalf("got %d %s, want 400 %s", resp.StatusCode, body, tt.code)
				}
			})
		}
	})

	// The failed attempts left the upload intact; complete it with unquoted
	// ETags (as some clients send), then abort the other.
	for i := range parts {
		parts[i].ETag = aws.String(strings.Trim(aws.ToString(parts[i].ETag), `"`))
	}
	if err := complete(uploadID, parts); err != nil {
		t.Fatalf("complete after failures: %v", err)
	}
	if _, err := c.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: aws.String("mperr"), Key: aws.String("small"), UploadId: aws.String(smallID)}); err != nil {
		t.Fatalf("abort: %v", err)
	}
	_, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mperr"), Key: aws.String("small"), UploadId: aws.String(smallID)})
	wantErr(t, err, "NoSuchUpload", 404)
}

func TestMultipartVersioned(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	c := ts.Root
	ts.CreateBucket(t, c, "mpver")
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("mpver"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	id, parts := uploadParts(t, c, "mpver", "k", []byte("only part"))
	out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("mpver"), Key: aws.String("k"), UploadId: aws.String(id),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
	})
	if err != nil {
		t.Fatal(err)
	}
	if v := aws.ToString(out.VersionId); v == "" || v == "null" {
		t.Fatalf("x-amz-version-id = %q", v)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpver"), Key: aws.String("k"), VersionId: out.VersionId})
	if err != nil || aws.ToString(head.ETag) != `"`+multipartETag([]byte("only part"))+`"` {
		t.Fatalf("head %+v, %v", head, err)
	}
}

func TestListMultipartUploads(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	c := ts.Root
	ts.CreateBucket(t, c, "uploads")
	var want []string
	for _, k := range []string{"mp/a", "mp/a", "mp/b", "other", "z z"} {
		up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("uploads"), Key: aws.String(k),
			ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c})
		if err != nil {
			t.Fatal(err)
		}
		if up.ChecksumAlgorithm != types.ChecksumAlgorithmCrc32c || up.ChecksumType != types.ChecksumTypeComposite {
			t.Fatalf("create response checksum %q/%q", up.ChecksumAlgorithm, up.ChecksumType)
		}
		want = append(want, k+" "+aws.ToString(up.UploadId))
	}
	slices.Sort(want) // same key: upload ids sort as the store orders them
	full, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("uploads")})
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, u := range full.Uploads {
		all = append(all, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
		if u.ChecksumAlgorithm != types.ChecksumAlgorithmCrc32c || u.Initiated == nil {
			t.Fatalf("upload entry %+v", u)
		}
	}
	if len(all) != 5 || !slices.Equal(sortedCopy(all), want) {
		t.Fatalf("uploads %q, want %q", all, want)
	}

	var paged []string
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String("uploads"), MaxUploads: aws.Int32(1)}
	for i := 0; i < 10; i++ {
		out, err := c.ListMultipartUploads(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.Uploads {
			paged = append(paged, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
		}
		if !aws.ToBool(out.IsTruncated) {
			break
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
	if !slices.Equal(paged, all) {
		t.Fatalf("paged %q, want %q", paged, all)
	}

	out, err := c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("uploads"), Delimiter: aws.String("/")})
	if err != nil || len(out.CommonPrefixes) != 1 || aws.ToString(out.CommonPrefixes[0].Prefix) != "mp/" || len(out.Uploads) != 2 {
		t.Fatalf("with delimiter: %+v, %v", out, err)
	}
	out, err = c.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("uploads"), Prefix: aws.String("z"), EncodingType: types.EncodingTypeUrl})
	if err != nil || len(out.Uploads) != 1 || aws.ToString(out.Uploads[0].Key) != "z%20z" {
		t.Fatalf("url-encoded: %+v, %v", out, err)
	}
	// Open uploads do not keep a bucket alive (S3, RGW): they go with it.
	if _, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("uploads")}); err != nil {
		t.Fatalf("DeleteBucket with only open uploads: %v", err)
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// TestManagerUpload sends a 64 MiB body with the SDK's parallel uploader
// and reads it back.
func TestManagerUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB upload")
	}
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "managed")
	body := randomBody(64, 64<<20)
	const partSize = 8 << 20
	//lint:ignore SA1019 manager.Uploader is what most deployed Go programs upload with; it stays a client of this test
	up := manager.NewUploader(ts.Root, func(u *manager.Uploader) {
		u.PartSize = partSize
		u.Concurrency = 4
	})
	//lint:ignore SA1019 see NewUploader above
	out, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String("managed"), Key: aws.String("blob"), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	var chunks [][]byte
	for off := 0; off < len(body); off += partSize {
		chunks = append(chunks, body[off:min(off+partSize, len(body))])
	}
	if want := `"` + multipartETag(chunks...) + `"`; aws.ToString(out.ETag) != want {
		t.Fatalf("ETag %s, want %s", aws.ToString(out.ETag), want)
	}
	got, err := ts.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("managed"), Key: aws.String("blob")})
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := h.Write(readAll(t, got.Body))
	if err != nil || n != len(body) {
		t.Fatalf("read %d bytes, %v", n, err)
	}
	if want := sha256.Sum256(body); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatal("body differs from what was uploaded")
	}
}

func TestCompleteConditional(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	c := ts.Root
	ts.CreateBucket(t, c, "mpcond")
	complete := func(key string, mut func(*s3.CompleteMultipartUploadInput)) error {
		id, parts := uploadParts(t, c, "mpcond", key, []byte("body of "+key))
		in := &s3.CompleteMultipartUploadInput{Bucket: aws.String("mpcond"), Key: aws.String(key), UploadId: aws.String(id),
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}
		mut(in)
		_, err := c.CompleteMultipartUpload(ctx, in)
		return err
	}
	if err := complete("new", func(in *s3.CompleteMultipartUploadInput) { in.IfNoneMatch = aws.String("*") }); err != nil {
		t.Fatalf("If-None-Match * on a new key: %v", err)
	}
	err := complete("new", func(in *s3.CompleteMultipartUploadInput) { in.IfNoneMatch = aws.String("*") })
	wantErr(t, err, "PreconditionFailed", 412)
	err = complete("missing", func(in *s3.CompleteMultipartUploadInput) { in.IfMatch = aws.String(`"abc"`) })
	wantErr(t, err, "NoSuchKey", 404)
	err = complete("new", func(in *s3.CompleteMultipartUploadInput) { in.IfMatch = aws.String(`"abc"`) })
	wantErr(t, err, "PreconditionFailed", 412)
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("mpcond"), Key: aws.String("new")})
	if err != nil {
		t.Fatal(err)
	}
	if err := complete("new", func(in *s3.CompleteMultipartUploadInput) { in.IfMatch = head.ETag }); err != nil {
		t.Fatalf("If-Match with the current ETag: %v", err)
	}
}

// TestCompleteIfNoneMatchConcurrent: of concurrent completions of different
// uploads to one key, all with If-None-Match: *, exactly one creates the
// object; the others fail with 412 and keep their uploads. The store's
// hook holds the first commit open until every request has reached the
// server, so a check made outside the commit would pass for all of them.
func TestCompleteIfNoneMatchConcurrent(t *testing.T) {
	const n = 8
	var arrived sync.WaitGroup
	arrived.Add(n)
	var first sync.Once
	hook := func(_ context.Context, c store.Change, _ store.RecordWriter) error {
		if c.Kind == store.ChangeCompleteMultipart {
			// Bounded: with the check inside the commit the other
			// requests wait for this one's key lock, not the reverse.
			first.Do(func() { waitBounded(&arrived, 10*time.Second); time.Sleep(100 * time.Millisecond) })
		}
		return nil
	}
	ts := newHookedServer(t, hook, func(r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Query().Has("uploadId") {
			arrived.Done()
		}
	})
	ctx := context.Background()
	c := ts.Root
	ts.CreateBucket(t, c, "mprace")
	ids := make([]string, n)
	parts := make([][]types.CompletedPart, n)
	for i := range n {
		ids[i], parts[i] = uploadParts(t, c, "mprace", "k", []byte(fmt.Sprintf("upload %d", i)))
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("mprace"), Key: aws.String("k"),
				UploadId: aws.String(ids[i]), MultipartUpload: &types.CompletedMultipartUpload{Parts: parts[i]}, IfNoneMatch: aws.String("*")})
		}()
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("completions %d and %d both succeeded with If-None-Match: *", winner, i)
		case err == nil:
			winner = i
		default:
			wantErr(t, err, "PreconditionFailed", 412)
		}
	}
	if winner < 0 {
		t.Fatal("no completion succeeded")
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("mprace"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	if body := string(readAll(t, got.Body)); body != fmt.Sprintf("upload %d", winner) {
		t.Errorf("object holds %q, want the winner's upload %d", body, winner)
	}
	// A loser's upload is still there to complete without the condition.
	loser := (winner + 1) % n
	if _, err := c.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("mprace"), Key: aws.String("k"), UploadId: aws.String(ids[loser])}); err != nil {
		t.Errorf("losing upload gone: %v", err)
	}
}

// waitBounded waits for wg, or at most d.
func waitBounded(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// newHookedServer is newTestServer with a store ChangeHook and a function
// that sees every request as it arrives.
func newHookedServer(t *testing.T, hook store.ChangeHook, arrived func(*http.Request)) *testServer {
	t.Helper()
	st, err := local.Open(t.TempDir(), local.Options{Hook: hook})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	verifier := auth.New(staticCredentials{userRoot, userAlt}, auth.Options{Region: testRegion, MaxSkew: 15 * time.Minute})
	api := New(st, verifier, Config{Region: testRegion, Logger: slog.New(slog.DiscardHandler), Users: testUsers{}})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived(r)
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hs.Close()
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	ts := &testServer{URL: hs.URL, API: api, Store: st, HTTP: hs}
	ts.Root = ts.Client(userRoot)
	ts.Alt = ts.Client(userAlt)
	return ts
}

func TestListPartsParams(t *testing.T) {
	ts := newTestServer(t)
	c := ts.Root
	ts.CreateBucket(t, c, "lpp")
	id, _ := uploadParts(t, c, "lpp", "k", []byte("a"), []byte("b"))
	for _, tt := range []struct {
		query, code string
		status      int
		contains    string
	}{
		{"max-parts=-1", "InvalidArgument", 400, ""},
		{"max-parts=x", "InvalidArgument", 400, ""},
		{"part-number-marker=x", "InvalidArgument", 400, ""},
		{"max-parts=0", "", 200, "<MaxParts>0</MaxParts><IsTruncated>true</IsTruncated><Initiator>"},
		{"part-number-marker=1", "", 200, "<PartNumberMarker>1</PartNumberMarker><NextPartNumberMarker>2</NextPartNumberMarker><MaxParts>1000</MaxParts><IsTruncated>false</IsTruncated><Part><PartNumber>2</PartNumber>"},
	} {
		t.Run(tt.query, func(t *testing.T) {
			resp := ts.Do(t, userRoot, http.MethodGet, "/lpp/k?uploadId="+id+"&"+tt.query, nil, nil)
			body := readAll(t, resp.Body)
			if resp.StatusCode != tt.status || xmlCode(body) != tt.code || !strings.Contains(string(body), tt.contains) {
				t.Fatalf("got %d %s, want %d %s containing %s", resp.StatusCode, body, tt.status, tt.code, tt.contains)
			}
		})
	}
}

// A client that lost the answer to CompleteMultipartUpload retries it and
// gets the same object (S3, RGW; the conformance suite checks it).
func TestCompleteMultipartUploadTwice(t *testing.T) {
	ts := newTestServer(t)
	c := ts.Client(userRoot)
	ctx := context.Background()
	ts.CreateBucket(t, c, "twice")
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("twice"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("twice"), Key: aws.String("k"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	if err != nil {
		t.Fatal(err)
	}
	in := &s3.CompleteMultipartUploadInput{Bucket: aws.String("twice"), Key: aws.String("k"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: p.ETag}}}}
	first, err := c.CompleteMultipartUpload(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CompleteMultipartUpload(ctx, in)
	if err != nil {
		t.Fatalf("repeated complete: %v", err)
	}
	if aws.ToString(again.ETag) != aws.ToString(first.ETag) {
		t.Fatalf("repeated complete ETag %s, first %s", aws.ToString(again.ETag), aws.ToString(first.ETag))
	}
}
