package s3api

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// postRaw POSTs a multipart/form-data body built from name/value pairs in
// order ("file" is the file part) to url, without following redirects.
func postRaw(t testing.TB, url string, pairs ...string) (*http.Response, []byte) {
	t.Helper()
	body, ct := formBody(t, pairs...)
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readAll(t, resp.Body)
}

// signV2Policy encodes a policy document and signs it for Signature
// Version 2 forms with crypto/hmac, independently of package auth.
func signV2Policy(t testing.TB, secret string, doc map[string]any) (policy, signature string) {
	t.Helper()
	j, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	policy = base64.StdEncoding.EncodeToString(j)
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(policy))
	return policy, base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func wantPostStatus(t testing.TB, resp *http.Response, body []byte, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || xmlCode(body) != code {
		t.Fatalf("got %d %q, want %d %q; body %s", resp.StatusCode, xmlCode(body), status, code, body)
	}
}

func TestPostObjectPresignedV4(t *testing.T) {
	ts := newTestServer(t)
	ts.CreateBucket(t, ts.Root, "pbkt")
	ctx := context.Background()
	pc := s3.NewPresignClient(ts.Root)
	out, err := pc.PresignPostObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pbkt"), Key: aws.String("dir/obj")},
		func(o *s3.PresignPostOptions) {
			o.Expires = time.Hour
			o.Conditions = []any{[]any{"content-length-range", 1, 100}}
		})
	if err != nil {
		t.Fatal(err)
	}
	form := func(key, content string) []string {
		var pairs []string
		for k, v := range out.Values {
			if k == "key" {
				v = key
			}
			pairs = append(pairs, k, v)
		}
		return append(pairs, "file", content)
	}

	resp, body := postRaw(t, out.URL, form("dir/obj", "hello post")...)
	wantPostStatus(t, resp, body, http.StatusNoContent, "")
	got, err := ts.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pbkt"), Key: aws.String("dir/obj")})
	if err != nil {
		t.Fatal(err)
	}
	if b := readAll(t, got.Body); string(b) != "hello post" {
		t.Errorf("body = %q", b)
	}
	if h := resp.Header.Get("ETag"); h != aws.ToString(got.ETag) {
		t.Errorf("ETag = %q, want %q", h, aws.ToString(got.ETag))
	}

	t.Run("key outside policy", func(t *testing.T) {
		resp, body := postRaw(t, out.URL, form("other", "x")...)
		wantPostStatus(t, resp, body, http.StatusForbidden, "AccessDenied")
	})
	t.Run("too large", func(t *testing.T) {
		resp, body := postRaw(t, out.URL, form("dir/obj", strings.Repeat("x", 101))...)
		wantPostStatus(t, resp, body, http.StatusBadRequest, "EntityTooLarge")
	})
	t.Run("signature tampered", func(t *testing.T) {
		pairs := form("dir/obj", "x")
		for i := 0; i < len(pairs); i += 2 {
			if strings.EqualFold(pairs[i], "x-amz-signature") {
				pairs[i+1] = strings.Repeat("0", 64)
			}
		}
		resp, body := postRaw(t, out.URL, pairs...)
		wantPostStatus(t, resp, body, http.StatusForbidden, "SignatureDoesNotMatch")
	})
}

