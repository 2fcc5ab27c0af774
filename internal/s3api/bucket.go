package s3api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// defaultS3Region is the region an empty LocationConstraint stands for, in
// S3 and in every S3 client.
const defaultS3Region = "us-east-1"

// maxBucketTags is the most tags a bucket may carry, as in S3.
const maxBucketTags = 50

// bucketTaggingConfig is the key of a bucket's tag set in Bucket.Config.
const bucketTaggingConfig = "tagging"

// xmlOwner is the Owner / Initiator element of S3 documents.
type xmlOwner struct {
	ID          string
	DisplayName string
}

// ownerNamer returns a function that builds Owner elements for one
// request, looking each user's display name up once.
func (a *API) ownerNamer(ctx context.Context) func(userID string) *xmlOwner {
	names := map[string]string{}
	return func(userID string) *xmlOwner {
		name, ok := names[userID]
		if !ok {
			name = a.displayName(ctx, userID)
			names[userID] = name
		}
		return &xmlOwner{ID: userID, DisplayName: name}
	}
}

// validBucketName reports whether name follows S3's bucket naming rules:
// 3–63 characters of lower-case letters, digits, dots and hyphens, beginning
// and ending with a letter or digit, no "..", ".-" or "-.", not shaped like an
// IPv4 address, and none of the prefixes and suffixes S3 reserves.
func validBucketName(name string) bool {
	if len(name) < 3 || len(name) > 63 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '.' || c == '-':
			if i == 0 || i == len(name)-1 {
				return false
			}
			if n := name[i+1]; n == '.' || n == '-' && c == '.' {
				return false // "..", ".-", "-."
			}
		default:
			return false
		}
	}
	if ipv4Shaped(name) {
		return false
	}
	for _, p := range []string{"xn--", "sthree-"} {
		if strings.HasPrefix(name, p) {
			return false
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3"} {
		if strings.HasSuffix(name, s) {
			return false
		}
	}
	return true
}

// ipv4Shaped reports whether name is four dot-separated groups of one to
// three digits: an IPv4 address, or close enough to be read as one by some
// resolvers (leading zeros, octets above 255).
func ipv4Shaped(name string) bool {
	groups := strings.Split(name, ".")
	if len(groups) != 4 {
		return false
	}
	for _, g := range groups {
		if len(g) == 0 || len(g) > 3 || strings.Trim(g, "0123456789") != "" {
			return false
		}
	}
	return true
}

// createBucketConfiguration is the optional body of CreateBucket.
type createBucketConfiguration struct {
	XMLName            xml.Name `xml:"CreateBucketConfiguration"`
	LocationConstraint string
}

// parseCreateBucketConfiguration decodes a CreateBucket body; an empty (or
// all-whitespace) body is no configuration.
func parseCreateBucketConfiguration(body []byte) (createBucketConfiguration, error) {
	var c createBucketConfiguration
	if len(bytes.TrimSpace(body)) == 0 {
		return c, nil
	}
	if err := xml.Unmarshal(body, &c); err != nil {
		return c, s3err.MalformedXML.WithCause(err)
	}
	c.LocationConstraint = strings.TrimSpace(c.LocationConstraint)
	return c, nil
}

// locationRegion checks a LocationConstraint against the gateway's region
// and returns the region to record ("" for the default). Like RGW for a
// zonegroup it does not serve, any other region is InvalidLocationConstraint;
// "us-east-1" is always accepted because clients send it for the default.
func (a *API) locationRegion(constraint string) (string, error) {
	switch constraint {
	case "", a.cfg.Region:
		return "", nil
	case defaultS3Region:
		return defaultS3Region, nil
	}
	return "", s3err.InvalidLocationConstraint.WithMessage("The specified location-constraint is not valid: %q", constraint)
}

// bucketRegion is the region a bucket lives in.
func (a *API) bucketRegion(b store.Bucket) string {
	if b.Region != "" {
		return b.Region
	}
	return a.cfg.Region
}

