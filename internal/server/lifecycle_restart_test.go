package server_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestLifecycleResumesAfterRestart stops the server in the middle of a
// pass (the rate bounds it to 20 objects a second, the page to 5) and
// restarts it: the same pass continues from its cursor, and when every
// object is gone each was removed exactly once (the bucket's total).
func TestLifecycleResumesAfterRestart(t *testing.T) {
	const n = 60
	lc := server.LifecycleConfig{DebugInterval: lcDay, Rate: 20, PageSize: 5}
	dir := t.TempDir()
	g := startLCGateway(t, servertest.Options{DataDir: dir, Lifecycle: server.LifecycleConfig{DebugInterval: lcNever.DebugInterval}})
	b := newName("lc-restart")
	g.mkBucket(t, b, false)
	for i := range n {
		g.put(t, b, fmt.Sprintf("k%03d", i), "x", "")
	}
	g.putLifecycle(t, b, expireRule("all", "", 1))
	g.srv.Stop()

	// Objects are a second old once the server is up again: all due.
	g = startLCGateway(t, servertest.Options{DataDir: dir, Lifecycle: lc})
	var mid lcStatus
	lcWaitFor(t, "a pass under way", func() bool {
		mid = lcList(t, g.srv)[b]
		return mid.Status == "PROCESSING" && mid.Removed >= 5
	})
	g.srv.Stop()

	g = startLCGateway(t, servertest.Options{DataDir: dir, Lifecycle: lc})
	if st := lcList(t, g.srv)[b]; !st.Started.Equal(mid.Started) || st.TotalRemoved < mid.TotalRemoved {
		t.Errorf("after restart: %+v, want the pass started at %v continued (removed %d)", st, mid.Started, mid.TotalRemoved)
	}
	lcWaitFor(t, "every object expired", func() bool { return len(g.versions(t, b, "")) == 0 })
	st := lcList(t, g.srv)[b]
	if st.TotalRemoved != n {
		t.Errorf("removed %d in total, want %d: each object exactly once", st.TotalRemoved, n)
	}
	if !strings.HasPrefix(st.Status, "COMPLETE") && st.Status != "PROCESSING" {
		t.Errorf("status %q", st.Status)
	}
}
