package s3api

import (
	"net/http"

	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// access is what an operation does to a bucket, for authorization.
type access int

const (
	accessRead     access = iota // read objects or list
	accessWrite                  // create, overwrite or delete objects
	accessOwner                  // read or change the bucket's configuration
	accessReadACP                // read the bucket's ACL
	accessWriteACP               // change the bucket's ACL
)

// accessPerms maps an access to the ACL permission granting it; accessOwner
// is granted by none.
var accessPerms = map[access]string{
	accessRead: permRead, accessWrite: permWrite,
	accessReadACP: permReadACP, accessWriteACP: permWriteACP,
}

// authorizeBucket loads the request's bucket and checks that the caller may
// perform an access of the given kind: the bucket policy decides first (an
// explicit Deny wins, an Allow grants); then the owner may do anything, and
// others only what the bucket's ACL grants.
func (a *API) authorizeBucket(r *http.Request, req *Request, kind access) (store.Bucket, error) {
	b, err := a.store.GetBucket(r.Context(), req.Bucket)
	if err != nil {
		return store.Bucket{}, err
	}
	if err := checkExpectedOwner(r, b); err != nil {
		return store.Bucket{}, err
	}
	if granted, err := a.checkPolicy(r, req, b); err != nil {
		return store.Bucket{}, err
	} else if granted {
		return b, nil
	}
	if !isBucketOwner(b, req.Identity) && publicACLsIgnored(b) {
		return store.Bucket{}, errPolicyDenied
	}
	if a.bucketAllows(b, req.Identity, kind) {
		return b, nil
	}
	return store.Bucket{}, s3err.AccessDenied
}

// bucketAllows applies a bucket's owner and ACL to a caller.
func (a *API) bucketAllows(b store.Bucket, id auth.Identity, kind access) bool {
	if isBucketOwner(b, id) {
		return true
	}
	perm, ok := accessPerms[kind]
	return ok && aclGrantsPerm(loadACL(b.ACL, b.Owner, b.Owner), id, perm)
}

// objectAllows applies an object version's owner and ACL to a caller. The
// object's owner always keeps access to it.
func objectAllows(b store.Bucket, oi store.ObjectInfo, id auth.Identity, perm string) bool {
	owner := objectOwner(oi, b)
	if !id.Anonymous && owner == id.UserID {
		return true
	}
	return aclGrantsPerm(loadACL(oi.Meta.ACL, owner, b.Owner), id, perm)
}

// isBucketOwner reports whether id is the bucket's owner.
func isBucketOwner(b store.Bucket, id auth.Identity) bool {
	return !id.Anonymous && b.Owner == id.UserID
}

// checkExpectedOwner refuses a request whose x-amz-expected-bucket-owner
// names someone else, so a client cannot write to a bucket it mistook for
// its own.
func checkExpectedOwner(r *http.Request, b store.Bucket) error {
	if want := r.Header.Get("X-Amz-Expected-Bucket-Owner"); want != "" && want != b.Owner {
		return s3err.AccessDenied
	}
	return nil
}