func TestPostObjectV2Errors(t *testing.T) {
	ts := newTestServer(t)
	ts.CreateBucket(t, ts.Root, "vbkt")
	ts.CreateBucket(t, ts.Root, "other")
	url := ts.URL + "/vbkt"
	future := time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05Z")
	baseDoc := func() map[string]any {
		return map[string]any{"expiration": future, "conditions": []any{
			map[string]string{"bucket": "vbkt"}, []any{"starts-with", "$key", "foo"}, map[string]string{"acl": "private"},
			[]any{"content-length-range", 2, 10},
		}}
	}
	type form struct{ ak, secret, key, file string }
	tests := []struct {
		name   string
		doc    func(map[string]any)
		form   func(*form)
		extra  []string // fields before the file
		url    string
		status int
		code   string
	}{
		{name: "ok", status: 204},
		{name: "expired", doc: func(d map[string]any) { d["expiration"] = "2000-01-01T00:00:00Z" }, status: 403, code: "AccessDenied"},
		{name: "bad expiration", doc: func(d map[string]any) { d["expiration"] = "tomorrow" }, status: 400, code: "InvalidPolicyDocument"},
		{name: "no conditions", doc: func(d map[string]any) { delete(d, "conditions") }, status: 400, code: "InvalidPolicyDocument"},
		{name: "wrong secret", form: func(f *form) { f.secret = "nope" }, status: 403, code: "SignatureDoesNotMatch"},
		{name: "unknown access key", form: func(f *form) { f.ak = "NOPE" }, status: 403, code: "InvalidAccessKeyId"},
		{name: "no signature", form: func(f *form) { f.secret = "" }, status: 400, code: "InvalidArgument"},
		{name: "no key", form: func(f *form) { f.key = "" }, status: 400, code: "InvalidArgument"},
		{name: "key condition", form: func(f *form) { f.key = "bar" }, status: 403, code: "AccessDenied"},
		{name: "too large", form: func(f *form) { f.file = strings.Repeat("x", 11) }, status: 400, code: "EntityTooLarge"},
		{name: "too small", form: func(f *form) { f.file = "x" }, status: 400, code: "EntityTooSmall"},
		{name: "extra field", extra: []string{"x-amz-meta-a", "b"}, status: 403, code: "AccessDenied"},
		{name: "ignored field", extra: []string{"x-ignore-a", "b"}, status: 204},
		{name: "wrong bucket", url: ts.URL + "/other", status: 403, code: "AccessDenied"},
		{name: "other user", form: func(f *form) { f.ak, f.secret = userAlt.AccessKey, userAlt.SecretKey }, status: 403, code: "AccessDenied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := baseDoc()
			if tt.doc != nil {
				tt.doc(doc)
			}
			f := form{ak: userRoot.AccessKey, secret: userRoot.SecretKey, key: "foo.txt", file: "data"}
			if tt.form != nil {
				tt.form(&f)
			}
			policy, sig := signV2Policy(t, f.secret, doc)
			pairs := []string{"key", f.key, "AWSAccessKeyId", f.ak, "acl", "private", "policy", policy}
			if f.key == "" {
				pairs = pairs[2:]
			}
			if f.secret != "" {
				pairs = append(pairs, "signature", sig)
			}
			pairs = append(append(pairs, tt.extra...), "file", f.file)
			u := url
			if tt.url != "" {
				u = tt.url
			}
			resp, body := postRaw(t, u, pairs...)
			wantPostStatus(t, resp, body, tt.status, tt.code)
			_, err := ts.Root.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("vbkt"), Key: aws.String(f.key)})
			if stored := err == nil; stored != (tt.status == 204) && f.key != "" {
				t.Fatalf("object stored = %v after status %d", stored, resp.StatusCode)
			}
			if err == nil {
				if _, err := ts.Root.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("vbkt"), Key: aws.String(f.key)}); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestPostObjectAnonymous(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	for _, b := range []struct {
		name string
		acl  types.BucketCannedACL
	}{{"open", types.BucketCannedACLPublicReadWrite}, {"closed", types.BucketCannedACLPrivate}} {
		if _, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b.name), ACL: b.acl}); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := postRaw(t, ts.URL+"/closed", "key", "k", "file", "x")
	wantPostStatus(t, resp, body, http.StatusForbidden, "AccessDenied")
	resp, body = postRaw(t, ts.URL+"/open", "key", "k", "AWSAccessKeyId", userRoot.AccessKey, "file", "x")
	wantPostStatus(t, resp, body, http.StatusBadRequest, "InvalidArgument") // signature fields without a policy
	resp, body = postRaw(t, ts.URL+"/open", "key", "k")
	wantPostStatus(t, resp, body, http.StatusBadRequest, "IncorrectNumberOfFilesInPostRequest")

	// A complete form: metadata, tags, checksum, key from the file name,
	// 201 with its XML document.
	sum := sha256.Sum256([]byte("payload"))
	resp, body = postRaw(t, ts.URL+"/open",
		"key", "up/${filename}", "Content-Type", "text/plain", "x-amz-meta-Colour", "blue",
		"tagging", "<Tagging><TagSet><Tag><Key>t</Key><Value>v</Value></Tag></TagSet></Tagging>",
		"x-amz-checksum-sha256", base64.StdEncoding.EncodeToString(sum[:]),
		"success_action_status", "201", "file", "payload", "key", "ignored-after-file")
	wantPostStatus(t, resp, body, http.StatusCreated, "")
	var pr postResponse
	if err := xml.Unmarshal(body, &pr); err != nil || pr.Key != "up/upload.txt" || pr.Bucket != "open" || pr.ETag != resp.Header.Get("ETag") {
		t.Fatalf("PostResponse %+v (%v); body %s", pr, err, body)
	}
	head, err := ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("open"), Key: aws.String("up/upload.txt")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(head.ContentType) != "text/plain" || head.Metadata["colour"] != "blue" {
		t.Errorf("content type %q, metadata %v", aws.ToString(head.ContentType), head.Metadata)
	}
	tags, err := ts.Root.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("open"), Key: aws.String("up/upload.txt")})
	if err != nil || len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Key) != "t" {
		t.Errorf("tags %v, %v", tags, err)
	}

	resp, body = postRaw(t, ts.URL+"/open", "key", "bad-sum", "x-amz-checksum-sha256", base64.StdEncoding.EncodeToString(make([]byte, 32)), "file", "payload")
	wantPostStatus(t, resp, body, http.StatusBadRequest, "BadDigest")

	resp, body = postRaw(t, ts.URL+"/open", "key", "r", "success_action_redirect", "http://127.0.0.1/done", "file", "x")
	wantPostStatus(t, resp, body, http.StatusSeeOther, "")
	if loc, want := resp.Header.Get("Location"), "http://127.0.0.1/done?bucket=open&key=r&etag=%22"; !strings.HasPrefix(loc, want) {
		t.Errorf("Location = %q, want prefix %q", loc, want)
	}
}

