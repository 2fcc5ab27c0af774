package cephstatus

import (
	"encoding/json"
	"sort"
)

// The shapes of Ceph's JSON answers (Pacific and later), only the fields
// read.

type rawStatus struct {
	Health struct {
		Status string `json:"status"`
		Checks map[string]struct {
			Severity string `json:"severity"`
			Summary  struct {
				Message string `json:"message"`
				Count   int64  `json:"count"`
			} `json:"summary"`
		} `json:"checks"`
	} `json:"health"`
	QuorumNames []string `json:"quorum_names"`
	MonMap      struct {
		NumMons int `json:"num_mons"`
	} `json:"monmap"`
	OSDMap struct {
		NumOSDs   int `json:"num_osds"`
		NumUpOSDs int `json:"num_up_osds"`
		NumInOSDs int `json:"num_in_osds"`
	} `json:"osdmap"`
	PGMap struct {
		PGsByState []struct {
			StateName string `json:"state_name"`
			Count     int64  `json:"count"`
		} `json:"pgs_by_state"`
		NumPGs int64 `json:"num_pgs"`
	} `json:"pgmap"`
}

func (r rawStatus) status() Status {
	st := Status{
		Health:   Health{Status: r.Health.Status, Checks: []Check{}},
		Monitors: Mons{Count: r.MonMap.NumMons, Quorum: r.QuorumNames},
		OSDs:     OSDs{Up: r.OSDMap.NumUpOSDs, In: r.OSDMap.NumInOSDs, Total: r.OSDMap.NumOSDs},
		PGs:      PGCount{Total: r.PGMap.NumPGs, ByState: map[string]int64{}},
	}
	if st.Monitors.Quorum == nil {
		st.Monitors.Quorum = []string{}
	}
	for name, c := range r.Health.Checks {
		st.Health.Checks = append(st.Health.Checks,
			Check{Name: name, Severity: c.Severity, Summary: c.Summary.Message, Count: c.Summary.Count})
	}
	sort.Slice(st.Health.Checks, func(i, j int) bool { return st.Health.Checks[i].Name < st.Health.Checks[j].Name })
	for _, s := range r.PGMap.PGsByState {
		st.PGs.ByState[s.StateName] += s.Count
	}
	return st
}

type rawPool struct {
	ID      int64  `json:"pool_id"`
	Name    string `json:"pool_name"`
	Size    int    `json:"size"`
	MinSize int    `json:"min_size"`
	PGNum   int    `json:"pg_num"`
}

type rawDF struct {
	Stats struct {
		TotalBytes      int64 `json:"total_bytes"`
		TotalAvailBytes int64 `json:"total_avail_bytes"`
		TotalUsedBytes  int64 `json:"total_used_bytes"`
	} `json:"stats"`
	Pools []struct {
		ID    int64 `json:"id"`
		Stats struct {
			Stored  int64 `json:"stored"`
			Objects int64 `json:"objects"`
		} `json:"stats"`
	} `json:"pools"`
}

type rawPG struct {
	PGID  string `json:"pgid"`
	State string `json:"state"`
}

// rawPGDump is `pg dump pgs_brief`: an object with pg_stats since
// Nautilus, a bare array before.
type rawPGDump struct{ PGStats []rawPG }

func (d *rawPGDump) UnmarshalJSON(b []byte) error {
	var wrapped struct {
		PGStats []rawPG `json:"pg_stats"`
	}
	if err := json.Unmarshal(b, &wrapped); err == nil {
		d.PGStats = wrapped.PGStats
		return nil
	}
	return json.Unmarshal(b, &d.PGStats)
}
