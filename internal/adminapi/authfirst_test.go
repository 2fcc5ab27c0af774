package adminapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestAuthenticateFirst: a path or sub-resource the admin API does not
// serve is NotImplemented only to admins; everyone else, anonymous or not,
// is refused first, as for any admin operation.
func TestAuthenticateFirst(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name   string
		creds  aws.Credentials
		method string
		target string
		status int
		code   string
	}{
		{"anonymous, unknown path", aws.Credentials{}, "GET", "/admin/log?format=json", http.StatusForbidden, "AccessDenied"},
		{"anonymous, unknown sub-resource", aws.Credentials{}, "GET", "/admin/user?quota&uid=bob", http.StatusForbidden, "AccessDenied"},
		{"wrong secret, unknown path", aws.Credentials{AccessKeyID: "ROOTKEY", SecretAccessKey: "wrong"}, "GET", "/admin/log",
			http.StatusForbidden, "SignatureDoesNotMatch"},
		{"plain user, unknown path", bobKey, "GET", "/admin/log?format=json", http.StatusForbidden, "AccessDenied"},
		{"users cap, unknown sub-resource", opsKey, "GET", "/admin/user?quota&uid=bob", http.StatusForbidden, "AccessDenied"},
		{"admin, unknown path", rootKey, "GET", "/admin/log?format=json", http.StatusNotImplemented, "NotImplemented"},
		{"admin, unknown sub-resource", rootKey, "PUT", "/admin/user?subuser&uid=bob", http.StatusNotImplemented, "NotImplemented"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.t = t
			e.fails(c.creds, c.method, c.target, c.status, c.code)
		})
	}
}

// TestMinIOAdminNotImplemented: MinIO's admin API (mc admin) answers
// NotImplemented, not a signature error, although madmin signs with an
// empty region that SigV4 verification refuses.
func TestMinIOAdminNotImplemented(t *testing.T) {
	e := newEnv(t)
	req, err := http.NewRequest(http.MethodGet, e.url+"/minio/admin/v3/info", nil)
	if err != nil {
		t.Fatal(err)
	}
	const emptySHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	req.Header.Set("X-Amz-Content-Sha256", emptySHA)
	if err := v4.NewSigner().SignHTTP(context.Background(), rootKey, req, emptySHA, "s3", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	e.t = t
	status, body := e.send(req)
	if status != http.StatusNotImplemented || !jsonCode(body, "NotImplemented") {
		t.Fatalf("got %d %s, want 501 NotImplemented", status, body)
	}
}
