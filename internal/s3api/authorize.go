package s3api

import (
	"net/http"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// access is what an operation does to a bucket, for authorization.
type access int

const (
	accessRead  access = iota // read objects or list
	accessWrite               // create, overwrite or delete objects
	accessOwner               // read or change the bucket's configuration
)

// authorizeBucket loads the request's bucket and checks that the caller may
// perform an access of the given kind: the bucket policy decides first (an
// explicit Deny wins, an Allow grants); then the owner may do anything, and
// others only what the bucket's canned ACL grants.
func (a *API) authorizeBucket(r *http.Request, req *Request, kind access) (store.Bucket, error) {
	b, err := a.store.GetBucket(r.Context(), req.Bucket)
	if err != nil {
		return store.Bucket{}, err
	}
	if granted, err := a.checkPolicy(r, req, b); err != nil {
		return store.Bucket{}, err
	} else if granted {
		return b, nil
	}
	if !req.Identity.Anonymous && b.Owner == req.Identity.UserID {
		return b, nil
	}
	if publicACLsIgnored(b) {
		return store.Bucket{}, errPolicyDenied
	}
	if aclAllows(b.ACL, req.Identity.Anonymous, kind) {
		return b, nil
	}
	return store.Bucket{}, s3err.AccessDenied
}

// aclAllows applies a canned ACL to a non-owner.
func aclAllows(acl string, anonymous bool, kind access) bool {
	switch kind {
	case accessRead:
		return acl == "public-read" || acl == "public-read-write" || (acl == "authenticated-read" && !anonymous)
	case accessWrite:
		return acl == "public-read-write"
	}
	return false
}