// TestPostObjectStreams posts a body larger than any buffer on the way,
// fed through a pipe so it is never whole in memory on the client side
// either.
func TestPostObjectStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("large upload")
	}
	ts := newTestServer(t)
	if _, err := ts.Root.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("big"), ACL: types.BucketCannedACLPublicReadWrite}); err != nil {
		t.Fatal(err)
	}
	const size = 12 << 20
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("key", "big")
		fw, _ := mw.CreateFormFile("file", "big")
		_, err := io.CopyN(fw, zeros{}, size)
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	resp, err := http.Post(ts.URL+"/big", mw.FormDataContentType(), pr)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp.Body)
	wantPostStatus(t, resp, body, http.StatusNoContent, "")
	head, err := ts.Root.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("big"), Key: aws.String("big")})
	if err != nil || aws.ToInt64(head.ContentLength) != size {
		t.Fatalf("head: %v, %v", head, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestPostObjectDefaultRetention: an upload through a form gets the
// bucket's default retention, as a PUT does, so a form is no way around
// object lock: the version cannot be deleted before its date.
func TestPostObjectDefaultRetention(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	const bkt = "locked-form"
	if _, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bkt), ACL: types.BucketCannedACLPublicReadWrite,
		ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Root.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String(bkt),
		ObjectLockConfiguration: &types.ObjectLockConfiguration{ObjectLockEnabled: types.ObjectLockEnabledEnabled,
			Rule: &types.ObjectLockRule{DefaultRetention: &types.DefaultRetention{Mode: types.ObjectLockRetentionModeCompliance, Days: aws.Int32(1)}}}}); err != nil {
		t.Fatal(err)
	}
	resp, body := postRaw(t, ts.URL+"/"+bkt, "key", "k", "file", "payload")
	wantPostStatus(t, resp, body, http.StatusNoContent, "")
	head, err := ts.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bkt), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	if head.ObjectLockMode != types.ObjectLockModeCompliance || head.ObjectLockRetainUntilDate == nil {
		t.Fatalf("form upload: lock mode %q until %v, want the bucket's COMPLIANCE default", head.ObjectLockMode, head.ObjectLockRetainUntilDate)
	}
	_, err = ts.Root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bkt), Key: aws.String("k"), VersionId: head.VersionId})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)
}
