// Package radosopen opens Cairn's RADOS store for the server
// (server.Config.RadosOpener): it connects to the Ceph cluster, creates the
// pool if missing, keeps the SSE master key in the pool and invalidates the
// gateways' account caches through RADOS watch/notify. Everything but this
// comment builds only with the `rados` tag (cgo against librados), so that
// the server package and the default binary stay pure Go.
package radosopen
