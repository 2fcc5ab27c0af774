package console_test

import (
	"bufio"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestForwardS3: the page's S3 calls reach the S3 handler with their
// headers and bodies, and S3's answers come back unchanged: ranges,
// conditional requests, multipart uploads, DeleteObjects (Content-MD5),
// object metadata, S3 errors as XML.
func TestForwardS3(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	c := rootClient(t, srv)
	c.expect(200, "PUT", "/api/s3/fwd-bucket", nil, nil)
	c.expect(200, "PUT", "/api/s3/fwd-bucket/obj", strings.NewReader("0123456789"), http.Header{
		"Content-Type": {"text/x-test"}, "X-Amz-Meta-Color": {"blue"}, "Cache-Control": {"max-age=5"},
		"X-Amz-Date": {"20000101T000000Z"}, "Authorization": {"AWS4-HMAC-SHA256 Credential=forged"}, // dropped
	})
	resp := c.do("GET", "/api/s3/fwd-bucket/obj", nil, http.Header{"Range": {"bytes=2-4"}})
	if body := readAll(t, resp); resp.StatusCode != 206 || body != "234" || resp.Header.Get("Content-Range") != "bytes 2-4/10" {
		t.Errorf("range: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
	}
	resp = c.do("HEAD", "/api/s3/fwd-bucket/obj", nil, nil)
	readAll(t, resp)
	etag := resp.Header.Get("ETag")
	if resp.Header.Get("X-Amz-Meta-Color") != "blue" || resp.Header.Get("Content-Type") != "text/x-test" || etag == "" {
		t.Errorf("head: %v", resp.Header)
	}
	c.expect(304, "GET", "/api/s3/fwd-bucket/obj", nil, http.Header{"If-None-Match": {etag}})
	c.expect(412, "PUT", "/api/s3/fwd-bucket/obj", strings.NewReader("x"), http.Header{"If-Match": {`"nope"`}})
	if got := c.expect(404, "GET", "/api/s3/fwd-bucket/missing", nil, nil); !strings.Contains(got, "<Code>NoSuchKey</Code>") {
		t.Errorf("missing key: %s", got)
	}

	// Multipart: two parts, then complete.
	init := c.expect(200, "POST", "/api/s3/fwd-bucket/mp?uploads", nil, nil)
	uploadID := regexp.MustCompile(`<UploadId>([^<]+)</UploadId>`).FindStringSubmatch(init)[1]
	part1 := strings.Repeat("a", 5<<20)
	var etags []string
	for i, p := range []string{part1, "tail"} {
		resp := c.do("PUT", fmt.Sprintf("/api/s3/fwd-bucket/mp?partNumber=%d&uploadId=%s", i+1, uploadID), strings.NewReader(p), nil)
		if body := readAll(t, resp); resp.StatusCode != 200 {
			t.Fatalf("part %d: %d %s", i+1, resp.StatusCode, body)
		}
		etags = append(etags, resp.Header.Get("ETag"))
	}
	complete := fmt.Sprintf(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>`+
		`<Part><PartNumber>2</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>`, etags[0], etags[1])
	c.expect(200, "POST", "/api/s3/fwd-bucket/mp?uploadId="+uploadID, strings.NewReader(complete), nil)
	if got := c.expect(200, "GET", "/api/s3/fwd-bucket/mp", nil, nil); got != part1+"tail" {
		t.Errorf("multipart object: %d bytes", len(got))
	}

	// DeleteObjects needs Content-MD5, which is forwarded.
	del := `<Delete><Object><Key>obj</Key></Object><Object><Key>mp</Key></Object></Delete>`
	sum := md5.Sum([]byte(del))
	got := c.expect(200, "POST", "/api/s3/fwd-bucket?delete", strings.NewReader(del),
		http.Header{"Content-MD5": {base64.StdEncoding.EncodeToString(sum[:])}})
	if strings.Count(got, "<Deleted>") != 2 {
		t.Errorf("DeleteObjects: %s", got)
	}
	c.expect(404, "HEAD", "/api/s3/fwd-bucket/obj", nil, nil)
}

// TestForwardSNSAndAdmin: SNS actions as a form POST to /api/s3/, and the
// admin API under /api/admin/, which refuses a user without admin rights;
// the metrics history is for admins too.
func TestForwardSNSAndAdmin(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	root := rootClient(t, srv)
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if got := root.expect(200, "POST", "/api/s3/", strings.NewReader("Action=CreateTopic&Name=console-topic"), form); !strings.Contains(got, "<TopicArn>") {
		t.Errorf("CreateTopic: %s", got)
	}
	if got := root.expect(200, "POST", "/api/s3", strings.NewReader("Action=ListTopics"), form); !strings.Contains(got, "console-topic") {
		t.Errorf("ListTopics: %s", got)
	}
	var info struct {
		UserID string `json:"user_id"`
	}
	if err := json.Unmarshal([]byte(root.expect(200, "GET", "/api/admin/user?uid=root", nil, nil)), &info); err != nil || info.UserID != "root" {
		t.Errorf("admin user info: %+v %v", info, err)
	}
	root.expect(200, "GET", "/api/metrics/history", nil, nil) // the server keeps a metrics history

	createUser(t, root, "carol", "CAROLKEY000000000001", "carol-secret-000000000000000000000000001", "")
	carol := newClient(t, srv.ConsoleURL)
	if s := carol.signIn("CAROLKEY000000000001", "carol-secret-000000000000000000000000001"); s.Admin {
		t.Error("carol is shown as an admin")
	}
	for _, req := range []struct{ method, path string }{
		{"GET", "/api/admin/user?uid=root"},
		{"GET", "/api/admin/user?list"},
		{"PUT", "/api/admin/user?uid=mallory&display-name=m"},
	} {
		if got := carol.expect(403, req.method, req.path, nil, nil); !strings.Contains(got, "AccessDenied") {
			t.Errorf("carol %s %s: %s", req.method, req.path, got)
		}
	}
	if got := carol.expect(403, "GET", "/api/metrics/history", nil, nil); !strings.Contains(got, `"code":"AccessDenied"`) {
		t.Errorf("carol's history: %s", got)
	}
	root.expect(404, "GET", "/api/admin/user?uid=mallory", nil, nil)
	// A user with the "users" capability is an admin for the console too.
	createUser(t, root, "dave", "DAVEKEY0000000000001", "dave-secret-0000000000000000000000000001", "")
	root.expect(200, "PUT", "/api/admin/user?caps&uid=dave&user-caps=users=read", nil, nil)
	dave := newClient(t, srv.ConsoleURL)
	if s := dave.signIn("DAVEKEY0000000000001", "dave-secret-0000000000000000000000000001"); !s.Admin {
		t.Error("a user with the users capability is not shown as an admin")
	}
}

// TestForwardLiveStream: the live event stream flows through the console
// while it is open: an object written after the stream started shows up
// on it, before the stream ends.
func TestForwardLiveStream(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	c := rootClient(t, srv)
	c.expect(200, "PUT", "/api/s3/live-bucket", nil, nil)
	for _, accept := range []string{"", "text/event-stream"} {
		resp := c.do("GET", "/api/s3/live-bucket?events=s3:ObjectCreated:*", nil, http.Header{"Accept": {accept}})
		if resp.StatusCode != 200 {
			t.Fatalf("stream: %d %s", resp.StatusCode, readAll(t, resp))
		}
		if ct := resp.Header.Get("Content-Type"); accept != "" && ct != accept {
			t.Errorf("Accept %q: Content-Type %q", accept, ct)
		}
		key := "live-" + strings.ReplaceAll(accept, "/", "-") + ".txt"
		found := make(chan bool, 1)
		go func() {
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				if strings.Contains(sc.Text(), key) {
					found <- true
					return
				}
			}
			found <- false
		}()
		c.expect(200, "PUT", "/api/s3/live-bucket/"+key, strings.NewReader("x"), nil)
		select {
		case ok := <-found:
			if !ok {
				t.Errorf("Accept %q: the stream ended without the event", accept)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("Accept %q: no event within 30s", accept)
		}
		resp.Body.Close()
	}
}

// TestPresign: presigned GET and PUT URLs on the S3 endpoint work without
// the console; bad requests are refused with the reason.
func TestPresign(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	c := rootClient(t, srv)
	c.expect(200, "PUT", "/api/s3/presign-bucket", nil, nil)
	presign := func(body string) string {
		var out struct{ URL string }
		if err := json.Unmarshal([]byte(c.expect(200, "POST", "/api/presign", strings.NewReader(body), nil)), &out); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(out.URL, srv.URL+"/presign-bucket/") {
			t.Fatalf("presigned URL %q is not on %s", out.URL, srv.URL)
		}
		return out.URL
	}
	put := presign(`{"method":"PUT","bucket":"presign-bucket","key":"dir/shared file+1.txt","expiresSeconds":300}`)
	req, _ := http.NewRequest("PUT", put, strings.NewReader("shared"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %d %s", resp.StatusCode, body)
	}
	get := presign(`{"method":"GET","bucket":"presign-bucket","key":"dir/shared file+1.txt","expiresSeconds":604800}`)
	if got := getURL(t, get); got != "shared" {
		t.Errorf("presigned GET: %q", got)
	}
	for _, bad := range []string{
		`{"method":"DELETE","bucket":"presign-bucket","key":"k","expiresSeconds":60}`,
		`{"method":"GET","bucket":"","key":"k","expiresSeconds":60}`,
		`{"method":"GET","bucket":"presign-bucket","key":"k","expiresSeconds":604801}`,
		`{"method":"GET","bucket":"presign-bucket","key":"k","expiresSeconds":0}`,
		`{"method":"PUT","bucket":"presign-bucket","key":"k","partNumber":1,"expiresSeconds":60}`,
		`not json`,
	} {
		if got := c.expect(400, "POST", "/api/presign", strings.NewReader(bad), nil); !strings.Contains(got, `"code"`) {
			t.Errorf("%s: %s", bad, got)
		}
	}
}

// TestShutdownWithOpenStream: a live stream open through the console does
// not hold the server's shutdown: the stream ends and Stop returns (an
// error or a forced close would fail the test through servertest).
func TestShutdownWithOpenStream(t *testing.T) {
	srv := startServer(t, servertest.Options{ShutdownTimeout: time.Minute})
	c := rootClient(t, srv)
	c.expect(200, "PUT", "/api/s3/stop-bucket", nil, nil)
	resp := c.do("GET", "/api/s3/stop-bucket?events", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d", resp.StatusCode)
	}
	ended := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, resp.Body)
		ended <- err
	}()
	stopped := make(chan struct{})
	go func() { srv.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(50 * time.Second): // well under the shutdown timeout: not forced
		t.Fatal("the server's shutdown waits for the console's live stream")
	}
	<-ended
	resp.Body.Close()
}
