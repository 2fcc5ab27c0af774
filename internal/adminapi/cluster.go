package adminapi

import (
	"context"
	"errors"
	"net/http"
	"syscall"
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
	st, err := a.clusterFn(ctx)
	if timedOut(err) {
		e := *errClusterTimeout
		e.cause = err
		return nil, &e
	}
	return st, err
}

// errClusterTimeout answers a status the monitors did not give within the
// gateway's --ceph-mon-timeout (librados' ETIMEDOUT): most often they lost
// quorum.
var errClusterTimeout = &apiError{"ServiceUnavailable", http.StatusServiceUnavailable,
	"The Ceph monitors did not answer within the gateway's --ceph-mon-timeout: is there a monitor quorum?", nil}

// timedOut reports whether err is ETIMEDOUT, as a syscall.Errno or as
// go-ceph's error (which carries the negative errno).
func timedOut(err error) bool {
	if errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	ec, ok := errors.AsType[interface {
		error
		ErrorCode() int
	}](err)
	return ok && ec.ErrorCode() == -int(syscall.ETIMEDOUT)
}
