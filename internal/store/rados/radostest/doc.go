// Package radostest gives tests of the RADOS store a connection to the test
// cluster and a fresh pool each. Everything but this comment builds only with
// the `rados` tag (cgo against librados), so the default build stays pure Go.
//
// The cluster is the one test/ceph/cluster.sh starts (`make test` does it);
// tests find it through CAIRN_CEPH_CONF, the path of its ceph.conf:
//
//	test/ceph/cluster.sh start /tmp/ceph
//	CAIRN_CEPH_CONF=/tmp/ceph/ceph.conf go test -tags rados ./internal/store/rados/...
//	test/ceph/cluster.sh stop /tmp/ceph
package radostest
