package s3api

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/sse"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// newSSEServer is newTestServer with an SSE master key, also returning the
// store's data directory so tests can look at the bytes at rest.
func newSSEServer(t *testing.T) (*testServer, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := local.Open(dir, local.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	keys, err := sse.LoadOrCreateKeyring(filepath.Join(t.TempDir(), "sse.key"))
	if err != nil {
		t.Fatal(err)
	}
	verifier := auth.New(staticCredentials{userRoot, userAlt}, auth.Options{Region: testRegion, MaxSkew: 15 * time.Minute})
	api := New(st, verifier, Config{Region: testRegion, Logger: slog.New(slog.DiscardHandler), SSE: keys})
	hs := httptest.NewServer(api)
	t.Cleanup(func() {
		hs.Close()
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	ts := &testServer{URL: hs.URL, API: api, Store: st, HTTP: hs}
	ts.Root = ts.Client(userRoot)
	ts.Alt = ts.Client(userAlt)
	return ts, dir
}

// sseCKey is an SSE-C key with the SDK's three fields.
type sseCKey struct{ algo, key, md5 *string }

func newSSECKey(t testing.TB) sseCKey {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum(k)
	return sseCKey{aws.String("AES256"), aws.String(base64.StdEncoding.EncodeToString(k)), aws.String(base64.StdEncoding.EncodeToString(sum[:]))}
}

func sseRandom(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sseGet(t testing.TB, c *s3.Client, in *s3.GetObjectInput) (*s3.GetObjectOutput, []byte) {
	t.Helper()
	out, err := c.GetObject(context.Background(), in)
	if err != nil {
		t.Fatalf("get %s: %v", aws.ToString(in.Key), err)
	}
	return out, readAll(t, out.Body)
}

func TestSSECPutGetRange(t *testing.T) {
	ts, _ := newSSEServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "bkt")
	k, other := newSSECKey(t), newSSECKey(t)
	data := sseRandom(t, 100_003)
	put, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("bkt"), Key: aws.String("o"), Body: bytes.NewReader(data),
		SSECustomerAlgorithm: k.algo, SSECustomerKey: k.key, SSECustomerKeyMD5: k.md5,
	})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(put.SSECustomerKeyMD5) != *k.md5 || aws.ToString(put.SSECustomerAlgorithm) != "AES256" {
		t.Errorf("put echoes %q/%q", aws.ToString(put.SSECustomerAlgorithm), aws.ToString(put.SSECustomerKeyMD5))
	}
	get := func(rng string, key sseCKey) *s3.GetObjectInput {
		in := &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("o"),
			SSECustomerAlgorithm: key.algo, SSECustomerKey: key.key, SSECustomerKeyMD5: key.md5}
		if rng != "" {
			in.Range = aws.String(rng)
		}
		return in
	}
	if _, body := sseGet(t, ts.Root, get("", k)); !bytes.Equal(body, data) {
		t.Fatal("whole body differs")
	}
	for _, r := range []struct {
		hdr        string
		start, end int
	}{{"bytes=0-0", 0, 1}, {"bytes=15-16", 15, 17}, {"bytes=4097-70000", 4097, 70001}, {"bytes=-5", len(data) - 5, len(data)}} {
		if _, body := sseGet(t, ts.Root, get(r.hdr, k)); !bytes.Equal(body, data[r.start:r.end]) {
			t.Errorf("range %s differs", r.hdr)
		}
	}
	_, err = ts.Root.GetObject(ctx, get("", sseCKey{}))
	wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
	_, err = ts.Root.GetObject(ctx, get("", other))
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	_, err = ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("o")})
	wantErr(t, err, "", http.StatusBadRequest)
	head, err := ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("o"),
		SSECustomerAlgorithm: k.algo, SSECustomerKey: k.key, SSECustomerKeyMD5: k.md5})
	if err != nil || aws.ToInt64(head.ContentLength) != int64(len(data)) {
		t.Fatalf("head: %v", err)
	}
}

