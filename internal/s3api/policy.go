package s3api

// Bucket policies: the Put/Get/DeleteBucketPolicy and GetBucketPolicyStatus
// handlers, and checkPolicy, the step of authorization (authorize.go) that
// evaluates a bucket's policy before its owner and ACL rules.

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/policy"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// configPolicy is the bucket's Config entry holding the policy document,
// stored exactly as the client sent it.
const configPolicy = "policy"

// maxPolicySize is S3's limit on a bucket policy document.
const maxPolicySize = 20 << 10

// errPolicyDenied is an explicit denial (a Deny statement, or a public
// access block): unlike s3err.AccessDenied it does not let a handler fall
// back to an object's own ACL. It is rendered as AccessDenied.
var errPolicyDenied = errors.New("access denied by bucket policy")

// policyManagementOps are always allowed to the bucket owner, whatever the
// policy says, so that an owner cannot lock themselves out.
var policyManagementOps = map[Op]bool{
	OpGetBucketPolicy: true, OpPutBucketPolicy: true, OpDeleteBucketPolicy: true,
}

// target is what a policy decision is about: the operation, its action
// and the resource (bucket, key and version) it acts on. It is the request
// itself, or one entry of a multi-object request, or a copy source.
type target struct {
	op          Op
	action      string
	bucket, key string
	versionID   string
	versioned   bool // the request names a version (versionId)
}

// requestTarget is the target of a request as its row describes it.
func requestTarget(r *http.Request, req *Request) target {
	q := r.URL.Query()
	versioned := q.Has("versionId")
	return target{op: req.Op, action: req.row.Action.For(versioned), bucket: req.Bucket, key: req.Key,
		versionID: q.Get("versionId"), versioned: versioned}
}

// checkPolicy evaluates the bucket's policy and public access block for a
// request's target: granted reports an Allow that settles access; an error
// is an explicit denial. With neither, the owner and ACL rules decide.
func (a *API) checkPolicy(r *http.Request, req *Request, b store.Bucket, t target) (granted bool, err error) {
	owner := !req.Identity.Anonymous && b.Owner == req.Identity.UserID
	pab := publicAccessBlockOf(b)
	if pab.BlockPublicAcls && requestsPublicACL(t.op, r.Header) {
		return false, errPolicyDenied
	}
	doc, ok := b.Config[configPolicy]
	if !ok || (owner && policyManagementOps[t.op]) {
		return false, nil
	}
	p, err := policy.Parse(doc)
	if err != nil {
		// Stored documents were validated when put; one that no longer
		// parses grants nothing.
		a.log.WarnContext(r.Context(), "stored bucket policy does not parse", "bucket", b.Name, "err", err)
		return false, nil
	}
	switch p.Evaluate(a.policyRequest(r, req, t)) {
	case policy.Denied:
		return false, errPolicyDenied
	case policy.Allowed:
		if pab.RestrictPublicBuckets && !owner && p.IsPublic() {
			return false, nil
		}
		return true, nil
	}
	return false, nil
}

// policyRequest describes a request's target to the policy engine.
func (a *API) policyRequest(r *http.Request, req *Request, t target) policy.Request {
	resource := tenant.BucketARN("", t.bucket) // arn:aws:s3::<tenant>:<bucket>
	if t.key != "" {
		resource += "/" + t.key
	}
	c := &conditionValues{a: a, r: r, req: req, t: t, query: r.URL.Query()}
	return policy.Request{
		UserID:    req.Identity.UserID,
		Anonymous: req.Identity.Anonymous,
		Action:    t.action,
		Resource:  resource,
		Tenant:    tenant.OfBucket(t.bucket),
		Values:    c.lookup,
	}
}

// conditionValues answers the policy engine's condition-key lookups for one
// request; existing object tags and the request's tags are loaded once, on
// first use.
type conditionValues struct {
	a     *API
	r     *http.Request
	req   *Request
	t     target
	query url.Values
	tags  map[string]string
	load  bool

	reqTags     map[string]string // see requestTags
	reqTagsRead bool
}

func (c *conditionValues) lookup(key string) ([]string, bool) {
	lk := strings.ToLower(key)
	one := func(v string) ([]string, bool) { return []string{v}, true }
	switch lk {
	case "aws:sourceip":
		return one(sourceIP(c.r))
	case "aws:referer":
		return headerValue(c.r.Header, "Referer")
	case "aws:useragent":
		return headerValue(c.r.Header, "User-Agent")
	case "aws:securetransport":
		return one(strconv.FormatBool(c.r.TLS != nil))
	case "aws:currenttime":
		return one(time.Now().UTC().Format(time.RFC3339))
	case "aws:epochtime":
		return one(strconv.FormatInt(time.Now().Unix(), 10))
	case "aws:userid", "aws:username":
		if c.req.Identity.Anonymous {
			return nil, false
		}
		return one(c.req.Identity.UserID)
	case "s3:prefix", "s3:delimiter", "s3:max-keys":
		name := strings.TrimPrefix(lk, "s3:")
		if !c.query.Has(name) {
			return nil, false
		}
		return one(c.query.Get(name))
	case "s3:versionid":
		if !c.t.versioned {
			return nil, false
		}
		return one(c.t.versionID)
	case "s3:x-amz-copy-source":
		v := c.r.Header.Get("X-Amz-Copy-Source")
		if v == "" {
			return nil, false
		}
		if u, err := url.PathUnescape(v); err == nil {
			v = u
		}
		return one(copySourceInTenant(strings.TrimPrefix(v, "/"), c.req.callerTenant(), tenant.OfBucket(c.t.bucket)))
	}
	if strings.HasPrefix(lk, "s3:x-amz-") {
		return headerValue(c.r.Header, key[len("s3:"):])
	}
	if name, ok := cutPrefixFold(key, "s3:ExistingObjectTag/"); ok {
		v, ok := c.existingTags()[name]
		return []string{v}, ok
	}
	if name, ok := cutPrefixFold(key, "s3:RequestObjectTag/"); ok {
		v, ok := c.requestTags()[name]
		return []string{v}, ok
	}
	if lk == "s3:requestobjecttagkeys" {
		tags := c.requestTags()
		if len(tags) == 0 {
			return nil, false
		}
		keys := make([]string, 0, len(tags))
		for k := range tags {
			keys = append(keys, k)
		}
		return keys, true
	}
	return nil, false
}

