package s3api

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/cairn-s3/cairn/internal/lua"
)

// TestLuaScriptsNeverSeeSSECKeys: an SSE-C key is the only thing that
// decrypts its object; scripts (which ship request records to logs, NATS,
// HTTP) must not see it, in GenericAttributes or anywhere else.
// GenericAttributes holds RGW's seven generic headers only, no SSE header.
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
	if !strings.Contains(got, "direct=nil\n") || strings.Contains(got, "x-amz-server-side-encryption") {
		t.Errorf("GenericAttributes show SSE headers:\n%s", got)
	}
}

// TestLuaDataChunksDoNotFollowTheClientsWrites: a data script runs once
// per chunk of the gateway's size, not once per read of the connection: a
// client trickling its body a byte at a time must not buy one script
// execution (up to the whole time limit of CPU) per byte.
func TestLuaDataChunksDoNotFollowTheClientsWrites(t *testing.T) {
	ss := newScriptServer(t, lua.Config{})
	ctx := context.Background()
	if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trickle")}); err != nil {
		t.Fatal(err)
	}
	ss.Scripts.Put("putdata", "", `RGW.increment("runs") RGW.increment("bytes", #Data)`)
	const size = 100
	put, err := s3.NewPresignClient(ss.Root).PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trickle"),
		Key: aws.String("k"), ContentLength: aws.Int64(size)}, s3.WithPresignExpires(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(put.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	head := fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", u.RequestURI(), u.Host, size)
	for k, vs := range put.SignedHeader {
		if !strings.EqualFold(k, "host") && !strings.EqualFold(k, "content-length") {
			head += k + ": " + strings.Join(vs, ",") + "\r\n"
		}
	}
	if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
		t.Fatal(err)
	}
	for range size {
		if _, err := conn.Write([]byte("x")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // let each byte reach the server on its own
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT: %s\n%s", resp.Status, ss.Log.String())
	}
	got := runsAndBytes(t, ss)
	if got[1] != size || got[0] > 1 {
		t.Fatalf("putdata ran %d times on %d bytes, want once on %d", got[0], got[1], size)
	}
}

// runsAndBytes reads the RGW table's runs and bytes counters through a
// background-free script run: a postrequest of a HEAD writes them out.
func runsAndBytes(t *testing.T, ss *scriptServer) [2]int64 {
	t.Helper()
	ss.Scripts.Put("putdata", "", "")
	ss.Scripts.Put("postrequest", "", `local f = assert(io.open("counts", "w")) f:write(RGW.runs, " ", RGW.bytes) f:close()`)
	if _, err := ss.Root.HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String("trickle")}); err != nil {
		t.Fatal(err)
	}
	var c [2]int64
	if _, err := fmt.Sscan(ss.file(t, "counts"), &c[0], &c[1]); err != nil {
		t.Fatal(err)
	}
	return c
}
