package s3api

// Tenants: a request names a bucket by its S3 name, and the adapter turns
// it into the stored (qualified) name of package tenant, "tenant:bucket".
// Everything below the adapter (store, notifications, live stream) gets the
// qualified name; everything shown to the client shows the S3 name.
//
// As in RGW, a path segment "t2:b" names tenant t2's bucket b explicitly
// (":b" the default tenant's); a plain name is in the caller's tenant, the
// default tenant for anonymous callers. A virtual-hosted bucket is always in
// the caller's tenant. Before authentication only the explicit form
// qualifies (the caller is not known yet), except for CORS preflights,
// which are never authenticated: see preflightTenant.

import (
	"net/http"
	"strings"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// BucketName is the S3 name of the request's bucket, as responses show it
// (Bucket holds the qualified name).
func (r *Request) BucketName() string { return tenant.BucketName(r.Bucket) }

// callerTenant is the tenant a request's plain bucket names resolve in: the
// authenticated user's, or the default tenant for anonymous requests.
func (r *Request) callerTenant() string {
	if r.Identity.Anonymous {
		return ""
	}
	return tenant.OfUser(r.Identity.UserID)
}

// QualifyBucket returns the stored name of the bucket a path segment (or a
// virtual-hosted Host, virtual set) names for a caller of callerTenant.
// Other APIs on the S3 endpoint that name buckets in their paths (PubSub)
// resolve them with it too.
func QualifyBucket(segment, callerTenant string, virtual bool) (string, error) {
	if segment == "" {
		return "", nil
	}
	t, name, explicit := strings.Cut(segment, ":")
	if !explicit {
		return tenant.Bucket(callerTenant, segment), nil
	}
	if virtual {
		return "", s3err.InvalidBucketName.WithMessage("A virtual-hosted bucket name cannot name a tenant: %q", segment)
	}
	if err := tenant.Validate(t); err != nil {
		return "", s3err.InvalidBucketName.WithMessage("The tenant of bucket %q is not valid: %s", segment, err)
	}
	if name == "" || strings.Contains(name, ":") {
		return "", s3err.InvalidBucketName.WithMessage("The bucket name %q is not valid.", segment)
	}
	return tenant.Bucket(t, name), nil
}

// resolveBucket sets the request's qualified bucket from the segment it
// was addressed with, in the tenant of its (current) caller.
func (r *Request) resolveBucket() error {
	if r.mounted {
		return nil
	}
	b, err := QualifyBucket(r.bucketSegment, r.callerTenant(), r.virtualHost)
	if err != nil {
		return err
	}
	r.Bucket = b
	return nil
}

// claimer is implemented by auth.Verifier: the user whose access key a
// request names, its signature unchecked.
type claimer interface {
	ClaimedUser(r *http.Request) (userID string, ok bool)
}

// preflightTenant resolves a CORS preflight's plain bucket name in the
// tenant of the access key the request names, if any. A browser sends the
// OPTIONS of a presigned URL with the URL's credential but without a
// signature that could verify; the key's tenant still decides which bucket
// the URL names (as in RGW). The preflight only reads the bucket's CORS
// rules, and the claimed user is not recorded as the caller.
func (a *API) preflightTenant(r *http.Request, req *Request) {
	c, ok := a.auth.(claimer)
	if !ok || strings.Contains(req.bucketSegment, ":") {
		return
	}
	if id, ok := c.ClaimedUser(r); ok {
		if b, err := QualifyBucket(req.bucketSegment, tenant.OfUser(id), req.virtualHost); err == nil {
			req.Bucket = b
		}
	}
}

// copySourceInTenant is the value of the s3:x-amz-copy-source condition
// key for a source "bucket/key[?versionId=v]" (decoded, without its
// leading '/') sent by a caller of callerTenant, as seen from a policy of
// a bucket of policyTenant: the source bucket is named as that policy's
// resources name buckets, plain in its own tenant and "tenant:bucket"
// otherwise (":bucket" for the default tenant). So "t2:secret/k" and
// "secret/k" sent by a user of t2 both match a Deny for "secret/*" in a
// policy of t2, and another tenant's "secret" does not.
func copySourceInTenant(src, callerTenant, policyTenant string) string {
	segment, rest, ok := strings.Cut(src, "/")
	if !ok {
		return src
	}
	q, err := QualifyBucket(segment, callerTenant, false)
	if err != nil || q == "" {
		return src // refused by the handler
	}
	return bucketSeenFrom(q, policyTenant) + "/" + rest
}

// bucketSeenFrom is how a user or policy of tenant viewer names the
// bucket stored as qualified: its plain name in the viewer's own tenant,
// "tenant:bucket" otherwise (":bucket" for the default tenant's).
func bucketSeenFrom(qualified, viewer string) string {
	t, name := tenant.SplitBucket(qualified)
	if t == viewer {
		return name
	}
	return t + ":" + name
}