func TestSSEServerManagedAtRest(t *testing.T) {
	ts, dir := newSSEServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "bkt")
	secret := bytes.Repeat([]byte("cairn-secret-plaintext-marker/"), 40_000)
	control := bytes.Repeat([]byte("cairn-public-plaintext-marker/"), 40_000)
	for _, tc := range []struct {
		key  string
		enc  types.ServerSideEncryption
		kms  *string
		body []byte
	}{
		{"s3", types.ServerSideEncryptionAes256, nil, secret},
		{"kms", types.ServerSideEncryptionAwsKms, aws.String("testkey-1"), secret},
		{"plain", "", nil, control},
	} {
		out, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(tc.key),
			Body: bytes.NewReader(tc.body), ServerSideEncryption: tc.enc, SSEKMSKeyId: tc.kms})
		if err != nil {
			t.Fatalf("put %s: %v", tc.key, err)
		}
		if sum := md5.Sum(tc.body); aws.ToString(out.ETag) != `"`+hex.EncodeToString(sum[:])+`"` {
			t.Errorf("put %s: ETag %s is not the md5 of the plaintext", tc.key, aws.ToString(out.ETag))
		}
		if out.ServerSideEncryption != tc.enc || aws.ToString(out.SSEKMSKeyId) != aws.ToString(tc.kms) {
			t.Errorf("put %s echoes %q %q", tc.key, out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId))
		}
		got, body := sseGet(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String(tc.key)})
		if !bytes.Equal(body, tc.body) || got.ServerSideEncryption != tc.enc {
			t.Errorf("get %s: body equal %v, sse %q", tc.key, bytes.Equal(body, tc.body), got.ServerSideEncryption)
		}
	}
	var sawControl bool
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, []byte("cairn-secret-plaintext-marker")) {
			t.Errorf("plaintext of an encrypted object found in %s", p)
		}
		sawControl = sawControl || bytes.Contains(b, []byte("cairn-public-plaintext-marker"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !sawControl {
		t.Error("control: the unencrypted object's plaintext was not found on disk; the check proves nothing")
	}
}

func TestSSECMultipartAndPartCopy(t *testing.T) {
	ts, _ := newSSEServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "bkt")
	k := newSSECKey(t)
	src := sseRandom(t, 1<<20+7)
	if _, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("src"),
		Body: bytes.NewReader(src), ServerSideEncryption: types.ServerSideEncryptionAes256}); err != nil {
		t.Fatal(err)
	}
	cu, err := ts.Root.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp"),
		SSECustomerAlgorithm: k.algo, SSECustomerKey: k.key, SSECustomerKeyMD5: k.md5})
	if err != nil {
		t.Fatal(err)
	}
	p1 := sseRandom(t, 5<<20+1)
	_, err = ts.Root.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), UploadId: cu.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(p1[:10])})
	wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
	up1, err := ts.Root.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), UploadId: cu.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader(p1), SSECustomerAlgorithm: k.algo, SSECustomerKey: k.key, SSECustomerKeyMD5: k.md5})
	if err != nil {
		t.Fatal(err)
	}
	up2, err := ts.Root.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), UploadId: cu.UploadId,
		PartNumber: aws.Int32(2), CopySource: aws.String("bkt/src"), CopySourceRange: aws.String("bytes=3-1000002"),
		SSECustomerAlgorithm: k.algo, SSECustomerKey: k.key, SSECustomerKeyMD5: k.md5})
	if err != nil {
		t.Fatal(err)
	}
	parts := []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: up1.ETag}, {PartNumber: aws.Int32(2), ETag: up2.CopyPartResult.ETag}}
	_, err = ts.Root.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp"),
		UploadId: cu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
	if _, err = ts.Root.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp"),
		UploadId: cu.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		SSECustomerAlgorithm: k.algo, SSECustomerKey: k.key, SSECustomerKeyMD5: k.md5}); err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte(nil), p1...), src[3:1000003]...)
	in := func() *s3.GetObjectInput {
		return &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), SSECustomerAlgorithm: k.algo, SSECustomerKey: k.key, SSECustomerKeyMD5: k.md5}
	}
	if _, body := sseGet(t, ts.Root, in()); !bytes.Equal(body, want) {
		t.Fatal("multipart body differs")
	}
	g := in()
	g.Range = aws.String("bytes=5242870-5242900") // across the part boundary
	if _, body := sseGet(t, ts.Root, g); !bytes.Equal(body, want[5242870:5242901]) {
		t.Error("range across parts differs")
	}
	g = in()
	g.PartNumber = aws.Int32(2)
	if _, body := sseGet(t, ts.Root, g); !bytes.Equal(body, want[len(p1):]) {
		t.Error("part 2 differs")
	}
}

func TestSSECopyObject(t *testing.T) {
	ts, _ := newSSEServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "bkt")
	k := newSSECKey(t)
	data := sseRandom(t, 70_001)
	if _, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("c"), Body: bytes.NewReader(data),
		SSECustomerAlgorithm: k.algo, SSECustomerKey: k.key, SSECustomerKeyMD5: k.md5}); err != nil {
		t.Fatal(err)
	}
	_, err := ts.Root.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), CopySource: aws.String("bkt/c")})
	wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
	out, err := ts.Root.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), CopySource: aws.String("bkt/c"),
		CopySourceSSECustomerAlgorithm: k.algo, CopySourceSSECustomerKey: k.key, CopySourceSSECustomerKeyMD5: k.md5,
		ServerSideEncryption: types.ServerSideEncryptionAwsKms, SSEKMSKeyId: aws.String("testkey-2")})
	if err != nil {
		t.Fatal(err)
	}
	if out.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(out.SSEKMSKeyId) != "testkey-2" {
		t.Errorf("copy echoes %q %q", out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId))
	}
	if _, body := sseGet(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")}); !bytes.Equal(body, data) {
		t.Error("copied body differs")
	}
	if _, err := ts.Root.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("p"), CopySource: aws.String("bkt/k")}); err != nil {
		t.Fatal(err)
	}
	got, body := sseGet(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("p")})
	if !bytes.Equal(body, data) || got.ServerSideEncryption != "" {
		t.Errorf("decrypting copy: equal %v, sse %q", bytes.Equal(body, data), got.ServerSideEncryption)
	}
}

