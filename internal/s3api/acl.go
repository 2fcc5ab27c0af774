package s3api

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// ACLs are stored in the ACL string of a bucket or object version: either
// the name of a canned ACL ("" is private), expanded against the owners
// when read, or an explicit grant list encoded as JSON (it starts with
// "{"). Canned names keep old records and the common case small.

const (
	aclPrivate         = "private"
	aclPublicRead      = "public-read"
	aclPublicReadWrite = "public-read-write"
	aclAuthRead        = "authenticated-read"
	aclBucketOwnerRead = "bucket-owner-read"
	aclBucketOwnerFull = "bucket-owner-full-control"

	groupAllUsers    = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthUsers   = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	groupLogDelivery = "http://acs.amazonaws.com/groups/s3/LogDelivery"
	xsiNamespace     = "http://www.w3.org/2001/XMLSchema-instance"

	permRead        = "READ"
	permWrite       = "WRITE"
	permReadACP     = "READ_ACP"
	permWriteACP    = "WRITE_ACP"
	permFullControl = "FULL_CONTROL"

	granteeUser  = "CanonicalUser"
	granteeGroup = "Group"
	granteeEmail = "AmazonCustomerByEmail"
)

// cannedACLs are the x-amz-acl values S3 accepts.
var cannedACLs = map[string]bool{
	aclPrivate: true, aclPublicRead: true, aclPublicReadWrite: true, aclAuthRead: true,
	"aws-exec-read": true, aclBucketOwnerRead: true, aclBucketOwnerFull: true,
	"log-delivery-write": true,
}

var validPerms = map[string]bool{permRead: true, permWrite: true, permReadACP: true, permWriteACP: true, permFullControl: true}

// aclGrant is one stored grant. Email grantees are resolved to canonical
// users when the ACL is set, as RGW does; an unresolved one (set through
// x-amz-grant-* on an object write) matches nobody.
type aclGrant struct {
	Type  string `json:"type"`
	ID    string `json:"id,omitempty"`
	URI   string `json:"uri,omitempty"`
	Email string `json:"email,omitempty"`
	Perm  string `json:"perm"`
}

// aclGrants is an explicit grant list; the owner is the resource's.
type aclGrants struct {
	Grants []aclGrant `json:"grants"`
}

// loadACL expands a stored ACL for a resource with the given owners.
func loadACL(stored, owner, bucketOwner string) []aclGrant {
	if strings.HasPrefix(stored, "{") {
		var g aclGrants
		if err := json.Unmarshal([]byte(stored), &g); err == nil {
			return g.Grants
		}
		return nil // unreadable: grants nothing beyond the owner's rights
	}
	return cannedGrants(stored, owner, bucketOwner)
}

// encodeACL is the stored form of an explicit grant list.
func encodeACL(grants []aclGrant) string {
	if grants == nil {
		grants = []aclGrant{}
	}
	b, _ := json.Marshal(aclGrants{Grants: grants})
	return string(b)
}

// cannedGrants expands a canned ACL; bucketOwner matters for the
// bucket-owner-* object ACLs.
func cannedGrants(acl, owner, bucketOwner string) []aclGrant {
	user := func(id, perm string) aclGrant { return aclGrant{Type: granteeUser, ID: id, Perm: perm} }
	group := func(uri, perm string) aclGrant { return aclGrant{Type: granteeGroup, URI: uri, Perm: perm} }
	g := []aclGrant{user(owner, permFullControl)}
	switch acl {
	case aclPublicRead:
		g = append(g, group(groupAllUsers, permRead))
	case aclPublicReadWrite:
		g = append(g, group(groupAllUsers, permRead), group(groupAllUsers, permWrite))
	case aclAuthRead:
		g = append(g, group(groupAuthUsers, permRead))
	case aclBucketOwnerRead, aclBucketOwnerFull:
		if bucketOwner != owner {
			perm := permRead
			if acl == aclBucketOwnerFull {
				perm = permFullControl
			}
			g = append(g, user(bucketOwner, perm))
		}
	}
	return g
}

// aclGrantsPerm reports whether a grant list gives the caller perm.
func aclGrantsPerm(grants []aclGrant, id auth.Identity, perm string) bool {
	for _, g := range grants {
		if g.Perm != perm && g.Perm != permFullControl {
			continue
		}
		switch {
		case g.Type == granteeGroup && g.URI == groupAllUsers:
			return true
		case g.Type == granteeGroup && g.URI == groupAuthUsers && !id.Anonymous:
			return true
		case g.Type == granteeUser && !id.Anonymous && g.ID == id.UserID:
			return true
		}
	}
	return false
}

