package s3api

// Authorization: the router applies the access rule of the request's row
// (table.go) before the handler runs, and leaves what it established in the
// Request for the handler (the bucket, and for object reads whether the
// policy already granted them). The order is S3's and RGW's: the bucket
// policy first (an explicit Deny refuses, an Allow grants), then the owner,
// then the ACL; the public access block can take the ACLs' grants away.

import (
	"errors"
	"net/http"

	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/optable"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// access is a row's access rule (see optable.Access).
type access = optable.Access

// The access rules of S3 rows.
const (
	accessNone           = optable.AccessNone
	accessSigned         = optable.AccessSigned
	accessRead           = optable.AccessRead
	accessWrite          = optable.AccessWrite
	accessOwner          = optable.AccessOwner
	accessReadACP        = optable.AccessReadACP
	accessWriteACP       = optable.AccessWriteACP
	accessObjectRead     = optable.AccessObjectRead
	accessObjectReadACP  = optable.AccessObjectReadACP
	accessObjectWriteACP = optable.AccessObjectWriteACP
)

// accessPerms maps an access rule to the ACL permission granting it;
// accessOwner is granted by none.
var accessPerms = map[access]string{
	accessRead: permRead, accessWrite: permWrite,
	accessReadACP: permReadACP, accessWriteACP: permWriteACP,
	accessObjectRead: permRead, accessObjectReadACP: permReadACP, accessObjectWriteACP: permWriteACP,
}

// objectFallback is the bucket permission that, for the object rules, lets
// a caller whom the version's ACL does not admit learn that a version is
// missing.
var objectFallback = map[access]access{
	accessObjectRead: accessRead, accessObjectReadACP: accessRead, accessObjectWriteACP: accessWrite,
}

// authz is what authorizing a request established, for its handler.
type authz struct {
	row    *optable.Row
	bucket store.Bucket // the request's bucket, loaded once
	// byPolicy: the bucket policy allowed the request, which then needs
	// no ACL.
	byPolicy bool
	// bucketACL (object rules): the bucket's owner or ACL grants the
	// row's fallback permission.
	bucketACL bool
	// source is the grant to read the copy source, for CopySource rows.
	source *authz
}

// allowsVersion applies an object version's ACL, with the row's
// permission, unless the policy granted the request already. The version's
// owner always keeps access to it.
func (g *authz) allowsVersion(oi store.ObjectInfo, id auth.Identity) bool {
	return g.byPolicy || objectAllows(g.bucket, oi, id, accessPerms[g.row.Access])
}

// mayLearnMissing reports whether the caller may learn that a version
// does not exist: the policy or the bucket's ACL let them in; others are
// told AccessDenied.
func (g *authz) mayLearnMissing() bool { return g.byPolicy || g.bucketACL }

// authorize applies the request's row before its handler runs. Rows whose
// caller is authenticated by the request body (POST forms) are authorized
// by authorizeForm once the handler has read it.
func (a *API) authorize(r *http.Request, req *Request) error {
	if req.row.FormAuth {
		return nil
	}
	return a.authorizeRow(r, req)
}

// authorizeForm authorizes a FormAuth row once its handler has
// authenticated the form and set req.Identity and req.Key.
func (a *API) authorizeForm(r *http.Request, req *Request) error {
	return a.authorizeRow(r, req)
}

func (a *API) authorizeRow(r *http.Request, req *Request) error {
	row := req.row
	req.auth.row = row
	switch row.Access {
	case accessNone:
		return nil
	case accessSigned:
		if req.Identity.Anonymous || req.Identity.UserID == "" {
			return anonymousRefusal(row)
		}
		return nil
	case accessObjectRead, accessObjectReadACP, accessObjectWriteACP:
		return a.authorizeObject(r, req)
	}
	if row.Scope == optable.ScopeEntries {
		return a.authorizeEntries(r, req)
	}
	b, err := a.authorizeBucket(r, req, row.Access)
	if err != nil {
		return err
	}
	req.auth.bucket = b
	if row.CopySource {
		return a.authorizeCopySource(r, req)
	}
	return nil
}

// anonymousRefusal is the answer to an anonymous request of a row that
// needs a signed one: the topic API answers 400 InvalidRequest as RGW does
// (notifications.md §2.2), everything else AccessDenied.
func anonymousRefusal(row *optable.Row) error {
	if row.Match.Form != "" {
		return s3err.InvalidRequest.WithMessage("Anonymous requests are not allowed for the topic API")
	}
	return s3err.AccessDenied
}

// authorizeBucket loads the request's bucket and checks that the caller may
// perform an access of the given kind on the request's resource: the bucket
// policy decides first (an explicit Deny wins, an Allow grants); then the
// owner may do anything, and others only what the bucket's ACL grants.
func (a *API) authorizeBucket(r *http.Request, req *Request, kind access) (store.Bucket, error) {
	b, err := a.requestBucket(r, req)
	if err != nil {
		return store.Bucket{}, err
	}
	if granted, err := a.checkPolicy(r, req, b, requestTarget(r, req)); err != nil {
		return store.Bucket{}, err
	} else if granted {
		return b, nil
	}
	return b, a.aclAllows(b, req.Identity, kind)
}

// requestBucket loads the request's bucket and applies
// x-amz-expected-bucket-owner.
func (a *API) requestBucket(r *http.Request, req *Request) (store.Bucket, error) {
	b, err := a.store.GetBucket(r.Context(), req.Bucket)
	if err != nil {
		return store.Bucket{}, err
	}
	if err := checkExpectedOwner(r, b); err != nil {
		return store.Bucket{}, err
	}
	return b, nil
}

// aclAllows applies the owner and ACL rules once the policy left the
// decision open: the owner may do anything; others what the bucket's ACL
// grants, unless the public access block ignores the ACLs.
func (a *API) aclAllows(b store.Bucket, id auth.Identity, kind access) error {
	if !isBucketOwner(b, id) && publicACLsIgnored(b) {
		return errPolicyDenied
	}
	if a.bucketAllows(b, id, kind) {
		return nil
	}
	return s3err.AccessDenied
}

// authorizeObject applies the object rules as far as they go before the
// version is known: the bucket policy, then the public access block; the
// handler applies the version's ACL (grant.allowsVersion).
func (a *API) authorizeObject(r *http.Request, req *Request) error {
	b, err := a.requestBucket(r, req)
	if err != nil {
		return err
	}
	req.auth.bucket = b
	granted, err := a.checkPolicy(r, req, b, requestTarget(r, req))
	if err != nil || granted {
		req.auth.byPolicy = granted
		return err
	}
	kind := req.row.Access
	if kind == accessObjectRead && !isBucketOwner(b, req.Identity) && publicACLsIgnored(b) {
		return errPolicyDenied
	}
	req.auth.bucketACL = a.bucketAllows(b, req.Identity, objectFallback[kind])
	if req.auth.bucketACL {
		return nil
	}
	return a.precheckVersionACL(r, req)
}

// precheckVersionACL refuses, before its handler reads anything of the
// request, a caller whom only the addressed version's ACL could admit and
// whom it does not: so such a caller learns nothing from the handler's
// validation, not even whether the version exists (unless the policy lets
// them list the key). The handler checks again the exact version it serves.
func (a *API) precheckVersionACL(r *http.Request, req *Request) error {
	oi, err := a.store.HeadObject(r.Context(), req.Bucket, req.Key, store.GetOptions{VersionID: r.URL.Query().Get("versionId")})
	switch {
	case err == nil && req.auth.allowsVersion(oi, req.Identity):
		return nil
	case err != nil && errors.Is(err, store.ErrNoSuchKey) && req.row.Access == accessObjectRead && a.policyAllowsListing(r, req):
		return nil // the handler answers NoSuchKey
	}
	return s3err.AccessDenied
}

// authorizeEntries authorizes a multi-object request as a whole: each
// entry is authorized by authorizeEntry. The request is refused only when
// no entry could be allowed: no bucket policy, and no ACL grant.
func (a *API) authorizeEntries(r *http.Request, req *Request) error {
	b, err := a.requestBucket(r, req)
	if err != nil {
		return err
	}
	req.auth.bucket = b
	if _, hasPolicy := b.Config[configPolicy]; hasPolicy {
		return nil
	}
	return a.aclAllows(b, req.Identity, rowOf(req.row.Entry).Access)
}

// authorizeEntry authorizes one entry of a multi-object request exactly as
// the row's Entry operation on that key (and version): the policy with the
// entry's ARN and action, then the owner and the ACL.
func (a *API) authorizeEntry(r *http.Request, req *Request, key, versionID string) error {
	entry := rowOf(req.row.Entry)
	t := target{op: entry.Op, bucket: req.Bucket, key: key, versionID: versionID, versioned: versionID != "",
		action: entry.Action.For(versionID != "")}
	granted, err := a.checkPolicy(r, req, req.auth.bucket, t)
	if err != nil || granted {
		return err
	}
	return a.aclAllows(req.auth.bucket, req.Identity, entry.Access)
}

// authorizeCopySource authorizes reading the object x-amz-copy-source
// names exactly as a GetObject of it (GetObjectVersion with a versionId):
// the source bucket's policy and public access block here, the source
// version's ACL in readCopySource.
func (a *API) authorizeCopySource(r *http.Request, req *Request) error {
	src, err := parseCopySource(r.Header, req.callerTenant())
	if err != nil {
		return err
	}
	read := rowOf(OpGetObject)
	b, err := a.store.GetBucket(r.Context(), src.Bucket)
	if err != nil {
		return err
	}
	if want := r.Header.Get("X-Amz-Source-Expected-Bucket-Owner"); want != "" && want != b.Owner {
		return s3err.AccessDenied
	}
	t := target{op: read.Op, bucket: src.Bucket, key: src.Key, versionID: src.VersionID, versioned: src.VersionID != "",
		action: read.Action.For(src.VersionID != "")}
	g := &authz{row: read, bucket: b}
	req.auth.source = g
	if g.byPolicy, err = a.checkPolicy(r, req, b, t); err != nil || g.byPolicy {
		return err
	}
	if !isBucketOwner(b, req.Identity) && publicACLsIgnored(b) {
		return errPolicyDenied
	}
	g.bucketACL = a.bucketAllows(b, req.Identity, objectFallback[read.Access])
	return nil
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

// bypassGovernanceFor reports whether a request that may delete or change
// the version key/versionID may also bypass its GOVERNANCE retention: it
// asked to (x-amz-bypass-governance-retention: true) and the bucket policy
// does not deny it s3:BypassGovernanceRetention on that object. A denied
// bypass is no bypass: the retention then refuses the change.
func (a *API) bypassGovernanceFor(r *http.Request, req *Request, key, versionID string) bool {
	if !bypassGovernance(r.Header) {
		return false
	}
	t := target{op: req.Op, action: "s3:BypassGovernanceRetention", bucket: req.Bucket, key: key,
		versionID: versionID, versioned: versionID != ""}
	_, err := a.checkPolicy(r, req, req.auth.bucket, t)
	return err == nil
}
