package s3api

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestPostObjectSSE checks that a browser POST is encrypted as a PUT with
// the same headers would be: by the form's x-amz-server-side-encryption*
// fields (SSE-C included), or else by the bucket's default encryption.
func TestPostObjectSSE(t *testing.T) {
	ts, _ := newSSEServer(t)
	ctx := context.Background()
	ck := newSSECKey(t)
	wrongMD5 := aws.ToString(newSSECKey(t).md5)
	future := time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	tests := []struct {
		name         string
		defaultAlgo  types.ServerSideEncryption // bucket default; "" for none
		defaultKey   string
		fields       []string // SSE form fields, each also named by a policy condition
		wantAlgo     types.ServerSideEncryption
		wantKMSKeyID string
		sseC         bool
		status       int
		code         string
	}{
		{name: "bucket default sse-s3", defaultAlgo: types.ServerSideEncryptionAes256,
			wantAlgo: types.ServerSideEncryptionAes256, status: http.StatusNoContent},
		{name: "bucket default kms", defaultAlgo: types.ServerSideEncryptionAwsKms, defaultKey: "testkey-1",
			wantAlgo: types.ServerSideEncryptionAwsKms, wantKMSKeyID: "testkey-1", status: http.StatusNoContent},
		{name: "form kms", fields: []string{"x-amz-server-side-encryption", "aws:kms", "x-amz-server-side-encryption-aws-kms-key-id", "testkey-2"},
			wantAlgo: types.ServerSideEncryptionAwsKms, wantKMSKeyID: "testkey-2", status: http.StatusNoContent},
		{name: "form overrides default", defaultAlgo: types.ServerSideEncryptionAwsKms, defaultKey: "testkey-1",
			fields:   []string{"x-amz-server-side-encryption", "AES256"},
			wantAlgo: types.ServerSideEncryptionAes256, status: http.StatusNoContent},
		{name: "form sse-c", fields: []string{
			"x-amz-server-side-encryption-customer-algorithm", "AES256",
			"x-amz-server-side-encryption-customer-key", aws.ToString(ck.key),
			"x-amz-server-side-encryption-customer-key-MD5", aws.ToString(ck.md5)},
			sseC: true, status: http.StatusNoContent},
		{name: "form sse-c wrong md5", fields: []string{
			"x-amz-server-side-encryption-customer-algorithm", "AES256",
			"x-amz-server-side-encryption-customer-key", aws.ToString(ck.key),
			"x-amz-server-side-encryption-customer-key-MD5", wrongMD5},
			status: http.StatusBadRequest, code: "InvalidArgument"},
		{name: "form sse-c with sse-s3", fields: []string{
			"x-amz-server-side-encryption", "AES256",
			"x-amz-server-side-encryption-customer-algorithm", "AES256",
			"x-amz-server-side-encryption-customer-key", aws.ToString(ck.key),
			"x-amz-server-side-encryption-customer-key-MD5", aws.ToString(ck.md5)},
			status: http.StatusBadRequest, code: "InvalidArgument"},
		{name: "form kms without key id", fields: []string{"x-amz-server-side-encryption", "aws:kms"},
			status: http.StatusBadRequest, code: "InvalidArgument"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bucket := "post-sse-" + string(rune('a'+i))
			ts.CreateBucket(t, ts.Root, bucket)
			if tt.defaultAlgo != "" {
				putBucketDefaultSSE(t, ts.Root, bucket, tt.defaultAlgo, tt.defaultKey)
			}
			conds := []any{map[string]string{"bucket": bucket}, []any{"starts-with", "$key", "foo"}, []any{"content-length-range", 0, 1024}}
			for j := 0; j < len(tt.fields); j += 2 {
				conds = append(conds, []any{"eq", "$" + tt.fields[j], tt.fields[j+1]})
			}
			policy, sig := signV2Policy(t, userRoot.SecretKey, map[string]any{"expiration": future, "conditions": conds})
			pairs := append([]string{"key", "foo.txt", "AWSAccessKeyId", userRoot.AccessKey, "policy", policy, "signature", sig}, tt.fields...)
			resp, body := postRaw(t, ts.URL+"/"+bucket, append(pairs, "file", "bar")...)
			wantPostStatus(t, resp, body, tt.status, tt.code)
			head := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("foo.txt")}
			if tt.status != http.StatusNoContent {
				_, err := ts.Root.HeadObject(ctx, head)
				wantErr(t, err, "NotFound", http.StatusNotFound)
				return
			}
			if tt.sseC {
				checkPostSSEC(t, ts, resp, bucket, ck)
				return
			}
			if got := resp.Header.Get(hdrSSE); got != string(tt.wantAlgo) || resp.Header.Get(hdrSSEKMSKeyID) != tt.wantKMSKeyID {
				t.Errorf("POST answered encryption %q key %q, want %q %q", got, resp.Header.Get(hdrSSEKMSKeyID), tt.wantAlgo, tt.wantKMSKeyID)
			}
			out, data := sseGet(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("foo.txt")})
			if string(data) != "bar" || out.ServerSideEncryption != tt.wantAlgo || aws.ToString(out.SSEKMSKeyId) != tt.wantKMSKeyID {
				t.Errorf("GET: body %q, encryption %q key %q; want \"bar\" %q %q", data, out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId), tt.wantAlgo, tt.wantKMSKeyID)
			}
		})
	}
}

// checkPostSSEC checks an object POSTed with an SSE-C key: the response
// echoes the key's md5, reading it needs the key, and the key decrypts it.
func checkPostSSEC(t *testing.T, ts *testServer, resp *http.Response, bucket string, ck sseCKey) {
	t.Helper()
	if resp.Header.Get(hdrSSECPrefix+"Algorithm") != "AES256" || resp.Header.Get(hdrSSECPrefix+"Key-Md5") != aws.ToString(ck.md5) {
		t.Errorf("POST answered SSE-C headers %q %q", resp.Header.Get(hdrSSECPrefix+"Algorithm"), resp.Header.Get(hdrSSECPrefix+"Key-Md5"))
	}
	_, err := ts.Root.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("foo.txt")})
	wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
	out, data := sseGet(t, ts.Root, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("foo.txt"),
		SSECustomerAlgorithm: ck.algo, SSECustomerKey: ck.key, SSECustomerKeyMD5: ck.md5})
	if string(data) != "bar" || aws.ToString(out.SSECustomerKeyMD5) != aws.ToString(ck.md5) {
		t.Errorf("GET with key: body %q, key md5 %q", data, aws.ToString(out.SSECustomerKeyMD5))
	}
}

// putBucketDefaultSSE sets a bucket's default encryption.
func putBucketDefaultSSE(t *testing.T, c *s3.Client, bucket string, algo types.ServerSideEncryption, kmsKeyID string) {
	t.Helper()
	d := &types.ServerSideEncryptionByDefault{SSEAlgorithm: algo}
	if kmsKeyID != "" {
		d.KMSMasterKeyID = aws.String(kmsKeyID)
	}
	_, err := c.PutBucketEncryption(context.Background(), &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: d}}}})
	if err != nil {
		t.Fatal(err)
	}
}