// parseCannedACL returns the stored ACL a request's headers ask for: the
// x-amz-acl value, an explicit list from x-amz-grant-* headers, or "" when
// neither is present. Grantees are not checked here (see checkGrants).
func parseCannedACL(h http.Header) (string, error) {
	acl := h.Get("X-Amz-Acl")
	if acl != "" && !cannedACLs[acl] {
		return "", s3err.InvalidArgument.WithMessage("Invalid canned ACL %q", acl)
	}
	var grants []aclGrant
	for _, hp := range [...]struct{ name, perm string }{
		{"X-Amz-Grant-Read", permRead}, {"X-Amz-Grant-Write", permWrite},
		{"X-Amz-Grant-Read-Acp", permReadACP}, {"X-Amz-Grant-Write-Acp", permWriteACP},
		{"X-Amz-Grant-Full-Control", permFullControl},
	} {
		for _, v := range h.Values(hp.name) {
			for item := range strings.SplitSeq(v, ",") {
				item = strings.TrimSpace(item)
				if item == "" {
					continue
				}
				k, val, ok := strings.Cut(item, "=")
				if !ok {
					return "", s3err.InvalidArgument.WithMessage("Invalid grant %q", item)
				}
				val = strings.Trim(strings.TrimSpace(val), `"`)
				g := aclGrant{Perm: hp.perm}
				switch strings.ToLower(strings.TrimSpace(k)) {
				case "id":
					g.Type, g.ID = granteeUser, val
				case "emailaddress":
					g.Type, g.Email = granteeEmail, val
				case "uri":
					g.Type, g.URI = granteeGroup, val
				default:
					return "", s3err.InvalidArgument.WithMessage("Invalid grant %q", item)
				}
				grants = append(grants, g)
			}
		}
	}
	if grants == nil {
		return acl, nil
	}
	if acl != "" {
		return "", s3err.InvalidRequest.WithMessage("Specifying both Canned ACLs and Header Grants is not allowed")
	}
	return encodeACL(grants), nil
}

// checkGrants validates the grantees of a stored ACL and resolves email
// grantees to canonical users; canned ACLs pass unchanged.
func (a *API) checkGrants(ctx context.Context, stored string) (string, error) {
	if !strings.HasPrefix(stored, "{") {
		return stored, nil
	}
	grants := loadACL(stored, "", "")
	for i := range grants {
		if err := a.checkGrant(ctx, &grants[i]); err != nil {
			return "", err
		}
	}
	return encodeACL(grants), nil
}

func (a *API) checkGrant(ctx context.Context, g *aclGrant) error {
	if !validPerms[g.Perm] {
		return s3err.MalformedACLError.WithMessage("Invalid permission %q", g.Perm)
	}
	switch g.Type {
	case granteeUser:
		if g.ID == "" {
			return s3err.InvalidArgument.WithMessage("Grantee ID missing")
		}
		if a.cfg.Users != nil {
			if _, ok := a.cfg.Users.DisplayName(ctx, g.ID); !ok {
				return s3err.InvalidArgument.WithMessage("Invalid id")
			}
		}
	case granteeEmail:
		if a.cfg.Users == nil {
			return s3err.UnresolvableGrantByEmailAddress
		}
		id, ok := a.cfg.Users.ByEmail(ctx, g.Email)
		if !ok {
			return s3err.UnresolvableGrantByEmailAddress
		}
		*g = aclGrant{Type: granteeUser, ID: id, Perm: g.Perm}
	case granteeGroup:
		if g.URI != groupAllUsers && g.URI != groupAuthUsers && g.URI != groupLogDelivery {
			return s3err.InvalidArgument.WithMessage("Invalid group uri")
		}
	default:
		return s3err.MalformedACLError.WithMessage("Invalid grantee type %q", g.Type)
	}
	return nil
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
	Email       string `xml:"EmailAddress,omitempty"`
}

// policyIn is the ACL document as clients send it; xsi:type is matched by
// its local name, whatever prefix the client bound.
type policyIn struct {
	Owner  aclOwner `xml:"Owner"`
	Grants []struct {
		Grantee struct {
			Type  string `xml:"type,attr"`
			ID    string `xml:"ID"`
			URI   string `xml:"URI"`
			Email string `xml:"EmailAddress"`
		} `xml:"Grantee"`
		Permission string `xml:"Permission"`
	} `xml:"AccessControlList>Grant"`
}

// displayName is the name shown for a user id.
func (a *API) displayName(ctx context.Context, id string) string {
	if a.cfg.Users != nil {
		if n, ok := a.cfg.Users.DisplayName(ctx, id); ok {
			return n
		}
	}
	return id
}

