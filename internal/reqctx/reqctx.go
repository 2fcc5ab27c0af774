// Package reqctx carries facts about the request being served through its
// context, so that code below the HTTP adapter (a store ChangeHook building
// event records, for example) can read them without importing the adapter.
package reqctx

import "context"

// Info describes the request being served.
type Info struct {
	RequestID string
	Op        string // the S3 operation name (s3api.Op)
	UserID    string // "" for anonymous requests
	SourceIP  string
	Host      string
	// EventNames, if set, replace the event the change's kind implies
	// (names without "s3:", each one event type): background work such as
	// lifecycle expiration removes objects with the store's ordinary
	// operations and names the events RGW emits for it.
	EventNames []string
}

type key struct{}

// With returns a context carrying info. The pointer is shared: the adapter
// fills in fields (such as UserID) as it learns them.
func With(ctx context.Context, info *Info) context.Context {
	return context.WithValue(ctx, key{}, info)
}

// From returns the request info carried by ctx, or nil.
func From(ctx context.Context) *Info {
	info, _ := ctx.Value(key{}).(*Info)
	return info
}