func TestSSEHeaderConflicts(t *testing.T) {
	ts, _ := newSSEServer(t)
	ts.CreateBucket(t, ts.Root, "bkt")
	const key, sum = "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=", "DWygnHRtgiJ77HCm+1rvHw=="
	for _, tc := range []struct {
		name string
		hdr  map[string]string
		code string
	}{
		{"c+s3", map[string]string{hdrSSE: "AES256", hdrSSECPrefix + "Algorithm": "AES256", hdrSSECPrefix + "Key": key, hdrSSECPrefix + "Key-Md5": sum}, "InvalidArgument"},
		{"c+kms", map[string]string{hdrSSE: "aws:kms", hdrSSEKMSKeyID: "x", hdrSSECPrefix + "Algorithm": "AES256", hdrSSECPrefix + "Key": key, hdrSSECPrefix + "Key-Md5": sum}, "InvalidArgument"},
		{"s3+kms key", map[string]string{hdrSSE: "AES256", hdrSSEKMSKeyID: "x"}, "InvalidArgument"},
		{"bad algorithm", map[string]string{hdrSSE: "aes:kms"}, "InvalidArgument"},
		{"kms key only", map[string]string{hdrSSEKMSKeyID: "x"}, "InvalidArgument"},
		{"bad md5", map[string]string{hdrSSECPrefix + "Algorithm": "AES256", hdrSSECPrefix + "Key": key, hdrSSECPrefix + "Key-Md5": "AAAAAAAAAAAAAAAAAAAAAA=="}, "InvalidArgument"},
		{"key no algorithm", map[string]string{hdrSSECPrefix + "Key": key, hdrSSECPrefix + "Key-Md5": sum}, "InvalidArgument"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.hdr {
				h.Set(k, v)
			}
			resp := ts.Do(t, userRoot, http.MethodPut, "/bkt/o", []byte("x"), h)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || xmlCode(body) != tc.code {
				t.Errorf("got %d %s, want 400 %s", resp.StatusCode, xmlCode(body), tc.code)
			}
		})
	}
}

func TestBucketEncryptionDefault(t *testing.T) {
	ts, _ := newSSEServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "bkt")
	_, err := ts.Root.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("bkt")})
	wantErr(t, err, "ServerSideEncryptionConfigurationNotFoundError", http.StatusNotFound)
	_, err = ts.Root.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String("bkt"),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("testkey-1")},
		}}}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := ts.Root.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("bkt")})
	if err != nil {
		t.Fatal(err)
	}
	if d := got.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault; d.SSEAlgorithm != types.ServerSideEncryptionAwsKms || aws.ToString(d.KMSMasterKeyID) != "testkey-1" {
		t.Errorf("config = %+v", d)
	}
	put := ts.PutObject(t, ts.Root, "bkt", "o", []byte("hello"))
	if put.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(put.SSEKMSKeyId) != "testkey-1" {
		t.Errorf("default not applied: %q %q", put.ServerSideEncryption, aws.ToString(put.SSEKMSKeyId))
	}
	if _, err := ts.Root.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String("bkt")}); err != nil {
		t.Fatal(err)
	}
	_, err = ts.Root.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("bkt")})
	wantErr(t, err, "ServerSideEncryptionConfigurationNotFoundError", http.StatusNotFound)
}

// FuzzParseWriteSSE checks that no header combination panics and that an
// accepted customer key always matches its md5.
func FuzzParseWriteSSE(f *testing.F) {
	f.Add("", "", "AES256", "pO3upElrwuEXSoFwCfnZPdSsmt/xWeFa0N9KgDijwVs=", "DWygnHRtgiJ77HCm+1rvHw==")
	f.Add("aws:kms", "testkey-1", "", "", "")
	f.Add("AES256", "x", "AES256", "", "")
	a := New(nil, nil, Config{})
	f.Fuzz(func(t *testing.T, algo, keyID, calgo, ckey, cmd5 string) {
		h := http.Header{}
		for k, v := range map[string]string{hdrSSE: algo, hdrSSEKMSKeyID: keyID, hdrSSECPrefix + "Algorithm": calgo, hdrSSECPrefix + "Key": ckey, hdrSSECPrefix + "Key-Md5": cmd5} {
			if v != "" {
				h.Set(k, v)
			}
		}
		q, err := a.parseWriteSSE(&http.Request{Header: h})
		if err != nil {
			return
		}
		if q.customer != nil {
			sum := md5.Sum(q.customer.key)
			if base64.StdEncoding.EncodeToString(sum[:]) != q.customer.md5 || len(q.customer.key) != 32 {
				t.Fatalf("accepted a key that does not match its md5")
			}
		}
		if q.algorithm == sseKMS && q.kmsKeyID == "" {
			t.Fatal("accepted aws:kms without a key id")
		}
	})
}
