package console_test

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/syncbuf"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// recorder is a RoundTripper that keeps a copy of every response's status
// line, headers and body.
type recorder struct {
	next http.RoundTripper
	seen syncbuf.Buffer
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	_ = resp.Header.Write(&r.seen)
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.TeeReader(resp.Body, &r.seen), resp.Body}
	return resp, nil
}

// TestSecretNeverLeaves: through sign-in (good, bad, and a secret pasted
// into the access key field), forwarded S3/SNS/admin calls, a presign,
// errors and sign-out, no response header or body and no log line (server
// log at debug level, access log) contains the secret key.
func TestSecretNeverLeaves(t *testing.T) {
	var logs syncbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := startServer(t, servertest.Options{Logger: logger, AccessLog: logger})
	const secret = "erin-secret-very-recognisable-0000000001"
	root := rootClient(t, srv)
	createUser(t, root, "erin", "ERINKEY0000000000001", secret, "")

	rec := &recorder{next: http.DefaultTransport}
	c := newClient(t, srv.ConsoleURL)
	c.c.Transport = rec
	readAll(t, c.signInResp("ERINKEY0000000000001", "wrong"))
	readAll(t, c.signInResp(secret, secret)) // pasted into both fields
	c.signIn("ERINKEY0000000000001", secret)
	c.expect(200, "GET", "/api/session", nil, nil)
	c.expect(200, "PUT", "/api/s3/erin-bucket", nil, nil)
	c.expect(200, "PUT", "/api/s3/erin-bucket/k", strings.NewReader("v"), nil)
	c.expect(200, "GET", "/api/s3/erin-bucket/k", nil, nil)
	c.expect(403, "PUT", "/api/s3/erin-bucket/k", strings.NewReader("v"), http.Header{"X-Cairn-Csrf": {"bad"}})
	c.expect(404, "GET", "/api/s3/erin-bucket/missing", nil, nil)
	c.expect(400, "GET", "/api/s3/erin-bucket/k?X-Amz-Signature=forged", nil, nil) // two auth mechanisms
	c.expect(200, "POST", "/api/s3/", strings.NewReader("Action=ListTopics"), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	c.expect(403, "GET", "/api/admin/user?uid=erin", nil, nil)
	c.expect(200, "POST", "/api/presign", strings.NewReader(`{"method":"GET","bucket":"erin-bucket","key":"k","expiresSeconds":60}`), nil)
	c.expect(204, "DELETE", "/api/session", nil, nil)
	c.expect(401, "GET", "/api/s3/erin-bucket/k", nil, nil)

	if seen := rec.seen.String(); !strings.Contains(seen, "ERINKEY0000000000001") && len(seen) < 1000 {
		t.Fatalf("the recorder saw too little: %q", seen)
	} else if strings.Contains(seen, secret) {
		t.Errorf("a response contains the secret key:\n%s", seen)
	}
	l := logs.String()
	if !strings.Contains(l, "console sign-in") {
		t.Fatalf("the log capture saw no sign-in: %s", l)
	}
	for line := range strings.SplitSeq(l, "\n") {
		if strings.Contains(line, secret) {
			t.Errorf("a log line contains the secret key: %s", line)
		}
	}
}