// requestTags are the tags the request sets, the values of
// s3:RequestObjectTag/<key> and s3:RequestObjectTagKeys. As in S3 only the
// writes that set tags have them: the x-amz-tagging header of PutObject,
// CopyObject and CreateMultipartUpload, the tagging field of a POST form
// and the body of PutObjectTagging (read here and handed back to the
// handler). Tags that do not parse count as none: the handler rejects them.
func (c *conditionValues) requestTags() map[string]string {
	if c.reqTagsRead {
		return c.reqTags
	}
	c.reqTagsRead = true
	switch c.t.op {
	case OpPutObject, OpCopyObject, OpCreateMultipartUpload:
		if v, ok := c.r.Header["X-Amz-Tagging"]; ok {
			c.reqTags, _ = parseTaggingHeader(strings.Join(v, "&"))
		}
	case OpPostObject:
		if v, ok := c.req.postFields["tagging"]; ok {
			c.reqTags, _ = parseTagging([]byte(v))
		}
	case OpPutObjectTagging:
		if body, err := peekVerifiedBody(c.r, maxXMLBody); err == nil {
			c.reqTags, _ = parseTagging(body)
		}
	}
	return c.reqTags
}

// existingTags are the tags of the object the target addresses (none if
// it does not exist).
func (c *conditionValues) existingTags() map[string]string {
	if !c.load && c.t.key != "" {
		c.load = true
		oi, err := c.a.store.HeadObject(c.r.Context(), c.t.bucket, c.t.key, store.GetOptions{VersionID: c.t.versionID})
		if err == nil {
			c.tags = oi.Meta.Tags
		}
	}
	return c.tags
}

func headerValue(h http.Header, name string) ([]string, bool) {
	v, ok := h[http.CanonicalHeaderKey(name)]
	return v, ok && len(v) > 0
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return "", false
}

func (a *API) putBucketPolicy(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	doc, err := readVerifiedBody(r, maxPolicySize, false)
	if err != nil {
		return err
	}
	p, err := policy.Parse(doc)
	if err == nil {
		err = p.CheckTenant(tenant.OfBucket(req.Bucket))
	}
	if err != nil {
		var pe *policy.Error
		if errors.As(err, &pe) {
			return s3err.MalformedPolicy.WithMessage("%s", pe.Msg)
		}
		return s3err.MalformedPolicy.WithCause(err)
	}
	if publicAccessBlockOf(b).BlockPublicPolicy && p.IsPublic() {
		return s3err.AccessDenied
	}
	if err := a.setBucketConfig(r.Context(), req.Bucket, configPolicy, doc); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) getBucketPolicy(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	doc, ok := b.Config[configPolicy]
	if !ok {
		return s3err.NoSuchBucketPolicy
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
	_, _ = w.Write(doc)
	return nil
}

func (a *API) deleteBucketPolicy(w http.ResponseWriter, r *http.Request, req *Request) error {
	return a.deleteBucketConfig(w, r, req, configPolicy)
}

type policyStatus struct {
	XMLName  xml.Name `xml:"PolicyStatus"`
	Xmlns    string   `xml:"xmlns,attr,omitempty"`
	IsPublic bool     `xml:"IsPublic"`
}

// getBucketPolicyStatus reports whether the bucket is public, through its
// policy or its ACL.
func (a *API) getBucketPolicyStatus(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	public := publicCannedACLs[b.ACL]
	if doc, ok := b.Config[configPolicy]; ok {
		if p, err := policy.Parse(doc); err == nil && p.IsPublic() {
			public = true
		}
	}
	return writeXML(w, policyStatus{Xmlns: s3Namespace, IsPublic: public})
}

// policyAllowsListing reports whether the bucket policy lets the caller
// list the bucket with the request's key as s3:prefix. S3 answers a read of
// a missing key with 404 to those who may list it, and 403 to others.
func (a *API) policyAllowsListing(r *http.Request, req *Request) bool {
	b, err := a.store.GetBucket(r.Context(), req.Bucket)
	doc, ok := b.Config[configPolicy]
	if err != nil || !ok {
		return false
	}
	p, err := policy.Parse(doc)
	if err != nil {
		return false
	}
	list := rowOf(OpListObjects)
	pr := a.policyRequest(r, req, target{op: list.Op, action: list.Action.Plain, bucket: req.Bucket})
	values := pr.Values
	pr.Values = func(key string) ([]string, bool) {
		if strings.EqualFold(key, "s3:prefix") {
			return []string{req.Key}, true
		}
		return values(key)
	}
	return p.Evaluate(pr) == policy.Allowed
}
