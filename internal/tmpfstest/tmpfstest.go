// Package tmpfstest mounts small tmpfs filesystems for tests that need a
// disk that really fills up (ENOSPC from the kernel, not from a seam).
package tmpfstest

import (
	"os"
	"os/exec"
	"testing"
)

// Mount mounts a tmpfs of size (e.g. "48m") on a fresh directory and
// unmounts it when the test ends. It needs root: without it the test
// skips, or fails under CI=true, where every dependency must be there.
func Mount(t testing.TB, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount tmpfs: %v: %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs (needs root): %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
	return dir
}
