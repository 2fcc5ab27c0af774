package cli

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestAdminScrub: `cairn admin scrub` verifies a real server's objects and
// prints the report.
func TestAdminScrub(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars, admin := s3Env(srv), adminEnv(srv)
	ok(t, vars, "mb", "s3://scrubbed")
	src := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(src, make([]byte, 200<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	ok(t, vars, "cp", src, "s3://scrubbed/big")
	var rep struct {
		Objects      int64 `json:"objects"`
		Bytes        int64 `json:"bytes"`
		DamagedCount int64 `json:"damaged_count"`
		Damaged      []any `json:"damaged"`
	}
	decode(t, ok(t, admin, "admin", "scrub", "--rate", "100000000"), &rep)
	if rep.Objects != 1 || rep.Bytes != 200<<10 || rep.DamagedCount != 0 || rep.Damaged == nil {
		t.Fatalf("scrub: %+v", rep)
	}
}
