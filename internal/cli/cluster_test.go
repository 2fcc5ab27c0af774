package cli

import (
	"testing"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestClusterStatusNeedsRados: a gateway on the local store has no Ceph
// cluster and says so with NotImplemented (HTTP 501), to admins only.
func TestClusterStatusNeedsRados(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := adminEnv(srv)
	fails(t, vars, "NotImplemented (HTTP 501): the cluster status needs --store rados", "admin", "cluster", "status")
	ok(t, vars, "admin", "user", "create", "--uid", "plain", "--display-name", "P", "--access-key", "PLAIN", "--secret", "plainsecret")
	fails(t, vars, "AccessDenied (HTTP 403)", "admin", "cluster", "status", "--access-key", "PLAIN", "--secret-key", "plainsecret")
}
