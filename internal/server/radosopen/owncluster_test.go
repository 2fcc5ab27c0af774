//go:build rados

package radosopen_test

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// ownCluster is a Ceph cluster of one test's own (test/ceph/cluster.sh in a
// temporary directory), for tests that stop or kill OSDs: the shared cluster
// of CAIRN_CEPH_CONF must stay healthy for every other test.
type ownCluster struct {
	script string
	dir    string
}

// startOwnCluster starts a fresh cluster (one monitor, one manager, three
// OSDs, size 3 / min_size 2, heartbeat grace 5 s) and stops it, removing
// everything, when the test ends. A cluster that cannot start fails the
// test: building with the rados tag is the request to test against Ceph.
func startOwnCluster(t *testing.T) *ownCluster {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "..", "..", "test", "ceph", "cluster.sh"))
	if err != nil {
		t.Fatal(err)
	}
	c := &ownCluster{script: script, dir: filepath.Join(t.TempDir(), "ceph")}
	t.Cleanup(func() {
		// A fresh context: t.Context is already done in cleanups.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if out, err := exec.CommandContext(ctx, c.script, "stop", c.dir).CombinedOutput(); err != nil {
			t.Errorf("stop the test's own cluster: %v\n%s", err, out)
		}
	})
	c.run(t, 3*time.Minute, "start", c.dir)
	return c
}

// conf is the cluster's ceph.conf.
func (c *ownCluster) conf() string { return filepath.Join(c.dir, "ceph.conf") }

// osd runs `cluster.sh ACTION DIR ID` (osd-stop, osd-kill, osd-start).
func (c *ownCluster) osd(t *testing.T, action string, id int) {
	t.Helper()
	c.run(t, time.Minute, action, c.dir, strconv.Itoa(id))
}

// waitClean waits, bounded by the script, until every OSD is up and in and
// every PG active+clean.
func (c *ownCluster) waitClean(t *testing.T) {
	t.Helper()
	c.run(t, 3*time.Minute, "wait", c.dir)
}

func (c *ownCluster) run(t *testing.T, limit time.Duration, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	start := time.Now()
	out, err := exec.CommandContext(ctx, c.script, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("cluster.sh %v: %v\n%s", args, err, out)
	}
	t.Logf("cluster.sh %s: %.1fs", args[0], time.Since(start).Seconds())
}

// waitOSDDown waits, bounded, until the monitor marks OSD id down, and
// returns how long that took.
func (c *ownCluster) waitOSDDown(t *testing.T, id int) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < time.Minute {
		if !c.osdUp(t, id) {
			return time.Since(start)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("osd.%d still up after a minute", id)
	return 0
}

func (c *ownCluster) osdUp(t *testing.T, id int) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ceph", "-c", c.conf(), "--connect-timeout", "10", "osd", "dump", "-f", "json").Output()
	if err != nil {
		t.Fatalf("ceph osd dump: %v", err)
	}
	var dump struct {
		OSDs []struct {
			OSD int `json:"osd"`
			Up  int `json:"up"`
		} `json:"osds"`
	}
	if err := json.Unmarshal(out, &dump); err != nil {
		t.Fatalf("ceph osd dump: %v", err)
	}
	for _, o := range dump.OSDs {
		if o.OSD == id {
			return o.Up == 1
		}
	}
	t.Fatalf("ceph osd dump has no osd.%d", id)
	return false
}
