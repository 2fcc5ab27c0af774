package auth

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// sdkPresign presigns method target with aws-sdk-go-v2 and returns the
// server-side request a client following the URL would send.
func sdkPresign(t testing.TB, method, target string, expires time.Duration, hdr http.Header) *http.Request {
	t.Helper()
	u := "http://" + testHost + target
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	u += sep + "X-Amz-Expires=" + strconv.Itoa(int(expires/time.Second))
	cr, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		cr.Header[k] = v
	}
	signed, signedHdr, err := v4.NewSigner().PresignHTTP(context.Background(), sdkCreds(), cr, unsignedPayload, "s3", "us-west-2", t0,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(signed)
	r := newReq(method, pu.RequestURI(), "")
	for k, v := range signedHdr {
		if k != "Host" {
			r.Header[k] = v
		}
	}
	return r
}

func TestPresignV4SDK(t *testing.T) {
	tests := []struct {
		name, method, target string
		hdr                  http.Header
	}{
		{"get", "GET", "/bucket/key.txt", nil},
		{"get with response overrides", "GET", "/bucket/key.txt?response-content-type=text%2Fplain&versionId=3", nil},
		{"put with signed header", "PUT", "/bucket/dir/a%20b%2Bc", http.Header{"X-Amz-Meta-Owner": {"me"}, "Content-Type": {"image/png"}}},
		{"unicode key", "DELETE", "/bucket/%E2%82%AC", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sdkPresign(t, tt.method, tt.target, time.Hour, tt.hdr)
			id, err := newTestVerifier(t0.Add(59 * time.Minute)).Verify(r)
			if err != nil {
				t.Fatalf("Verify %s: %v", r.URL, err)
			}
			if id.AccessKey != testAK || id.UserID != testUser || id.Anonymous {
				t.Errorf("identity %+v", id)
			}
		})
	}
}

func TestPresignV4Errors(t *testing.T) {
	const week = 7 * 24 * time.Hour
	tests := []struct {
		name    string
		expires time.Duration
		now     time.Time
		tamper  func(r *http.Request)
		code    string
		msg     string
	}{
		{name: "expired", expires: time.Hour, now: t0.Add(61 * time.Minute), code: "AccessDenied", msg: "Request has expired"},
		{name: "expired at the last instant", expires: time.Hour, now: t0.Add(time.Hour), code: "AccessDenied",
			msg: "Request has expired"},
		{name: "zero expiry", expires: 0, now: t0, code: "AccessDenied", msg: "Request has expired"},
		{name: "zero expiry signed ahead", expires: 0, now: t0.Add(-time.Minute), code: "AccessDenied",
			msg: "Request has expired"},
		{name: "not yet valid", expires: time.Hour, now: t0.Add(-time.Hour), code: "AccessDenied", msg: "Request is not valid yet"},
		{name: "a week is fine", expires: week, now: t0.Add(week - time.Second)},
		{name: "longer than a week", expires: week + time.Second, now: t0, code: "AccessDenied",
			msg: "X-Amz-Expires must be less than a week (in seconds) that is 604800"},
		{name: "tampered query", expires: time.Hour, now: t0, code: "SignatureDoesNotMatch",
			tamper: func(r *http.Request) { r.URL.RawQuery += "&versionId=2" }},
		{name: "tampered signed header", expires: time.Hour, now: t0, code: "SignatureDoesNotMatch",
			tamper: func(r *http.Request) { r.Header.Set("X-Amz-Meta-Owner", "you") }},
		{name: "tampered path", expires: time.Hour, now: t0, code: "SignatureDoesNotMatch",
			tamper: func(r *http.Request) {
				r.RequestURI = strings.Replace(r.RequestURI, "/bucket/key", "/bucket/kez", 1)
			}},
		{name: "missing signature", expires: time.Hour, now: t0, code: "AuthorizationQueryParametersError",
			tamper: func(r *http.Request) { r.URL.RawQuery = dropParam(r.URL.RawQuery, "X-Amz-Signature") }},
		{name: "missing expires", expires: time.Hour, now: t0, code: "AuthorizationQueryParametersError",
			tamper: func(r *http.Request) { r.URL.RawQuery = dropParam(r.URL.RawQuery, "X-Amz-Expires") }},
		{name: "bad algorithm", expires: time.Hour, now: t0, code: "AuthorizationQueryParametersError",
			msg: "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"",
			tamper: func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1", 1)
			}},
		{name: "bad credential", expires: time.Hour, now: t0, code: "AuthorizationQueryParametersError",
			tamper: func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "aws4_request", "aws5_request", 1)
			}},
		{name: "non-numeric expires", expires: time.Hour, now: t0, code: "AuthorizationQueryParametersError",
			msg: "X-Amz-Expires should be a number",
			tamper: func(r *http.Request) {
				r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=3600", "X-Amz-Expires=1h", 1)
			}},
		{name: "unknown key", expires: time.Hour, now: t0, code: "InvalidAccessKeyId",
			tamper: func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, testAK, "AKIDOTHER", 1) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := sdkPresign(t, "PUT", "/bucket/key", tt.expires, http.Header{"X-Amz-Meta-Owner": {"me"}})
			if tt.tamper != nil {
				tt.tamper(r)
			}
			_, err := newTestVerifier(tt.now).Verify(r)
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantCode(t, err, tt.code, tt.msg)
		})
	}
}

func dropParam(raw, name string) string {
	var keep []string
	for _, p := range strings.Split(raw, "&") {
		if !strings.HasPrefix(p, name+"=") {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, "&")
}

// TestPresignIgnoresSkew: a presigned URL is valid for its whole window even
// when that is far beyond the 15 minutes of header auth.
func TestPresignIgnoresSkew(t *testing.T) {
	r := sdkPresign(t, "GET", "/bucket/key", 24*time.Hour, nil)
	if _, err := newTestVerifier(t0.Add(23 * time.Hour)).Verify(r); err != nil {
		t.Fatal(err)
	}
}
