//go:build !rados

package server

import "context"

// openRados refuses: this binary was built without the rados tag, so the
// default build stays pure Go (store_rados.go is the real one).
func openRados(context.Context, storeOpen) (*openedStore, error) { return nil, errNoRados }
