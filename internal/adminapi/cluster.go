package adminapi

import (
	"context"
	"errors"
)

// ClusterStatuser returns the status of the cluster the store lives in
// (the RADOS store's Ceph cluster) to answer with.
type ClusterStatuser func(ctx context.Context) (any, error)

// errNoCluster answers GET /admin/cluster on a store without a cluster.
var errNoCluster = errNotImplemented.with(errors.New(
	"the cluster status needs --store rados: this gateway's local store has no Ceph cluster"))

// clusterRoutes is `cairn admin cluster status` (Cairn's; RGW has no such
// operation, `ceph -s` is its equivalent): admins only.
func clusterRoutes() []route {
	const c = "/admin/cluster"
	return []route{
		admin("GetClusterStatus", get, c, "", "", false, "admin_cluster_status", (*API).clusterStatus),
		unsupported(c, ""),
	}
}

// clusterStatus: GET /admin/cluster answers the cluster's health,
// monitors, OSDs, pools and usage.
func (a *API) clusterStatus(ctx context.Context, _ query) (any, error) {
	if a.clusterFn == nil {
		return nil, errNoCluster
	}
	return a.clusterFn(ctx)
}
