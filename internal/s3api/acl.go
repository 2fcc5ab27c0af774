package s3api

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// Cairn models access with S3's canned ACLs only; an AccessControlPolicy
// document is accepted when its grants are exactly those of a canned ACL.

const (
	aclPrivate         = "private"
	aclPublicRead      = "public-read"
	aclPublicReadWrite = "public-read-write"
	aclAuthRead        = "authenticated-read"
	aclBucketOwnerRead = "bucket-owner-read"
	aclBucketOwnerFull = "bucket-owner-full-control"

	groupAllUsers  = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	xsiNamespace   = "http://www.w3.org/2001/XMLSchema-instance"

	permRead        = "READ"
	permWrite       = "WRITE"
	permFullControl = "FULL_CONTROL"
)

// cannedACLs are the x-amz-acl values S3 accepts.
var cannedACLs = map[string]bool{
	aclPrivate: true, aclPublicRead: true, aclPublicReadWrite: true, aclAuthRead: true,
	"aws-exec-read": true, aclBucketOwnerRead: true, aclBucketOwnerFull: true,
	"log-delivery-write": true,
}

// parseCannedACL returns the x-amz-acl of a request ("" when absent).
// Explicit x-amz-grant-* headers would need real grant lists, which Cairn
// does not model, so they are refused rather than ignored.
func parseCannedACL(h http.Header) (string, error) {
	for name := range h {
		if strings.HasPrefix(name, "X-Amz-Grant-") {
			return "", s3err.NotImplemented.WithMessage("x-amz-grant-* headers are not supported; use a canned ACL (x-amz-acl)")
		}
	}
	acl := h.Get("X-Amz-Acl")
	if acl != "" && !cannedACLs[acl] {
		return "", s3err.InvalidArgument.WithMessage("Invalid canned ACL %q", acl)
	}
	return acl, nil
}

// accessControlPolicy is the ACL document as S3 renders it. The xsi
// attributes are spelled out because encoding/xml cannot emit a prefixed
// namespace declaration.
type accessControlPolicy struct {
	XMLName xml.Name `xml:"AccessControlPolicy"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Owner   aclOwner `xml:"Owner"`
	Grants  []grant  `xml:"AccessControlList>Grant"`
}

type aclOwner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName,omitempty"`
}

type grant struct {
	Grantee    grantee `xml:"Grantee"`
	Permission string  `xml:"Permission"`
}

type grantee struct {
	XMLNSXSI    string `xml:"xmlns:xsi,attr,omitempty"`
	XSIType     string `xml:"xsi:type,attr,omitempty"`
	ID          string `xml:"ID,omitempty"`
	DisplayName string `xml:"DisplayName,omitempty"`
	URI         string `xml:"URI,omitempty"`
}

// policyIn is the ACL document as clients send it; xsi:type is matched by
// its local name, whatever prefix the client bound.
type policyIn struct {
	Owner  aclOwner `xml:"Owner"`
	Grants []struct {
		Grantee struct {
			Type string `xml:"type,attr"`
			ID   string `xml:"ID"`
			URI  string `xml:"URI"`
		} `xml:"Grantee"`
		Permission string `xml:"Permission"`
	} `xml:"AccessControlList>Grant"`
}

// renderACL builds the policy of a canned ACL applied to a resource owned by
// owner; bucketOwner matters for the bucket-owner-* object ACLs.
func renderACL(acl, owner, bucketOwner string) accessControlPolicy {
	user := func(id, perm string) grant {
		return grant{Grantee: grantee{XMLNSXSI: xsiNamespace, XSIType: "CanonicalUser", ID: id, DisplayName: id}, Permission: perm}
	}
	group := func(uri, perm string) grant {
		return grant{Grantee: grantee{XMLNSXSI: xsiNamespace, XSIType: "Group", URI: uri}, Permission: perm}
	}
	p := accessControlPolicy{Xmlns: s3Namespace, Owner: aclOwner{ID: owner, DisplayName: owner}}
	p.Grants = append(p.Grants, user(owner, permFullControl))
	switch acl {
	case aclPublicRead:
		p.Grants = append(p.Grants, group(groupAllUsers, permRead))
	case aclPublicReadWrite:
		p.Grants = append(p.Grants, group(groupAllUsers, permRead), group(groupAllUsers, permWrite))
	case aclAuthRead:
		p.Grants = append(p.Grants, group(groupAuthUsers, permRead))
	case aclBucketOwnerRead, aclBucketOwnerFull:
		if bucketOwner != owner {
			perm := permRead
			if acl == aclBucketOwnerFull {
				perm = permFullControl
			}
			p.Grants = append(p.Grants, user(bucketOwner, perm))
		}
	}
	return p
}