// createBucket creates a bucket owned by the caller. As in RGW, re-creating
// one's own bucket with the same ACL answers 200 and changes nothing, while
// asking for another ACL, or re-creating someone else's bucket, answers 409
// BucketAlreadyExists. The ACL comes from x-amz-acl or x-amz-grant-*;
// x-amz-bucket-object-lock-enabled enables versioning and object lock.
func (a *API) createBucket(w http.ResponseWriter, r *http.Request, req *Request) error {
	name := req.BucketName()
	if !validBucketName(name) {
		return s3err.InvalidBucketName
	}
	if slices.Contains(a.cfg.ReservedBuckets, name) {
		return s3err.InvalidBucketName.WithMessage("The bucket name %q is reserved.", name)
	}
	// A user's buckets live in their own tenant; as RGW, "t2:b" by a user
	// of another tenant is refused, whoever might own t2's namespace.
	if tenant.OfBucket(req.Bucket) != req.callerTenant() {
		return s3err.AccessDenied.WithMessage("A user cannot create a bucket in a different tenant.")
	}
	acl, err := parseCannedACL(r.Header)
	if err != nil {
		return err
	}
	if acl, err = a.checkGrants(r.Context(), acl); err != nil {
		return err
	}
	if acl == "" {
		acl = aclPrivate
	}
	var ownership string
	if v := r.Header.Get("X-Amz-Object-Ownership"); v != "" {
		if ownership, err = parseObjectOwnership(v); err != nil { // ownership.go
			return err
		}
		if ownership == ownershipOwnerEnforced && !isPrivateBucketACL(acl, req.Identity.UserID) {
			return s3err.InvalidBucketAclWithObjectOwnership
		}
	}
	body, err := readVerifiedBody(r, maxXMLBody, false)
	if err != nil {
		return err
	}
	conf, err := parseCreateBucketConfiguration(body)
	if err != nil {
		return err
	}
	region, err := a.locationRegion(conf.LocationConstraint)
	if err != nil {
		return err
	}
	b := store.Bucket{
		Name: req.Bucket, Owner: req.Identity.UserID, Created: time.Now().UTC(),
		Region: region, ACL: acl,
	}
	if ownership != "" {
		b.Config = map[string][]byte{configOwnershipControls: ownershipDocument(ownership)}
	}
	if strings.EqualFold(r.Header.Get("X-Amz-Bucket-Object-Lock-Enabled"), "true") {
		b.Versioning = store.Enabled
		enableObjectLock(&b)
	}
	if err := a.store.CreateBucket(r.Context(), b); err != nil {
		if !errors.Is(err, store.ErrBucketExists) {
			return err
		}
		old, gerr := a.store.GetBucket(r.Context(), req.Bucket)
		if gerr != nil || old.Owner != req.Identity.UserID || !sameACL(old.ACL, acl, old.Owner) {
			return s3err.BucketAlreadyExists.WithCause(err)
		}
	}
	w.Header().Set("Location", "/"+name)
	w.WriteHeader(http.StatusOK)
	return nil
}

// sameACL reports whether two stored bucket ACLs grant the same.
func sameACL(x, y, owner string) bool {
	gx, gy := loadACL(x, owner, owner), loadACL(y, owner, owner)
	if len(gx) != len(gy) {
		return false
	}
	for i := range gx {
		if gx[i] != gy[i] {
			return false
		}
	}
	return true
}

// decodeVerifiedXML reads a bounded request document, verifies its
// Content-MD5 or x-amz-checksum-* value if one was sent, and decodes it; an
// empty or ill-formed document is MalformedXML.
func decodeVerifiedXML(r *http.Request, v any) error {
	return decodeXMLDocument(r, v, false)
}

// decodeXMLDocument is decodeVerifiedXML that, if checksumRequired, also
// refuses a document sent without Content-MD5 or x-amz-checksum-*.
func decodeXMLDocument(r *http.Request, v any, checksumRequired bool) error {
	body, err := readVerifiedBody(r, maxXMLBody, checksumRequired)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return s3err.MalformedXML
	}
	if err := xml.Unmarshal(body, v); err != nil {
		return s3err.MalformedXML.WithCause(err)
	}
	return nil
}

