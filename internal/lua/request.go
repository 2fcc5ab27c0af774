package lua

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// Request is what the S3 layer tells scripts about a request, in plain Go.
// One Request serves every context of a request, so that a prerequest
// script's writes reach the op and later contexts. Expensive facts (the
// bucket's and object's records) are read through Info only when a script
// asks for them.
type Request struct {
	HTTP      *http.Request
	ID        string
	RGWOp     string // RGW's op name ("" until known: "Unknown")
	Start     time.Time
	Tenant    string // the tenant of the bucket accessed
	Bucket    string // the S3 bucket name, "" for none
	Key       string // "" for none
	VersionID string
	// User is the authenticated user; nil before authentication.
	User *User
	// CopyFrom is the source of a copy operation; nil otherwise.
	CopyFrom *CopyFrom
	// Response is the response's state: set by the S3 layer before
	// postrequest, writable by scripts.
	Response Response
	Info     Info // nil: no bucket or object records

	metaSet      map[string]*string // HTTP.Metadata writes (nil: deleted)
	storageClass *string            // HTTP.StorageClass write
	bucketName   *string            // Bucket.Name write (prerequest)
	meta         map[string]string  // the metadata as scripts see it (lazy)
}

// User is a user: its tenant and id.
type User struct{ Tenant, ID string }

// CopyFrom is a copy's source object.
type CopyFrom struct {
	Tenant, Bucket, Key, VersionID string
}

// Response is Request.Response (spec §6.1).
type Response struct {
	HTTPStatusCode int
	HTTPStatus     string // the error code, e.g. NoSuchKey
	RGWCode        int
	Message        string
}

// Info reads the records of the request's bucket and object.
type Info interface {
	Bucket(ctx context.Context) (BucketInfo, bool)
	Object(ctx context.Context) (ObjectInfo, bool)
	// BucketACL and ObjectACL return the stored ACLs (canned ACLs
	// expanded), false when there is no such bucket or object.
	BucketACL(ctx context.Context) (ACL, bool)
	ObjectACL(ctx context.Context) (ACL, bool)
}

// BucketInfo is a bucket's record as Request.Bucket shows it.
type BucketInfo struct {
	// ID is the bucket instance's id; Marker is RGW's marker, the same as
	// the id for a bucket never resharded.
	ID, Marker   string
	Created      time.Time
	Modified     time.Time
	Owner        User
	PlacementID  string
	StorageClass string
	Tags         map[string]string
	Policy       string // the bucket policy's JSON, "" for none
}

// ObjectInfo is an object's record as Request.Object shows it.
type ObjectInfo struct {
	Size     int64
	Modified time.Time
	Version  string
}

// infoOrNil returns Info's method m bound to the request's Info, nil
// when there is none.
func (r *Request) infoOrNil(m func(Info, context.Context) (ACL, bool)) func(context.Context) (ACL, bool) {
	if r.Info == nil {
		return nil
	}
	return func(ctx context.Context) (ACL, bool) { return m(r.Info, ctx) }
}

// StorageClass returns the storage class a prerequest script set, if any.
func (r *Request) StorageClass() (string, bool) {
	if r.storageClass == nil {
		return "", false
	}
	return *r.storageClass, true
}

// BucketRename returns the bucket a prerequest script redirected the
// request to, if any.
func (r *Request) BucketRename() (string, bool) {
	if r.bucketName == nil {
		return "", false
	}
	return *r.bucketName, true
}

// ApplyHeaders makes a prerequest script's writes to HTTP.Metadata and
// HTTP.StorageClass the request's headers, so that the op stores them. The
// S3 layer calls it once the signature is verified (it covers the headers
// as the client sent them) and before authorization, so that policies see
// what the op will do.
func (r *Request) ApplyHeaders(h http.Header) {
	for k, v := range r.metaSet {
		if v == nil {
			h.Del(k)
			continue
		}
		h.Set(k, *v)
	}
	if r.storageClass != nil {
		h.Set("X-Amz-Storage-Class", *r.storageClass)
	}
}

// metadata is HTTP.Metadata: the x-amz-meta-* headers (lower-case keys,
// RGW's x_meta_map) with the scripts' writes.
func (r *Request) metadata() map[string]string {
	if r.meta != nil {
		return r.meta
	}
	r.meta = map[string]string{}
	if r.HTTP != nil {
		for k, v := range r.HTTP.Header {
			lk := strings.ToLower(k)
			if strings.HasPrefix(lk, "x-amz-meta-") && len(v) > 0 {
				r.meta[lk] = strings.Join(v, ",")
			}
		}
	}
	return r.meta
}

func (r *Request) setMetadata(k, v string, del bool) error {
	k = strings.ToLower(k)
	if !strings.HasPrefix(k, "x-amz-meta-") {
		k = "x-amz-meta-" + k
	}
	if r.metaSet == nil {
		r.metaSet = map[string]*string{}
	}
	m := r.metadata()
	if del {
		delete(m, k)
		r.metaSet[k] = nil
		return nil
	}
	m[k] = v
	r.metaSet[k] = &v
	return nil
}
