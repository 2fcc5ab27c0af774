package auth_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// presignAt presigns a GET of bucket/key on srv for expires seconds,
// signed at the given time, the way aws-sdk-go-v2 does.
func presignAt(t *testing.T, srv *servertest.Running, path string, expires int, at time.Time) *http.Request {
	t.Helper()
	r, _ := http.NewRequest(http.MethodGet, srv.URL+path+"?X-Amz-Expires="+strconv.Itoa(expires), nil)
	u, _, err := v4.NewSigner().PresignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: srv.RootAccessKey, SecretAccessKey: srv.RootSecretKey}, r, "UNSIGNED-PAYLOAD", "s3",
		"us-east-1", at, func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
	r, _ = http.NewRequest(http.MethodGet, u, nil)
	return r
}

// TestServerPresignExpiryWindow: a presigned URL is valid while
// now < X-Amz-Date + X-Amz-Expires. X-Amz-Expires=0 (what
// generate_presigned_url(ExpiresIn=0) sends) opens no window at all, even
// when X-Amz-Date is ahead of the server's clock by less than the allowed
// skew; negative and over-a-week values are refused with 403 too.
func TestServerPresignExpiryWindow(t *testing.T) {
	srv, c := realServer(t)
	mustBucket(t, c, "bkt")
	mustPut(t, c, "bkt", "foo", "bar")
	now := time.Now()
	tests := []struct {
		name    string
		expires int
		at      time.Time
		status  int
		msg     string
	}{
		{"valid", 60, now, http.StatusOK, ""},
		{"zero", 0, now, http.StatusForbidden, "Request has expired"},
		{"zero signed ahead of the clock", 0, now.Add(2 * time.Minute), http.StatusForbidden, "Request has expired"},
		{"negative", -7, now, http.StatusForbidden, "X-Amz-Expires must be non-negative"},
		{"signed long ago", 1000, now.Add(-1001 * time.Second), http.StatusForbidden, "Request has expired"},
		{"over a week", 609901, now, http.StatusForbidden,
			"X-Amz-Expires must be less than a week (in seconds) that is 604800"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, e, body := do(t, presignAt(t, srv, "/bkt/foo", tt.expires, tt.at))
			if status != tt.status || (tt.msg != "" && (e.Code != "AccessDenied" || e.Message != tt.msg)) {
				t.Fatalf("got %d %q, want %d AccessDenied %q", status, body, tt.status, tt.msg)
			}
		})
	}
}
