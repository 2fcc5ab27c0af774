package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// postSignedForm POSTs a browser form signed by u (Signature Version 2, signed
// here with crypto/hmac) to path, with the Origin header a browser sends.
func postSignedForm(t *testing.T, u *tenantUser, url, bucket, key, origin string) *http.Response {
	t.Helper()
	doc, err := json.Marshal(map[string]any{"expiration": time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05Z"),
		"conditions": []any{map[string]string{"bucket": bucket}, []any{"starts-with", "$key", ""}}})
	ok(t, "policy", err)
	policy := base64.StdEncoding.EncodeToString(doc)
	m := hmac.New(sha1.New, []byte(u.creds.SecretAccessKey))
	m.Write([]byte(policy))
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for _, f := range [][2]string{{"key", key}, {"AWSAccessKeyId", u.creds.AccessKeyID}, {"policy", policy},
		{"signature", base64.StdEncoding.EncodeToString(m.Sum(nil))}} {
		ok(t, "field", w.WriteField(f[0], f[1]))
	}
	fw, err := w.CreateFormFile("file", "f.txt")
	ok(t, "file", err)
	_, _ = fw.Write([]byte("posted by " + u.id))
	ok(t, "close", w.Close())
	req := newRequest(t, "POST", url, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Origin", origin)
	resp, err := http.DefaultClient.Do(req)
	ok(t, "POST", err)
	resp.Body.Close()
	return resp
}

// TestTenantsPostFormCORS: a browser form POSTed to a plain bucket name is
// signed by a user of t1, so it lands in t1's bucket, and its response
// carries the CORS headers of that bucket, not those of the default
// tenant's bucket of the same name (which the request named before its
// form was authenticated).
func TestTenantsPostFormCORS(t *testing.T) {
	e := startTenants(t)
	ctx := context.Background()
	a1, a0 := e.users["t1$alice"], e.users["alice"]
	for _, c := range []struct {
		u      *tenantUser
		origin string
	}{{a1, "https://t1.example"}, {a0, "https://evil.example"}} {
		c.u.mkbucket(t, "forms")
		_, err := c.u.s3.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("forms"), CORSConfiguration: &s3types.CORSConfiguration{
			CORSRules: []s3types.CORSRule{{AllowedMethods: []string{"POST"}, AllowedOrigins: []string{c.origin}}}}})
		ok(t, c.u.id+": PutBucketCors", err)
	}
	for _, tc := range []struct{ origin, want string }{{"https://t1.example", "https://t1.example"}, {"https://evil.example", ""}} {
		resp := postSignedForm(t, a1, e.srv.URL+"/forms", "forms", "k", tc.origin)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("POST from %s: %d", tc.origin, resp.StatusCode)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tc.want {
			t.Errorf("POST to t1's forms from %s: Access-Control-Allow-Origin %q, want %q (t1's bucket's rules)", tc.origin, got, tc.want)
		}
	}
	if got, err := getBody(a1.s3, "forms", "k"); err != nil || got != "posted by t1$alice" {
		t.Errorf("t1's forms/k = %q, %v", got, err)
	}
	if _, err := getBody(a0.s3, "forms", "k"); apiCode(err) != "NoSuchKey" {
		t.Errorf("the default tenant's forms/k: %v, want NoSuchKey", err)
	}
}

// TestTenantsPostPolicyBucket: a form policy's bucket condition names the
// bucket as its signer does, so a form t1's alice signed for her own
// "uploads" cannot be posted to t2's "uploads" (which t2's policy lets her
// write), while one signed for "t2:uploads" can.
func TestTenantsPostPolicyBucket(t *testing.T) {
	e := startTenants(t)
	a1, a2 := e.users["t1$alice"], e.users["t2$alice"]
	a1.mkbucket(t, "uploads")
	a2.mkbucket(t, "uploads")
	setPolicy(t, a2, "uploads", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::t1:user/alice"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::uploads/*"}]}`)
	for _, tc := range []struct {
		path, condition string
		want            int
	}{
		{"/uploads", "uploads", http.StatusNoContent},
		{"/t1:uploads", "uploads", http.StatusNoContent},
		{"/t2:uploads", "uploads", http.StatusForbidden},
		{"/t2:uploads", "t2:uploads", http.StatusNoContent},
		{"/uploads", "t2:uploads", http.StatusForbidden},
	} {
		if resp := postSignedForm(t, a1, e.srv.URL+tc.path, tc.condition, "k", "https://t1.example"); resp.StatusCode != tc.want {
			t.Errorf("t1$alice POSTs a form signed for bucket %q to %s: %d, want %d", tc.condition, tc.path, resp.StatusCode, tc.want)
		}
	}
}
