package adminapi_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/cairn-s3/cairn/internal/adminapi"
)

// TestTenantUsers: users of a tenant are listed per tenant, and a key is
// removed only from the user named with its tenant (tenant=T&uid=U is
// "T$U", never the default tenant's U).
func TestTenantUsers(t *testing.T) {
	e := newEnv(t)
	var u adminapi.UserInfo
	e.ok("PUT", "/admin/user?tenant=acme&uid=bob&display-name=B&access-key=ACMEBOB&secret-key=s", &u)
	if u.UserID != "acme$bob" || u.Tenant != "acme" || u.FullUserID != "acme$bob" || len(u.Keys) != 1 || u.Keys[0].User != "acme$bob" {
		t.Fatalf("create: %+v", u)
	}
	e.ok("GET", "/admin/user?uid=bob", &u)
	if u.UserID != "bob" || u.Tenant != "" || u.FullUserID != "bob" {
		t.Errorf("default tenant's user: %+v", u)
	}
	for target, want := range map[string][]string{
		"/admin/metadata/user":             {"acme$bob", "bob", "ops", "root"},
		"/admin/metadata/user?tenant=acme": {"acme$bob"},
		"/admin/metadata/user?tenant=":     {"bob", "ops", "root"},
		"/admin/metadata/user?tenant=beta": {},
	} {
		var ids []string
		e.ok("GET", target, &ids)
		if !slices.Equal(ids, want) {
			t.Errorf("GET %s = %v, want %v", target, ids, want)
		}
	}
	var list struct {
		Keys  []string `json:"keys"`
		Count int      `json:"count"`
	}
	e.ok("GET", "/admin/user?list&tenant=acme", &list)
	if !slices.Equal(list.Keys, []string{"acme$bob"}) || list.Count != 1 {
		t.Errorf("user?list&tenant=acme = %+v", list)
	}
	e.fails(rootKey, "GET", "/admin/metadata/user?tenant=a-b", http.StatusBadRequest, "InvalidArgument")

	// bob's key is the default tenant's bob's: acme$bob cannot lose it.
	e.fails(rootKey, "DELETE", "/admin/user?key&tenant=acme&uid=bob&access-key=BOBKEY", http.StatusForbidden, "InvalidAccessKeyId")
	e.ok("GET", "/admin/user?uid=bob", &u)
	if len(u.Keys) != 1 || u.Keys[0].AccessKey != "BOBKEY" {
		t.Fatalf("default bob lost his key: %+v", u.Keys)
	}
	e.ok("DELETE", "/admin/user?key&tenant=acme&uid=bob&access-key=ACMEBOB", nil)
	e.ok("GET", "/admin/user?uid=acme%24bob", &u)
	if len(u.Keys) != 0 {
		t.Errorf("acme$bob keeps %+v", u.Keys)
	}
}
