//go:build rados

package cli

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/radosopen"
	"github.com/cairn-s3/cairn/internal/server/servertest"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// startRadosGateway starts a real gateway on a fresh pool of the test
// cluster, with its metrics on a listener of their own, and returns it
// with its pool's name.
func startRadosGateway(t *testing.T) (*servertest.Running, string) {
	t.Helper()
	ceph := server.CephConfig{ConfFile: radostest.ConfPath(t), User: "client.admin",
		PoolPrefix: radostest.PoolPrefix(t, radostest.Conn(t))}
	srv := servertest.Start(t, servertest.Options{Store: server.StoreRados, Ceph: ceph, RadosOpener: radosopen.Open,
		Metrics: server.MetricsConfig{Address: "127.0.0.1:0"}})
	return srv, ceph.Pool()
}

// clusterStatus is the part of `cairn admin cluster status` checked here.
type clusterStatus struct {
	Health struct {
		Status string `json:"status"`
		Checks []any  `json:"checks"`
	} `json:"health"`
	Monitors struct {
		Count  int      `json:"count"`
		Quorum []string `json:"quorum"`
	} `json:"monitors"`
	OSDs  struct{ Up, In, Total int } `json:"osds"`
	Pools []struct {
		Name    string `json:"name"`
		Size    int    `json:"size"`
		MinSize int    `json:"min_size"`
		PGNum   int    `json:"pg_num"`
		PGs     struct {
			Total   int64            `json:"total"`
			ByState map[string]int64 `json:"by_state"`
		} `json:"pgs"`
	} `json:"pools"`
	Usage struct {
		TotalBytes int64 `json:"total_bytes"`
		AvailBytes int64 `json:"avail_bytes"`
	} `json:"usage"`
}

// TestClusterStatusRados: `cairn admin cluster status` against a gateway
// on the test cluster prints what `ceph -s`, `ceph osd pool ls detail`
// and `ceph df` show: healthy, three OSDs up and in, the gateway's pool
// at size 3 / min_size 2 with all its PGs active+clean.
func TestClusterStatusRados(t *testing.T) {
	srv, pool := startRadosGateway(t)
	var st clusterStatus
	decode(t, ok(t, adminEnv(srv), "admin", "cluster", "status"), &st)
	if st.Health.Status != "HEALTH_OK" || st.Health.Checks == nil {
		t.Errorf("health: %+v", st.Health)
	}
	if st.Monitors.Count < 1 || len(st.Monitors.Quorum) != st.Monitors.Count {
		t.Errorf("monitors: %+v", st.Monitors)
	}
	if st.OSDs.Up != 3 || st.OSDs.In != 3 || st.OSDs.Total != 3 {
		t.Errorf("osds: %+v", st.OSDs)
	}
	if st.Usage.TotalBytes <= 0 || st.Usage.AvailBytes <= 0 || st.Usage.AvailBytes > st.Usage.TotalBytes {
		t.Errorf("usage: %+v", st.Usage)
	}
	found := false
	for _, p := range st.Pools {
		if p.Name != pool {
			continue
		}
		found = true
		if p.Size != 3 || p.MinSize != 2 || p.PGNum < 1 || p.PGs.Total != int64(p.PGNum) {
			t.Errorf("pool %s: %+v", pool, p)
		}
	}
	if !found {
		t.Errorf("pool %s missing from %+v", pool, st.Pools)
	}
}

// TestClusterStatusRadosNeedsAdmin: a user with every capability but not
// an admin is refused (the status shows the whole cluster).
func TestClusterStatusRadosNeedsAdmin(t *testing.T) {
	srv, _ := startRadosGateway(t)
	vars := adminEnv(srv)
	ok(t, vars, "admin", "user", "create", "--uid", "plain", "--display-name", "P", "--access-key", "PLAIN", "--secret", "plainsecret")
	ok(t, vars, "admin", "caps", "add", "--uid", "plain", "--caps", "buckets=*;users=*;metadata=*")
	fails(t, vars, "AccessDenied (HTTP 403)", "admin", "cluster", "status", "--access-key", "PLAIN", "--secret-key", "plainsecret")
}

// TestClusterMetricsRados: the metrics listener of a RADOS gateway exports
// the cluster's health, OSDs, pool usage and PG states.
func TestClusterMetricsRados(t *testing.T) {
	srv, pool := startRadosGateway(t)
	resp, err := http.Get("http://" + srv.Server.MetricsAddr().String() + server.MetricsPath)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET metrics: %d %v", resp.StatusCode, err)
	}
	for _, want := range []string{
		"cairn_ceph_health_status 0\n",
		`cairn_ceph_osds{state="up"} 3` + "\n",
		`cairn_ceph_osds{state="in"} 3` + "\n",
		`cairn_ceph_osds{state="total"} 3` + "\n",
		`cairn_ceph_pool_stored_bytes{pool="` + pool + `"} `,
		`cairn_ceph_pgs{state="active"} `,
		`cairn_ceph_pgs{state="clean"} `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(string(body), `cairn_ceph_pgs{state="active+clean"}`) {
		t.Error("PG states must be single states (bounded labels), not combinations")
	}
}
