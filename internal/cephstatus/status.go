// Package cephstatus reads a Ceph cluster's state (what `ceph -s`,
// `ceph osd pool ls detail` and `ceph df` show) with JSON mon commands, for
// `cairn admin cluster status` and the cairn_ceph_* metrics. It is pure Go:
// the cgo connection is behind MonCommander, implemented by go-ceph's
// *rados.Conn in the binaries built with the rados tag.
package cephstatus

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// MonCommander runs a JSON mon command (go-ceph's rados.Conn.MonCommand).
type MonCommander interface {
	MonCommand(args []byte) (buffer []byte, info string, err error)
}

// Status is the cluster's state as `cairn admin cluster status` prints it.
type Status struct {
	Health   Health  `json:"health"`
	Monitors Mons    `json:"monitors"`
	OSDs     OSDs    `json:"osds"`
	PGs      PGCount `json:"pgs"`
	Pools    []Pool  `json:"pools"`
	Usage    Usage   `json:"usage"`
}

// Health is Ceph's health: HEALTH_OK, HEALTH_WARN or HEALTH_ERR, and the
// summary of each check raised.
type Health struct {
	Status string  `json:"status"`
	Checks []Check `json:"checks"`
}

// Check is one health check (e.g. OSD_DOWN) and its summary.
type Check struct {
	Name     string `json:"name"`
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Count    int64  `json:"count"`
}

// Mons is the monitors' count and quorum.
type Mons struct {
	Count  int      `json:"count"`
	Quorum []string `json:"quorum"`
}

// OSDs counts the OSDs up, in, and in all.
type OSDs struct {
	Up    int `json:"up"`
	In    int `json:"in"`
	Total int `json:"total"`
}

// PGCount is a PG total and its count per combined state ("active+clean").
type PGCount struct {
	Total   int64            `json:"total"`
	ByState map[string]int64 `json:"by_state"`
}

// Pool is one pool's replication, placement groups and usage.
type Pool struct {
	Name        string  `json:"name"`
	Size        int     `json:"size"`
	MinSize     int     `json:"min_size"`
	PGNum       int     `json:"pg_num"`
	PGs         PGCount `json:"pgs"`
	StoredBytes int64   `json:"stored_bytes"`
	Objects     int64   `json:"objects"`
}

// Usage is the cluster's raw capacity.
type Usage struct {
	TotalBytes int64 `json:"total_bytes"`
	UsedBytes  int64 `json:"used_bytes"`
	AvailBytes int64 `json:"avail_bytes"`
}

// Fetch asks the monitors (and, through them, the manager) for the status.
func Fetch(ctx context.Context, c MonCommander) (Status, error) {
	var st Status
	var raw rawStatus
	if err := command(ctx, c, `{"prefix":"status","format":"json"}`, &raw); err != nil {
		return st, err
	}
	st = raw.status()
	var pools []rawPool
	if err := command(ctx, c, `{"prefix":"osd pool ls","detail":"detail","format":"json"}`, &pools); err != nil {
		return st, err
	}
	var df rawDF
	if err := command(ctx, c, `{"prefix":"df","format":"json"}`, &df); err != nil {
		return st, err
	}
	var pgs rawPGDump
	if err := command(ctx, c, `{"prefix":"pg dump","dumpcontents":["pgs_brief"],"format":"json"}`, &pgs); err != nil {
		return st, err
	}
	st.Usage = Usage{TotalBytes: df.Stats.TotalBytes, UsedBytes: df.Stats.TotalUsedBytes, AvailBytes: df.Stats.TotalAvailBytes}
	st.Pools = joinPools(pools, df, pgs.PGStats)
	return st, nil
}

// command runs one mon command and decodes its JSON answer into out.
func command(ctx context.Context, c MonCommander, cmd string, out any) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	buf, info, err := c.MonCommand([]byte(cmd))
	if err != nil {
		return fmt.Errorf("ceph: mon command %s: %w (%s)", cmd, err, strings.TrimSpace(info))
	}
	if err := json.Unmarshal(buf, out); err != nil {
		return fmt.Errorf("ceph: mon command %s: decode answer: %w", cmd, err)
	}
	return nil
}

// joinPools merges the pools' settings, their df usage and their PGs
// (a pgid is "<pool id>.<seq>").
func joinPools(pools []rawPool, df rawDF, pgs []rawPG) []Pool {
	byID := make(map[string]int, len(pools))
	out := make([]Pool, len(pools))
	for i, p := range pools {
		out[i] = Pool{Name: p.Name, Size: p.Size, MinSize: p.MinSize, PGNum: p.PGNum,
			PGs: PGCount{ByState: map[string]int64{}}}
		byID[strconv.FormatInt(p.ID, 10)] = i
	}
	for _, d := range df.Pools {
		if i, ok := byID[strconv.FormatInt(d.ID, 10)]; ok {
			out[i].StoredBytes, out[i].Objects = d.Stats.Stored, d.Stats.Objects
		}
	}
	for _, pg := range pgs {
		id, _, _ := strings.Cut(pg.PGID, ".")
		if i, ok := byID[id]; ok {
			out[i].PGs.Total++
			out[i].PGs.ByState[pg.State]++
		}
	}
	return out
}
