package s3api

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/cairn-s3/cairn/internal/lua"
)

// TestLuaScriptsNeverSeeSSECKeys: an SSE-C key is the only thing that
// decrypts its object; scripts (which ship request records to logs, NATS,
// HTTP) must not see it, in GenericAttributes or anywhere else. Its MD5
// and algorithm stay visible; the key reads as RGW's sanitised "******".
func TestLuaScriptsNeverSeeSSECKeys(t *testing.T) {
	ss := newScriptServer(t, lua.Config{})
	ctx := context.Background()
	if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("enc")}); err != nil {
		t.Fatal(err)
	}
	ss.Scripts.Put("postrequest", "", `
local f = assert(io.open("attrs", "a"))
for k, v in pairs(Request.GenericAttributes) do f:write(k, "=", v, "\n") end
f:write("direct=", Request.GenericAttributes["x-amz-server-side-encryption-customer-key"] or "nil", "\n")
f:close()`)
	key := []byte("0123456789abcdef0123456789abcdef")
	sum := md5.Sum(key)
	b64Key, b64Sum := base64.StdEncoding.EncodeToString(key), base64.StdEncoding.EncodeToString(sum[:])
	if _, err := ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("enc"), Key: aws.String("k"),
		Body: strings.NewReader("secret data"), SSECustomerAlgorithm: aws.String("AES256"),
		SSECustomerKey: aws.String(b64Key), SSECustomerKeyMD5: aws.String(b64Sum)}); err != nil {
		t.Fatal(err)
	}
	got := ss.file(t, "attrs")
	if strings.Contains(got, b64Key) {
		t.Fatalf("a script saw the SSE-C key:\n%s", got)
	}
	for _, want := range []string{"x-amz-server-side-encryption-customer-algorithm=AES256\n",
		"x-amz-server-side-encryption-customer-key-md5=" + b64Sum + "\n",
		"x-amz-server-side-encryption-customer-key=******\n", "direct=******\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("GenericAttributes lack %q:\n%s", want, got)
		}
	}
}
