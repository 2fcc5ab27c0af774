//go:build rados

package radosopen_test

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// A user created through one gateway's admin API signs requests on the
// other; a key removed, or a user suspended, through one is refused by the
// other on its very next request, although that gateway had the key
// cached (watch/notify: the admin call returns once the others forgot it).
func TestTwoGatewaysShareAccounts(t *testing.T) {
	gws := startGateways(t, 2)
	a, b := gws[0], gws[1]
	for _, u := range []string{"alice", "bob"} {
		if code, body := admin(t, a, http.MethodPut, "/admin/user?format=json&uid="+u+"&display-name="+u+
			"&access-key="+u+"KEY&secret-key="+u+"-secret"); code != http.StatusOK {
			t.Fatalf("create %s through gateway A: %d %s", u, code, body)
		}
	}
	list := func(user string) string {
		_, err := client(b, user+"KEY", user+"-secret").ListBuckets(t.Context(), &s3.ListBucketsInput{})
		return errorCode(err)
	}
	for _, u := range []string{"alice", "bob"} {
		if got := list(u); got != "OK" { // signs on B, and B caches the key
			t.Fatalf("%s's key on gateway B: %s", u, got)
		}
	}

	if code, body := admin(t, a, http.MethodDelete, "/admin/user?key&format=json&uid=alice&access-key=aliceKEY"); code != http.StatusOK {
		t.Fatalf("remove alice's key through A: %d %s", code, body)
	}
	if got := list("alice"); got != "InvalidAccessKeyId" {
		t.Errorf("alice's removed key on gateway B: %s, want InvalidAccessKeyId", got)
	}

	if code, body := admin(t, a, http.MethodPost, "/admin/user?format=json&uid=bob&suspended=1"); code != http.StatusOK {
		t.Fatalf("suspend bob through A: %d %s", code, body)
	}
	if got := list("bob"); got == "OK" {
		t.Errorf("suspended bob's key on gateway B: %s, want it refused", got)
	}
}
