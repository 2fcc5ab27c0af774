package auth

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"
)

// TestE2EMinioGo drives the server with minio-go, an S3 client whose
// signer shares no code with AWS's. Over plain HTTP it signs every chunk
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD, with a signed checksum trailer when
// it sends one); over TLS it sends an unsigned payload with a trailer; with
// V2 credentials it signs SigV2.
func TestE2EMinioGo(t *testing.T) {
	for _, tc := range []struct {
		name     string
		tls, v2  bool
		checksum minio.ChecksumType
		wantMode string // "" accepts any
		trailer  string
	}{
		{name: "v4 http", wantMode: streamingSigned},
		{name: "v4 http signed trailer", checksum: minio.ChecksumCRC64NVME, wantMode: streamingSignedTrailer,
			trailer: "X-Amz-Checksum-Crc64nvme"},
		{name: "v4 tls", tls: true},
		{name: "v4 tls unsigned trailer", tls: true, checksum: minio.ChecksumCRC32C, wantMode: streamingUnsignedTrailer,
			trailer: "X-Amz-Checksum-Crc32c"},
		{name: "v2 http", v2: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, obj := startServer(t, tc.tls)
			creds := miniocreds.NewStaticV4(testAK, testSecret, "")
			if tc.v2 {
				creds = miniocreds.NewStaticV2(testAK, testSecret, "")
			}
			c, err := minio.New(strings.TrimPrefix(strings.TrimPrefix(srv.URL, "https://"), "http://"), &minio.Options{
				Creds: creds, Secure: tc.tls, Region: "us-east-1", BucketLookup: minio.BucketLookupPath,
				Transport: srv.Client().Transport, MaxRetries: 1, TrailingHeaders: tc.checksum != 0,
			})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			data := randomBytes(t, 1<<20+5)
			key := "minio/a key+with ~odd chars €.bin"
			if _, err := c.PutObject(ctx, "bkt", key, bytes.NewReader(data), int64(len(data)),
				minio.PutObjectOptions{ContentType: "application/x-test", Checksum: tc.checksum}); err != nil {
				t.Fatal(err)
			}
			got := obj.last()
			t.Logf("payload mode %q, trailer %v", got.payloadMode, got.trailer)
			if tc.trailer != "" && got.trailer.Get(tc.trailer) == "" {
				t.Errorf("no %s trailer", tc.trailer)
			}
			if tc.wantMode != "" && got.payloadMode != tc.wantMode {
				t.Errorf("payload mode %q, want %s", got.payloadMode, tc.wantMode)
			}
			if got.contentLength != int64(len(data)) {
				t.Errorf("content length %d", got.contentLength)
			}
			for name, vals := range got.trailer {
				if algo, ok := checksumAlgo(name); ok && vals[0] != checksumOf(algo, data) {
					t.Errorf("trailer %s = %s, wrong", name, vals[0])
				}
			}
			rc, err := c.GetObject(ctx, "bkt", key, minio.GetObjectOptions{})
			if err != nil {
				t.Fatal(err)
			}
			back, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(back, data) {
				t.Fatalf("round trip: %d bytes, %v", len(back), err)
			}
			u, err := c.PresignedGetObject(ctx, "bkt", key, 5*time.Minute, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Get(u.String())
			if err != nil {
				t.Fatal(err)
			}
			back, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !bytes.Equal(back, data) {
				t.Fatalf("presigned GET %s: %s", u, resp.Status)
			}
		})
	}
}

func checksumAlgo(trailer string) (string, bool) {
	const p = "X-Amz-Checksum-"
	if !strings.HasPrefix(trailer, p) {
		return "", false
	}
	return strings.ToUpper(trailer[len(p):]), true
}