// cannedFromPolicy maps a client's AccessControlPolicy back to the canned
// ACL whose grants it lists, or NotImplemented for any other grant set.
func cannedFromPolicy(body []byte, owner, bucketOwner string) (string, error) {
	var p policyIn
	if err := xml.Unmarshal(body, &p); err != nil {
		return "", s3err.MalformedACLError.WithCause(err)
	}
	var got []string
	for _, g := range p.Grants {
		switch {
		case g.Grantee.Type == "Group" && g.Grantee.URI == groupAllUsers:
			got = append(got, "all:"+g.Permission)
		case g.Grantee.Type == "Group" && g.Grantee.URI == groupAuthUsers:
			got = append(got, "auth:"+g.Permission)
		case g.Grantee.Type == "CanonicalUser" && g.Grantee.ID == owner:
			got = append(got, "owner:"+g.Permission)
		case g.Grantee.Type == "CanonicalUser" && g.Grantee.ID == bucketOwner:
			got = append(got, "bucketowner:"+g.Permission)
		default:
			return "", s3err.NotImplemented.WithMessage("Only grant sets of canned ACLs are supported")
		}
	}
	set := strings.Join(got, ",")
	for _, acl := range []string{aclPrivate, aclPublicRead, aclPublicReadWrite, aclAuthRead, aclBucketOwnerRead, aclBucketOwnerFull} {
		if set == cannedGrantSet(acl, owner, bucketOwner) {
			return acl, nil
		}
	}
	return "", s3err.NotImplemented.WithMessage("Only grant sets of canned ACLs are supported")
}

// cannedGrantSet is the grant list of a canned ACL in cannedFromPolicy's notation.
func cannedGrantSet(acl, owner, bucketOwner string) string {
	p := renderACL(acl, owner, bucketOwner)
	var out []string
	for _, g := range p.Grants {
		switch {
		case g.Grantee.URI == groupAllUsers:
			out = append(out, "all:"+g.Permission)
		case g.Grantee.URI == groupAuthUsers:
			out = append(out, "auth:"+g.Permission)
		case g.Grantee.ID == owner:
			out = append(out, "owner:"+g.Permission)
		default:
			out = append(out, "bucketowner:"+g.Permission)
		}
	}
	return strings.Join(out, ",")
}

// aclRequest is what a Put*Acl request asks for: a canned ACL (x-amz-acl),
// or else an AccessControlPolicy document to map onto one.
type aclRequest struct {
	canned string
	policy []byte
}

// readACLRequest reads the request before any store call, so that no slow
// client is read from while the store applies the change.
func readACLRequest(r *http.Request) (aclRequest, error) {
	acl, err := parseCannedACL(r.Header)
	if err != nil || acl != "" {
		return aclRequest{canned: acl}, err
	}
	body, err := readVerifiedBody(r, maxXMLBody, false)
	return aclRequest{policy: body}, err
}

// resolve returns the canned ACL for a resource with the given owners.
func (q aclRequest) resolve(owner, bucketOwner string) (string, error) {
	if q.canned != "" {
		return q.canned, nil
	}
	return cannedFromPolicy(q.policy, owner, bucketOwner)
}

func (a *API) getBucketACL(w http.ResponseWriter, r *http.Request, req *Request) error {
	b, err := a.authorizeBucket(r, req, accessOwner)
	if err != nil {
		return err
	}
	return writeXML(w, renderACL(b.ACL, b.Owner, b.Owner))
}

func (a *API) putBucketACL(w http.ResponseWriter, r *http.Request, req *Request) error {
	b, err := a.authorizeBucket(r, req, accessOwner)
	if err != nil {
		return err
	}
	q, err := readACLRequest(r)
	if err != nil {
		return err
	}
	acl, err := q.resolve(b.Owner, b.Owner)
	if err != nil {
		return err
	}
	return a.store.UpdateBucket(r.Context(), req.Bucket, func(b *store.Bucket) error {
		b.ACL = acl
		return nil
	})
}

func (a *API) getObjectACL(w http.ResponseWriter, r *http.Request, req *Request) error {
	versionID, err := versionIDParam(r)
	if err != nil {
		return err
	}
	b, err := a.authorizeBucket(r, req, accessRead)
	if err != nil {
		return err
	}
	oi, err := a.store.HeadObject(r.Context(), req.Bucket, req.Key, store.GetOptions{VersionID: versionID})
	if err != nil {
		return readError(w.Header(), oi, err)
	}
	setVersionHeaders(w.Header(), oi.VersionID, false)
	return writeXML(w, renderACL(oi.Meta.ACL, objectOwner(oi, b), b.Owner))
}

// putObjectACL replaces a version's canned ACL. Like tagging it is a write
// to the bucket, so it needs write access.
func (a *API) putObjectACL(w http.ResponseWriter, r *http.Request, req *Request) error {
	versionID, err := versionIDParam(r)
	if err != nil {
		return err
	}
	b, err := a.authorizeBucket(r, req, accessWrite)
	if err != nil {
		return err
	}
	q, err := readACLRequest(r)
	if err != nil {
		return err
	}
	oi, err := a.store.UpdateObject(r.Context(), req.Bucket, req.Key, versionID, func(oi *store.ObjectInfo) error {
		// Resolved here so that a grant list is compared with the owner
		// of the exact version changed.
		acl, err := q.resolve(objectOwner(*oi, b), b.Owner)
		oi.Meta.ACL = objectACL(acl)
		return err
	})
	if err != nil {
		return readError(w.Header(), oi, err)
	}
	setVersionHeaders(w.Header(), oi.VersionID, false)
	return nil
}

// objectACL is the stored form of an object's canned ACL: private, the
// default, is stored as "".
func objectACL(acl string) string {
	if acl == aclPrivate {
		return ""
	}
	return acl
}

// objectOwner is the owner shown for an object: its writer, or the bucket
// owner for objects written anonymously.
func objectOwner(oi store.ObjectInfo, b store.Bucket) string {
	if oi.Owner != "" {
		return oi.Owner
	}
	return b.Owner
}
