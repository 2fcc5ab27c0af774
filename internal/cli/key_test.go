package cli

import (
	"testing"

	"github.com/cairn-s3/cairn/internal/adminapi"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

func TestAdminKey(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := adminEnv(srv)
	ok(t, vars, "admin", "user", "create", "--uid", "k", "--display-name", "K", "--access-key", "K1", "--secret", "S1")

	var u adminapi.UserInfo
	decode(t, ok(t, vars, "admin", "key", "create", "--uid", "k", "--access-key", "K2", "--secret", "S2"), &u)
	if len(u.Keys) != 2 || u.Keys[1] != (adminapi.KeyInfo{User: "k", AccessKey: "K2", SecretKey: "S2"}) {
		t.Errorf("key create: %+v", u.Keys)
	}
	decode(t, ok(t, vars, "admin", "key", "create", "--uid", "k"), &u)
	if len(u.Keys) != 3 || len(u.Keys[2].AccessKey) != 20 || len(u.Keys[2].SecretKey) != 40 {
		t.Errorf("generated key: %+v", u.Keys)
	}
	fails(t, vars, "KeyExists", "admin", "key", "create", "--uid", "root", "--access-key", "K1")
	fails(t, vars, "NoSuchUser", "admin", "key", "create", "--uid", "nobody")

	decode(t, ok(t, vars, "admin", "key", "rm", "--uid", "k", "--access-key", "K1"), &u)
	if len(u.Keys) != 2 || u.Keys[0].AccessKey != "K2" {
		t.Errorf("key rm: %+v", u.Keys)
	}
	fails(t, vars, "InvalidAccessKeyId", "admin", "key", "rm", "--uid", "k", "--access-key", "K1")
	fails(t, vars, `"access-key" not set`, "admin", "key", "rm", "--uid", "k")
}
