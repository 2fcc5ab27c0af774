package auth

import (
	"net/http"
	"testing"
)

func TestClaimedAccessKey(t *testing.T) {
	const sig64 = "0000000000000000000000000000000000000000000000000000000000000000"
	for _, tt := range []struct {
		name, url, authz, want string
	}{
		{"v4 header", "/b/k", "AWS4-HMAC-SHA256 Credential=AK1/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=" + sig64, "AK1"},
		{"v2 header", "/b/k", "AWS AK2:c2lnbmF0dXJl", "AK2"},
		{"v4 query", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AK3%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Signature=00", "", "AK3"},
		{"v2 query", "/b/k?AWSAccessKeyId=AK4&Signature=x&Expires=1", "", "AK4"},
		{"malformed v4 query", "/b/k?X-Amz-Credential=AK5", "", ""},
		{"anonymous", "/b/k", "", ""},
	} {
		r, err := http.NewRequest("OPTIONS", "http://127.0.0.1"+tt.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.authz != "" {
			r.Header.Set("Authorization", tt.authz)
		}
		if got := claimedAccessKey(r); got != tt.want {
			t.Errorf("%s: claimedAccessKey = %q, want %q", tt.name, got, tt.want)
		}
	}
}
