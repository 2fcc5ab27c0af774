package s3api

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// newTLSTestServer is newTestServer over HTTPS: there the SDK sends bodies
// aws-chunked with the checksum in a trailer (over plain HTTP it sends a
// header), so this is how the trailer path is exercised.
func newTLSTestServer(t testing.TB) *testServer {
	t.Helper()
	st, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	verifier := auth.New(staticCredentials{userRoot, userAlt}, auth.Options{Region: testRegion})
	api := New(st, verifier, Config{Region: testRegion, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	hs := httptest.NewTLSServer(api)
	t.Cleanup(func() {
		hs.Close()
		st.Close()
	})
	ts := &testServer{URL: hs.URL, API: api, Store: st, HTTP: hs}
	ts.Root = ts.Client(userRoot)
	ts.Alt = ts.Client(userAlt)
	return ts
}

func TestTrailerChecksums(t *testing.T) {
	ts := newTLSTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "trailers")
	body := bytes.Repeat([]byte("trailer "), 20000)

	for _, algo := range []types.ChecksumAlgorithm{"", types.ChecksumAlgorithmCrc32c, types.ChecksumAlgorithmSha256, types.ChecksumAlgorithmCrc64nvme} {
		t.Run("sdk "+string(algo), func(t *testing.T) {
			key := "k-" + string(algo)
			put, err := ts.Root.PutObject(ctx, &s3.PutObjectInput{
				Bucket: aws.String("trailers"), Key: aws.String(key), Body: bytes.NewReader(body), ChecksumAlgorithm: algo,
			})
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			if algo == "" {
				algo = types.ChecksumAlgorithmCrc32 // the SDK's default
			}
			sent := checksumOf(algo, put.ChecksumCRC32, put.ChecksumCRC32C, put.ChecksumSHA1, put.ChecksumSHA256, put.ChecksumCRC64NVME)
			out, got := getBody(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String("trailers"), Key: aws.String(key), ChecksumMode: types.ChecksumModeEnabled})
			if !bytes.Equal(got, body) {
				t.Fatal("body differs")
			}
			if v := checksumOf(algo, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumSHA1, out.ChecksumSHA256, out.ChecksumCRC64NVME); v == "" || v != sent {
				t.Fatalf("stored checksum %q, put answered %q", v, sent)
			}
		})
	}

	crc := func(b []byte) string {
		var s [4]byte
		v := crc32.ChecksumIEEE(b)
		s[0], s[1], s[2], s[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
		return base64.StdEncoding.EncodeToString(s[:])
	}
	data := []byte("raw trailer body")
	for _, tt := range []struct {
		name, value string
		status      int
	}{
		{"good", crc(data), 200},
		{"mismatch", crc([]byte("other")), 400},
	} {
		t.Run("raw "+tt.name, func(t *testing.T) {
			key := "raw-" + tt.name
			resp := putUnsignedTrailer(t, ts, "/trailers/"+key, data, tt.value)
			if b := readAll(t, resp.Body); resp.StatusCode != tt.status || (tt.status == 400 && xmlCode(b) != "BadDigest") {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, b, tt.status)
			}
			_, err := ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("trailers"), Key: aws.String(key)})
			if (tt.status == 200) != (err == nil) {
				t.Fatalf("HeadObject after put: %v", err)
			}
		})
	}
}

// putUnsignedTrailer sends a PUT with an aws-chunked body whose CRC32 comes
// in an unsigned trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
func putUnsignedTrailer(t testing.TB, ts *testServer, path string, data []byte, crc string) *http.Response {
	t.Helper()
	body := fmt.Sprintf("%x\r\n%s\r\n0\r\nx-amz-checksum-crc32:%s\r\n\r\n", len(data), data, crc)
	req, err := http.NewRequest(http.MethodPut, ts.URL+path, bytes.NewReader([]byte(body)))
	if err != nil {
		t.Fatal(err)
	}
	const payload = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	req.Header.Set("X-Amz-Content-Sha256", payload)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", strconv.Itoa(len(data)))
	req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	creds := aws.Credentials{AccessKeyID: userRoot.AccessKey, SecretAccessKey: userRoot.SecretKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, "s3", testRegion, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := ts.HTTP.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
