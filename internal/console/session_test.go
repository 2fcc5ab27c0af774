package console_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestForwardPutGet: a signed-in browser creates a bucket, puts and gets an
// object through the console, as the root user.
func TestForwardPutGet(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	b := newClient(t, srv.ConsoleURL)
	s := b.signIn(srv.RootAccessKey, srv.RootSecretKey)
	if s.User != "root" || !s.Admin || s.Endpoint != srv.URL {
		t.Fatalf("session %+v", s)
	}
	b.expect(200, "PUT", "/api/s3/bucket1", nil, nil)
	b.expect(200, "PUT", "/api/s3/bucket1/dir/a%20b+c.txt", strings.NewReader("hello"), http.Header{"Content-Type": {"text/plain"}})
	if got := b.expect(200, "GET", "/api/s3/bucket1/dir/a%20b+c.txt", nil, nil); got != "hello" {
		t.Fatalf("got %q", got)
	}
	list := b.expect(200, "GET", "/api/s3/bucket1?list-type=2&prefix=dir/", nil, nil)
	if !strings.Contains(list, "<Key>dir/a b+c.txt</Key>") {
		t.Fatalf("list: %s", list)
	}
}