func (a *API) headBucket(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	w.Header().Set("X-Amz-Bucket-Region", a.bucketRegion(b))
	w.WriteHeader(http.StatusOK)
	return nil
}

func (a *API) deleteBucket(w http.ResponseWriter, r *http.Request, req *Request) error {
	if err := a.store.DeleteBucket(r.Context(), req.Bucket); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type locationConstraint struct {
	XMLName xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ LocationConstraint"`
	Region  string   `xml:",chardata"`
}

func (a *API) getBucketLocation(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	region := a.bucketRegion(b)
	if region == defaultS3Region {
		region = "" // S3 reports its original region as the empty constraint
	}
	return writeXML(w, locationConstraint{Region: region})
}

// listAllMyBucketsResult is the ListBuckets response.
type listAllMyBucketsResult struct {
	XMLName           xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner             *xmlOwner
	Buckets           []xmlBucket `xml:"Buckets>Bucket"`
	ContinuationToken string      `xml:",omitempty"`
	Prefix            string      `xml:",omitempty"`
}

type xmlBucket struct {
	Name         string
	CreationDate string
	BucketRegion string
}

// maxListBuckets is the most buckets one ListBuckets page may hold.
const maxListBuckets = 10000

// listBuckets lists the caller's buckets, which are in the caller's tenant.
// The optional max-buckets, continuation-token, prefix and bucket-region
// parameters page and filter; they work on the S3 names (a tenant's stored
// names share its "tenant:" prefix, so their order is the S3 names' order).
func (a *API) listBuckets(w http.ResponseWriter, r *http.Request, req *Request) error {
	q := r.URL.Query()
	limit := maxListBuckets
	if v := q.Get("max-buckets"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListBuckets {
			return s3err.InvalidArgument.WithMessage("max-buckets must be an integer between 1 and %d", maxListBuckets)
		}
		limit = n
	}
	after := ""
	if tok := q.Get("continuation-token"); tok != "" {
		var err error
		if after, err = decodeToken(tok); err != nil {
			return err
		}
	}
	all, err := a.store.ListBuckets(r.Context())
	if err != nil {
		return err
	}
	res := listAllMyBucketsResult{Owner: a.ownerNamer(r.Context())(req.Identity.UserID), Buckets: []xmlBucket{}, Prefix: q.Get("prefix")}
	own := req.callerTenant()
	for _, b := range all {
		t, name := tenant.SplitBucket(b.Name)
		if b.Owner != req.Identity.UserID || t != own || name <= after || !strings.HasPrefix(name, res.Prefix) {
			continue
		}
		region := a.bucketRegion(b)
		if want := q.Get("bucket-region"); want != "" && want != region {
			continue
		}
		if len(res.Buckets) == limit {
			res.ContinuationToken = encodeToken(res.Buckets[limit-1].Name)
			break
		}
		res.Buckets = append(res.Buckets, xmlBucket{Name: name, CreationDate: isoTime(b.Created), BucketRegion: region})
	}
	return writeXML(w, res)
}

// versioningConfiguration is the document of Get/PutBucketVersioning.
type versioningConfiguration struct {
	XMLName   xml.Name `xml:"VersioningConfiguration"`
	Xmlns     string   `xml:"xmlns,attr,omitempty"`
	Status    string   `xml:",omitempty"`
	MfaDelete string   `xml:",omitempty"`
}

func (a *API) getBucketVersioning(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	return writeXML(w, versioningConfiguration{Xmlns: s3Namespace, Status: string(b.Versioning)})
}

// versioningState validates a PutBucketVersioning document and returns the
// state to set. MFA delete is not supported: asking to enable it is
// NotImplemented, "Disabled" is accepted.
func versioningState(c versioningConfiguration) (store.Versioning, error) {
	switch c.MfaDelete {
	case "", "Disabled":
	case "Enabled":
		return "", s3err.NotImplemented.WithMessage("MFA delete is not implemented")
	default:
		return "", s3err.MalformedXML
	}
	switch c.Status {
	case string(store.Enabled):
		return store.Enabled, nil
	case string(store.Suspended):
		return store.Suspended, nil
	}
	return "", s3err.MalformedXML
}

func (a *API) putBucketVersioning(w http.ResponseWriter, r *http.Request, req *Request) error {
	var c versioningConfiguration
	if err := decodeVerifiedXML(r, &c); err != nil {
		return err
	}
	v, err := versioningState(c)
	if err != nil {
		return err
	}
	// Like S3, Suspended is recorded even for a bucket never versioned.
	err = a.store.UpdateBucket(r.Context(), req.Bucket, func(b *store.Bucket) error {
		if err := checkVersioningChange(*b, v); err != nil {
			return err
		}
		b.Versioning = v
		return nil
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// bucketTagging is the document of Get/PutBucketTagging.
type bucketTagging struct {
	XMLName xml.Name    `xml:"Tagging"`
	Xmlns   string      `xml:"xmlns,attr,omitempty"`
	TagSet  []bucketTag `xml:"TagSet>Tag"`
}

type bucketTag struct {
	Key   string
	Value string
}

// validateBucketTags applies S3's tag rules: at most 50 tags, keys of 1–128
// and values of up to 256 characters, unique keys, no "aws:" keys.
func validateBucketTags(tags []bucketTag) error {
	if len(tags) > maxBucketTags {
		return s3err.InvalidTag.WithMessage("Bucket tag count cannot be greater than %d", maxBucketTags)
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		switch n := utf8.RuneCountInString(t.Key); {
		case n == 0 || n > 128 || !utf8.ValidString(t.Key):
			return s3err.InvalidTag.WithMessage("The TagKey you have provided is invalid")
		case utf8.RuneCountInString(t.Value) > 256 || !utf8.ValidString(t.Value):
			return s3err.InvalidTag.WithMessage("The TagValue you have provided is invalid")
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return s3err.InvalidTag.WithMessage("System tags cannot be added/updated by requester")
		case seen[t.Key]:
			return s3err.InvalidTag.WithMessage("Cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
	}
	return nil
}

func (a *API) getBucketTagging(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	raw := b.Config[bucketTaggingConfig]
	if len(raw) == 0 {
		return s3err.NoSuchTagSet
	}
	var tags []bucketTag
	if err := json.Unmarshal(raw, &tags); err != nil {
		return err
	}
	return writeXML(w, bucketTagging{Xmlns: s3Namespace, TagSet: tags})
}

func (a *API) putBucketTagging(w http.ResponseWriter, r *http.Request, req *Request) error {
	var t bucketTagging
	if err := decodeVerifiedXML(r, &t); err != nil {
		return err
	}
	if err := validateBucketTags(t.TagSet); err != nil {
		return err
	}
	raw, err := json.Marshal(t.TagSet)
	if err != nil {
		return err
	}
	if len(t.TagSet) == 0 {
		raw = nil // an empty tag set removes the tags
	}
	if err := a.setBucketConfig(r.Context(), req.Bucket, bucketTaggingConfig, raw); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) deleteBucketTagging(w http.ResponseWriter, r *http.Request, req *Request) error {
	return a.deleteBucketConfig(w, r, req, bucketTaggingConfig)
}

// tokenPrefix marks Cairn's continuation tokens, so that foreign strings
// are rejected rather than taken as a position.
const tokenPrefix = "cairn1:"

// encodeToken makes an opaque continuation token that resumes after key.
func encodeToken(key string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + key))
}

// decodeToken returns the key a continuation token resumes after.
func decodeToken(tok string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || !bytes.HasPrefix(b, []byte(tokenPrefix)) || !utf8.Valid(b) {
		return "", s3err.InvalidArgument.WithMessage("The continuation token provided is incorrect")
	}
	return string(b[len(tokenPrefix):]), nil
}