// renderACL builds the policy document of a stored ACL. Group grants come
// first, as RGW lists them.
func (a *API) renderACL(ctx context.Context, stored, owner, bucketOwner string) accessControlPolicy {
	p := accessControlPolicy{Xmlns: s3Namespace, Owner: aclOwner{ID: owner, DisplayName: a.displayName(ctx, owner)}}
	p.Grants = []grant{}
	grants := loadACL(stored, owner, bucketOwner)
	for _, groups := range []bool{true, false} {
		for _, g := range grants {
			if (g.Type == granteeGroup) != groups {
				continue
			}
			ge := grantee{XMLNSXSI: xsiNamespace, XSIType: g.Type, ID: g.ID, URI: g.URI, Email: g.Email}
			if g.Type == granteeUser {
				ge.DisplayName = a.displayName(ctx, g.ID)
			}
			p.Grants = append(p.Grants, grant{Grantee: ge, Permission: g.Perm})
		}
	}
	return p
}

// aclFromPolicy parses a client's AccessControlPolicy into a stored ACL.
func aclFromPolicy(body []byte) (string, error) {
	var p policyIn
	if err := xml.Unmarshal(body, &p); err != nil {
		return "", s3err.MalformedACLError.WithCause(err)
	}
	grants := make([]aclGrant, 0, len(p.Grants))
	for _, g := range p.Grants {
		grants = append(grants, aclGrant{Type: g.Grantee.Type, ID: g.Grantee.ID, URI: g.Grantee.URI, Email: g.Grantee.Email, Perm: g.Permission})
	}
	return encodeACL(grants), nil
}

// readACLRequest reads what a Put*Acl request asks for, before any store
// call, so that no slow client is read from while the store applies the
// change: headers (x-amz-acl or x-amz-grant-*) or else a policy document.
// The result is checked and in stored form.
func (a *API) readACLRequest(r *http.Request) (string, error) {
	acl, err := parseCannedACL(r.Header)
	if err != nil {
		return "", err
	}
	if acl == "" {
		body, err := readVerifiedBody(r, maxXMLBody, false)
		if err != nil {
			return "", err
		}
		if len(body) == 0 {
			return "", s3err.MalformedACLError
		}
		if acl, err = aclFromPolicy(body); err != nil {
			return "", err
		}
	}
	return a.checkGrants(r.Context(), acl)
}

func (a *API) getBucketACL(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	return writeXML(w, a.renderACL(r.Context(), b.ACL, b.Owner, b.Owner))
}

func (a *API) putBucketACL(w http.ResponseWriter, r *http.Request, req *Request) error {
	acl, err := a.readACLRequest(r)
	if err != nil {
		return err
	}
	return a.store.UpdateBucket(r.Context(), req.Bucket, func(b *store.Bucket) error {
		if aclsDisabled(*b) { // ownership.go
			return s3err.AccessControlListNotSupported
		}
		b.ACL = acl
		return nil
	})
}

func (a *API) getObjectACL(w http.ResponseWriter, r *http.Request, req *Request) error {
	versionID, err := versionIDParam(r)
	if err != nil {
		return err
	}
	b := req.auth.bucket
	oi, err := a.store.HeadObject(r.Context(), req.Bucket, req.Key, store.GetOptions{VersionID: versionID})
	if err != nil {
		if !req.auth.mayLearnMissing() {
			return s3err.AccessDenied
		}
		return readError(w.Header(), oi, err)
	}
	if !req.auth.allowsVersion(oi, req.Identity) {
		return s3err.AccessDenied
	}
	setVersionHeaders(w.Header(), oi.VersionID, false)
	return writeXML(w, a.renderACL(r.Context(), oi.Meta.ACL, objectOwner(oi, b), b.Owner))
}

// putObjectACL replaces a version's ACL; it needs WRITE_ACP on the object.
func (a *API) putObjectACL(w http.ResponseWriter, r *http.Request, req *Request) error {
	versionID, err := versionIDParam(r)
	if err != nil {
		return err
	}
	if aclsDisabled(req.auth.bucket) { // ownership.go
		return s3err.AccessControlListNotSupported
	}
	acl, err := a.readACLRequest(r)
	if err != nil {
		return err
	}
	oi, err := a.store.UpdateObject(r.Context(), req.Bucket, req.Key, versionID, func(oi *store.ObjectInfo) error {
		// Checked here so that the rights are those on the exact version
		// changed.
		if !req.auth.allowsVersion(*oi, req.Identity) {
			return s3err.AccessDenied
		}
		oi.Meta.ACL = objectACL(acl)
		return nil
	})
	if err != nil {
		if errors.Is(err, s3err.AccessDenied) {
			return err
		}
		if !req.auth.mayLearnMissing() {
			return s3err.AccessDenied
		}
		return readError(w.Header(), oi, err)
	}
	setVersionHeaders(w.Header(), oi.VersionID, false)
	return nil
}

// objectACL is the stored form of an object's ACL: private, the default,
// is stored as "".
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
