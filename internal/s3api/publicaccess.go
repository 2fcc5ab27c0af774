package s3api

// The PublicAccessBlock configuration of a bucket: BlockPublicAcls refuses
// requests that set public ACLs, IgnorePublicAcls makes public ACLs grant
// nothing, BlockPublicPolicy refuses public bucket policies and
// RestrictPublicBuckets makes a public policy grant nothing to others than
// the owner.

import (
	"encoding/xml"
	"net/http"
	"strings"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// configPublicAccessBlock is the bucket's Config entry holding the
// configuration, stored as its XML document.
const configPublicAccessBlock = "publicAccessBlock"

type publicAccessBlock struct {
	XMLName               xml.Name `xml:"PublicAccessBlockConfiguration"`
	Xmlns                 string   `xml:"xmlns,attr,omitempty"`
	BlockPublicAcls       bool     `xml:"BlockPublicAcls"`
	IgnorePublicAcls      bool     `xml:"IgnorePublicAcls"`
	BlockPublicPolicy     bool     `xml:"BlockPublicPolicy"`
	RestrictPublicBuckets bool     `xml:"RestrictPublicBuckets"`
}

// publicCannedACLs grant access to everyone or to every authenticated user.
var publicCannedACLs = map[string]bool{
	aclPublicRead: true, aclPublicReadWrite: true, aclAuthRead: true,
}

// aclSettingOps are the operations that can set an ACL from headers.
var aclSettingOps = map[Op]bool{
	OpPutBucketAcl: true, OpPutObjectAcl: true, OpPutObject: true, OpCopyObject: true,
	OpCreateMultipartUpload: true, OpCreateBucket: true,
}

// publicAccessBlockOf returns a bucket's configuration (all false if none).
func publicAccessBlockOf(b store.Bucket) publicAccessBlock {
	var c publicAccessBlock
	if doc, ok := b.Config[configPublicAccessBlock]; ok {
		_ = xml.Unmarshal(doc, &c) // written by putPublicAccessBlock
	}
	return c
}

// requestsPublicACL reports whether a request sets a public ACL through a
// canned ACL or a grant header naming the AllUsers or AuthenticatedUsers
// groups.
func requestsPublicACL(op Op, h http.Header) bool {
	if !aclSettingOps[op] {
		return false
	}
	if publicCannedACLs[h.Get("X-Amz-Acl")] {
		return true
	}
	for name, vals := range h {
		if !strings.HasPrefix(name, "X-Amz-Grant-") {
			continue
		}
		for _, v := range vals {
			if strings.Contains(v, groupAllUsers) || strings.Contains(v, groupAuthUsers) {
				return true
			}
		}
	}
	return false
}

// publicACLsIgnored reports whether a bucket's public ACLs grant nothing.
func publicACLsIgnored(b store.Bucket) bool {
	return publicAccessBlockOf(b).IgnorePublicAcls
}

func (a *API) putPublicAccessBlock(w http.ResponseWriter, r *http.Request, req *Request) error {
	body, err := readVerifiedBody(r, maxXMLBody, false)
	if err != nil {
		return err
	}
	var c publicAccessBlock
	if err := xml.Unmarshal(body, &c); err != nil {
		return s3err.MalformedXML.WithCause(err)
	}
	c.Xmlns = s3Namespace
	return a.setBucketConfigXML(r.Context(), req.Bucket, configPublicAccessBlock, c)
}

func (a *API) getPublicAccessBlock(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	if _, ok := b.Config[configPublicAccessBlock]; !ok {
		return s3err.NoSuchPublicAccessBlock
	}
	c := publicAccessBlockOf(b)
	c.Xmlns = s3Namespace
	return writeXML(w, c)
}

func (a *API) deletePublicAccessBlock(w http.ResponseWriter, r *http.Request, req *Request) error {
	return a.deleteBucketConfig(w, r, req, configPublicAccessBlock)
}
