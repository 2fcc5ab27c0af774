//go:build rados

package cephstatus_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-s3/cairn/internal/cephstatus"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// countingConn counts the mon commands sent over a real connection.
type countingConn struct {
	cephstatus.MonCommander
	n atomic.Int64
}

func (c *countingConn) MonCommand(args []byte) ([]byte, string, error) {
	c.n.Add(1)
	return c.MonCommander.MonCommand(args)
}

// TestCollectorCachesBetweenScrapes: back-to-back scrapes cost the
// monitors one round of commands, not one per scrape.
func TestCollectorCachesBetweenScrapes(t *testing.T) {
	conn := &countingConn{MonCommander: radostest.Conn(t)}
	reg := prometheus.NewRegistry()
	reg.MustRegister(cephstatus.NewCollector(func(ctx context.Context) (cephstatus.Status, error) {
		return cephstatus.Fetch(ctx, conn)
	}, 0, nil))
	var perScrape int64
	for i := range 3 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		if len(mfs) != 4 {
			t.Fatalf("scrape %d: %d metric families, want the 4 cairn_ceph_* ones", i, len(mfs))
		}
		if i == 0 {
			perScrape = conn.n.Load()
		}
	}
	if perScrape == 0 || conn.n.Load() != perScrape {
		t.Errorf("mon commands: %d after the first scrape, %d after three; want the same", perScrape, conn.n.Load())
	}
}
