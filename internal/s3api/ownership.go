package s3api

// S3 Object Ownership: a bucket's OwnershipControls decide who owns the
// objects written to it. ObjectWriter (the default, also when no controls
// are set) keeps the writer as owner; BucketOwnerPreferred gives objects
// written with the bucket-owner-full-control ACL to the bucket owner;
// BucketOwnerEnforced gives every object to the bucket owner and disables
// ACLs: only bucket-owner-full-control (or no ACL) may be sent on writes,
// and Put*Acl is refused.

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// configOwnershipControls is the bucket's Config entry holding its
// OwnershipControls, stored as their XML document.
const configOwnershipControls = "ownershipControls"

const (
	ownershipObjectWriter   = "ObjectWriter"
	ownershipOwnerPreferred = "BucketOwnerPreferred"
	ownershipOwnerEnforced  = "BucketOwnerEnforced"
)

var validOwnerships = map[string]bool{
	ownershipObjectWriter: true, ownershipOwnerPreferred: true, ownershipOwnerEnforced: true,
}

type ownershipControls struct {
	XMLName xml.Name        `xml:"OwnershipControls"`
	Xmlns   string          `xml:"xmlns,attr,omitempty"`
	Rules   []ownershipRule `xml:"Rule"`
}

type ownershipRule struct {
	ObjectOwnership string `xml:"ObjectOwnership"`
}

// objectOwnershipOf returns a bucket's ObjectOwnership setting,
// ObjectWriter when it has none.
func objectOwnershipOf(b store.Bucket) string {
	var c ownershipControls
	if doc, ok := b.Config[configOwnershipControls]; ok {
		_ = xml.Unmarshal(doc, &c) // written by putBucketOwnership or createBucket
	}
	if len(c.Rules) == 1 && validOwnerships[c.Rules[0].ObjectOwnership] {
		return c.Rules[0].ObjectOwnership
	}
	return ownershipObjectWriter
}

// aclsDisabled reports whether a bucket refuses ACLs (BucketOwnerEnforced).
func aclsDisabled(b store.Bucket) bool {
	return objectOwnershipOf(b) == ownershipOwnerEnforced
}

// requestSetsACL reports whether a write's headers ask for an ACL other
// than bucket-owner-full-control, the one ACL BucketOwnerEnforced accepts.
func requestSetsACL(h http.Header) bool {
	if acl := h.Get("X-Amz-Acl"); acl != "" && acl != aclBucketOwnerFull {
		return true
	}
	for name := range h {
		if strings.HasPrefix(name, "X-Amz-Grant-") {
			return true
		}
	}
	return false
}

// objectWriteOwner decides the owner of an object (or multipart upload)
// that writer creates in bucket b with the request headers h. It is the
// one place PutObject, CreateMultipartUpload and CopyObject ask.
func objectWriteOwner(b store.Bucket, writer string, h http.Header) (string, error) {
	switch objectOwnershipOf(b) {
	case ownershipOwnerEnforced:
		if requestSetsACL(h) {
			return "", s3err.AccessControlListNotSupported
		}
		return b.Owner, nil
	case ownershipOwnerPreferred:
		if h.Get("X-Amz-Acl") == aclBucketOwnerFull {
			return b.Owner, nil
		}
	}
	return writer, nil
}

// isPrivateBucketACL reports whether a stored bucket ACL grants nothing
// beyond the owner's full control, as BucketOwnerEnforced requires.
func isPrivateBucketACL(acl, owner string) bool {
	return sameACL(acl, aclPrivate, owner)
}

// parseObjectOwnership validates an ObjectOwnership value.
func parseObjectOwnership(v string) (string, error) {
	if !validOwnerships[v] {
		return "", s3err.InvalidArgument.WithMessage("Invalid x-amz-object-ownership header: %s", v)
	}
	return v, nil
}

// ownershipDocument is the stored form of a bucket's controls.
func ownershipDocument(ownership string) []byte {
	raw, _ := xml.Marshal(ownershipControls{Xmlns: s3Namespace, Rules: []ownershipRule{{ObjectOwnership: ownership}}})
	return raw
}

func (a *API) putBucketOwnership(w http.ResponseWriter, r *http.Request, req *Request) error {
	body, err := readVerifiedBody(r, maxXMLBody, false)
	if err != nil {
		return err
	}
	var c ownershipControls
	if err := xml.Unmarshal(body, &c); err != nil {
		return s3err.MalformedXML.WithCause(err)
	}
	if len(c.Rules) != 1 || !validOwnerships[c.Rules[0].ObjectOwnership] {
		return s3err.MalformedXML
	}
	ownership := c.Rules[0].ObjectOwnership
	doc := ownershipDocument(ownership)
	return a.store.UpdateBucket(r.Context(), req.Bucket, func(b *store.Bucket) error {
		// Checked here so that no concurrent PutBucketAcl slips in between.
		if ownership == ownershipOwnerEnforced && !isPrivateBucketACL(b.ACL, b.Owner) {
			return s3err.InvalidBucketAclWithObjectOwnership
		}
		if b.Config == nil {
			b.Config = map[string][]byte{}
		}
		b.Config[configOwnershipControls] = doc
		return nil
	})
}

func (a *API) getBucketOwnership(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	if _, ok := b.Config[configOwnershipControls]; !ok {
		return s3err.OwnershipControlsNotFound
	}
	return writeXML(w, ownershipControls{Xmlns: s3Namespace, Rules: []ownershipRule{{ObjectOwnership: objectOwnershipOf(b)}}})
}

func (a *API) deleteBucketOwnership(w http.ResponseWriter, r *http.Request, req *Request) error {
	return a.deleteBucketConfig(w, r, req, configOwnershipControls)
}
