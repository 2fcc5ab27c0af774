package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/adminapi"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

func TestAdminUser(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := adminEnv(srv)

	out := ok(t, vars, "admin", "user", "create", "--uid", "test", "--access-key", "test", "--secret", "test",
		"--display-name", "test", "--email", "test@example.com", "--max-buckets", "12")
	if !strings.Contains(out, "\n    \"user_id\": \"test\",\n") {
		t.Errorf("output is not indented like radosgw-admin:\n%s", out)
	}
	var u adminapi.UserInfo
	decode(t, out, &u)
	if u.UserID != "test" || u.DisplayName != "test" || u.Email != "test@example.com" || u.MaxBuckets != 12 || u.Suspended != 0 {
		t.Errorf("create: %+v", u)
	}
	if len(u.Keys) != 1 || u.Keys[0] != (adminapi.KeyInfo{User: "test", AccessKey: "test", SecretKey: "test"}) {
		t.Errorf("create keys: %+v", u.Keys)
	}
	fails(t, vars, "UserAlreadyExists", "admin", "user", "create", "--uid", "test", "--display-name", "again")
	fails(t, vars, `"display-name" not set`, "admin", "user", "create", "--uid", "x")

	var info adminapi.UserInfo
	decode(t, ok(t, vars, "admin", "user", "info", "--uid", "test"), &info)
	if info.UserID != "test" || len(info.Keys) != 1 {
		t.Errorf("info: %+v", info)
	}

	// --secret-key is an alias of --secret; --gen-key generates.
	decode(t, ok(t, vars, "admin", "user", "create", "--uid", "alias", "--display-name", "A", "--access-key", "AK2", "--secret-key", "SK2"), &u)
	if len(u.Keys) != 1 || u.Keys[0].SecretKey != "SK2" {
		t.Errorf("--secret-key alias: %+v", u.Keys)
	}
	decode(t, ok(t, vars, "admin", "user", "create", "--uid", "gen", "--display-name", "G", "--gen-key"), &u)
	if len(u.Keys) != 1 || len(u.Keys[0].AccessKey) != 20 || len(u.Keys[0].SecretKey) != 40 {
		t.Errorf("--gen-key: %+v", u.Keys)
	}

	var ids []string
	decode(t, ok(t, vars, "admin", "user", "list"), &ids)
	if !slices.Equal(ids, []string{"alias", "gen", "root", "test"}) {
		t.Errorf("list: %v", ids)
	}

	decode(t, ok(t, vars, "admin", "user", "modify", "--uid", "test", "--display-name", "Tester", "--max-buckets", "3"), &u)
	if u.DisplayName != "Tester" || u.MaxBuckets != 3 || u.Email != "test@example.com" {
		t.Errorf("modify: %+v", u)
	}
	fails(t, vars, "nothing to modify", "admin", "user", "modify", "--uid", "test")
	decode(t, ok(t, vars, "admin", "user", "suspend", "--uid", "test"), &u)
	if u.Suspended != 1 {
		t.Errorf("suspend: %+v", u)
	}
	decode(t, ok(t, vars, "admin", "user", "enable", "--uid", "test"), &u)
	if u.Suspended != 0 {
		t.Errorf("enable: %+v", u)
	}

	if out := ok(t, vars, "admin", "user", "rm", "--uid", "test", "--purge-data"); out != "" {
		t.Errorf("rm printed %q", out)
	}
	fails(t, vars, "NoSuchUser", "admin", "user", "info", "--uid", "test")
	fails(t, vars, "NoSuchUser", "admin", "user", "rm", "--uid", "test")
}
