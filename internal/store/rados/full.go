//go:build rados

package rados

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ceph/go-ceph/rados"
)

// DefaultFullCheckInterval is Options.FullCheckInterval's default.
const DefaultFullCheckInterval = 2 * time.Second

// poolFullness follows the pool's "full" flag, which the monitors set when
// the pool reaches its quota or its OSDs the cluster's full ratio.
//
// A write of data to a full pool fails with EDQUOT or ENOSPC by itself
// (FULL_TRY), but RADOS does not count omap bytes against a pool's quota,
// so a small body kept inline in its index row would still be accepted:
// new bodies are refused up front while the flag is set, as the local
// store refuses them below its reserve.
type poolFullness struct {
	conn   *rados.Conn
	pool   string
	full   atomic.Bool
	stop   chan struct{}
	done   chan struct{}
	failed atomic.Bool // the last check failed (logged once per outage)
}

func (s *Store) watchFullness(conn *rados.Conn, pool string, every time.Duration) {
	f := &poolFullness{conn: conn, pool: pool, stop: make(chan struct{}), done: make(chan struct{})}
	s.fullness = f
	go f.run(s, every)
}

func (f *poolFullness) run(s *Store, every time.Duration) {
	defer close(f.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		full, err := f.check()
		switch {
		case err != nil && !f.failed.Swap(true):
			s.log.Warn("rados: cannot read the pool's full flag", "pool", f.pool, "err", err)
		case err == nil:
			f.failed.Store(false)
			if f.full.Swap(full) != full {
				s.log.Warn("rados: pool full flag changed", "pool", f.pool, "full", full)
			}
		}
		select {
		case <-f.stop:
			return
		case <-t.C:
		}
	}
}

// check reads the pool's flags from the monitors' OSD map.
func (f *poolFullness) check() (bool, error) {
	buf, info, err := f.conn.MonCommand([]byte(`{"prefix":"osd pool ls","detail":"detail","format":"json"}`))
	if err != nil {
		return false, fmt.Errorf("osd pool ls: %w (%s)", err, strings.TrimSpace(info))
	}
	var pools []struct {
		Name  string `json:"pool_name"`
		Flags string `json:"flags_names"`
	}
	if err := json.Unmarshal(buf, &pools); err != nil {
		return false, fmt.Errorf("osd pool ls: %w", err)
	}
	for _, p := range pools {
		if p.Name == f.pool {
			return slices.Contains(strings.Split(p.Flags, ","), "full"), nil
		}
	}
	return false, fmt.Errorf("osd pool ls: no pool %s", f.pool)
}

func (f *poolFullness) close() {
	close(f.stop)
	<-f.done
}
