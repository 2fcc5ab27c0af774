package s3api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"net/http"
	"time"

	"github.com/cairn-s3/cairn/internal/lifecycle"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// lifecycleConfig is the bucket Config key of the lifecycle configuration,
// stored as the validated XML document; package lifecycle runs it.
const lifecycleConfig = lifecycle.ConfigKey

const (
	maxLifecycleRules = 1000
	maxLifecycleID    = 255
)

type lifecycleConfiguration struct {
	XMLName xml.Name        `xml:"LifecycleConfiguration"`
	Xmlns   string          `xml:"xmlns,attr,omitempty"`
	Rules   []lifecycleRule `xml:"Rule"`
}

// lifecycleRule keeps the parts Cairn validates typed and the rest as
// the client sent them.
type lifecycleRule struct {
	ID                             string                `xml:"ID,omitempty"`
	Prefix                         *string               `xml:"Prefix"`
	Filter                         *innerXML             `xml:"Filter"`
	Status                         string                `xml:"Status"`
	Expiration                     *lifecycleExpiration  `xml:"Expiration"`
	Transitions                    []lifecycleTransition `xml:"Transition"`
	NoncurrentVersionExpiration    *lifecycleNoncurrent  `xml:"NoncurrentVersionExpiration"`
	NoncurrentVersionTransitions   []innerXML            `xml:"NoncurrentVersionTransition"`
	AbortIncompleteMultipartUpload *innerXML             `xml:"AbortIncompleteMultipartUpload"`
}

type innerXML struct {
	Inner string `xml:",innerxml"`
}

type lifecycleExpiration struct {
	Date                      *string `xml:"Date"`
	Days                      *int    `xml:"Days"`
	ExpiredObjectDeleteMarker *bool   `xml:"ExpiredObjectDeleteMarker"`
}

type lifecycleTransition struct {
	Date         *string `xml:"Date"`
	Days         *int    `xml:"Days"`
	StorageClass string  `xml:"StorageClass"`
}

type lifecycleNoncurrent struct {
	NoncurrentDays          *int `xml:"NoncurrentDays"`
	NewerNoncurrentVersions *int `xml:"NewerNoncurrentVersions"`
}

// validLifecycleDate accepts what S3 does: an ISO 8601 date, at midnight
// UTC when a time is given.
func validLifecycleDate(s string) bool {
	if _, err := time.Parse("2006-01-02", s); err == nil {
		return true
	}
	t, err := time.Parse(time.RFC3339, s)
	return err == nil && t.UTC().Format("15:04:05") == "00:00:00"
}

// lifecycleFilter is a rule's Filter as S3's schema has it: at most one
// condition, several only inside And; Unknown collects any other element.
type lifecycleFilter struct {
	Prefix      *string          `xml:"Prefix"`
	Tags        []lifecycleTag   `xml:"Tag"`
	SizeGreater *int64           `xml:"ObjectSizeGreaterThan"`
	SizeLess    *int64           `xml:"ObjectSizeLessThan"`
	And         *lifecycleAnd    `xml:"And"`
	Unknown     []unknownElement `xml:",any"`
}

type lifecycleAnd struct {
	Prefix      *string          `xml:"Prefix"`
	Tags        []lifecycleTag   `xml:"Tag"`
	SizeGreater *int64           `xml:"ObjectSizeGreaterThan"`
	SizeLess    *int64           `xml:"ObjectSizeLessThan"`
	Unknown     []unknownElement `xml:",any"`
}

type lifecycleTag struct {
	Key     *string          `xml:"Key"`
	Value   *string          `xml:"Value"`
	Unknown []unknownElement `xml:",any"`
}

type unknownElement struct {
	XMLName xml.Name
}

// validFilter reports whether a Filter follows S3's schema (which S3
// enforces with MalformedXML): known elements only, one condition or an
// And, tags with a key.
func (f *innerXML) validFilter() bool {
	var x lifecycleFilter
	if xml.Unmarshal([]byte("<Filter>"+f.Inner+"</Filter>"), &x) != nil || len(x.Unknown) > 0 {
		return false
	}
	n := len(x.Tags)
	for _, present := range []bool{x.Prefix != nil, x.SizeGreater != nil, x.SizeLess != nil, x.And != nil} {
		if present {
			n++
		}
	}
	if n > 1 || !validTags(x.Tags) {
		return false
	}
	return x.And == nil || len(x.And.Unknown) == 0 && validTags(x.And.Tags)
}

func validTags(tags []lifecycleTag) bool {
	for _, t := range tags {
		if t.Key == nil || len(t.Unknown) > 0 {
			return false
		}
	}
	return true
}

// validate checks a configuration and names rules sent without an ID.
func (c *lifecycleConfiguration) validate() error {
	if len(c.Rules) == 0 || len(c.Rules) > maxLifecycleRules {
		return s3err.MalformedXML
	}
	ids := make(map[string]bool, len(c.Rules))
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.ID == "" {
			var b [12]byte
			_, _ = rand.Read(b[:])
			r.ID = hex.EncodeToString(b[:])
		}
		if len(r.ID) > maxLifecycleID {
			return s3err.InvalidArgument.WithMessage("ID length should not exceed allowed limit of 255")
		}
		if ids[r.ID] {
			return s3err.InvalidArgument.WithMessage("Rule ID must be unique. Found same ID for more than one rule")
		}
		ids[r.ID] = true
		if r.Status != "Enabled" && r.Status != "Disabled" {
			return s3err.MalformedXML
		}
		// Exactly one of Prefix and Filter says what the rule selects: a
		// misspelled one must not leave a rule of the whole bucket.
		if (r.Prefix != nil) == (r.Filter != nil) || r.Filter != nil && !r.Filter.validFilter() {
			return s3err.MalformedXML
		}
		if e := r.Expiration; e != nil {
			if e.Date != nil && !validLifecycleDate(*e.Date) {
				return s3err.InvalidArgument.WithMessage("'Date' must be at midnight GMT")
			}
			if e.Days != nil && *e.Days <= 0 {
				return s3err.InvalidArgument.WithMessage("'Days' for Expiration action must be a positive integer")
			}
		}
		for _, t := range r.Transitions {
			if t.Date != nil && !validLifecycleDate(*t.Date) {
				return s3err.InvalidArgument.WithMessage("'Date' must be at midnight GMT")
			}
			if t.Days != nil && *t.Days < 0 {
				return s3err.InvalidArgument.WithMessage("'Days' for Transition action must be a nonnegative integer")
			}
		}
		if n := r.NoncurrentVersionExpiration; n != nil && n.NoncurrentDays != nil && *n.NoncurrentDays <= 0 {
			return s3err.InvalidArgument.WithMessage("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")
		}
	}
	return nil
}

func (a *API) getBucketLifecycle(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	var c lifecycleConfiguration
	raw := b.Config[lifecycleConfig]
	if len(raw) == 0 {
		return s3err.NoSuchLifecycleConfiguration
	}
	if err := xml.Unmarshal(raw, &c); err != nil {
		return err
	}
	c.Xmlns = s3Namespace
	return writeXML(w, c)
}

func (a *API) putBucketLifecycle(w http.ResponseWriter, r *http.Request, req *Request) error {
	var c lifecycleConfiguration
	if err := decodeVerifiedXML(r, &c); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	c.Xmlns = ""
	return a.setBucketConfigXML(r.Context(), req.Bucket, lifecycleConfig, c)
}

func (a *API) deleteBucketLifecycle(w http.ResponseWriter, r *http.Request, req *Request) error {
	return a.deleteBucketConfig(w, r, req, lifecycleConfig)
}

// setExpirationHeader answers x-amz-expiration for a current version that
// a rule of its bucket will expire (PUT, copy, multipart completion, GET,
// HEAD), as S3 does: the date
// in S3 days (midnight UTC after the rule's days) and the rule's id.
func (a *API) setExpirationHeader(h http.Header, b *store.Bucket, oi *store.ObjectInfo, versionID string) {
	raw := b.Config[lifecycleConfig]
	if len(raw) == 0 || oi.DeleteMarker || versionID != "" && !oi.IsLatest {
		return
	}
	c, err := a.lifecycles.Parse(raw)
	if err != nil {
		return
	}
	if at, id, ok := c.Expiry(oi.Key, oi.Meta.Tags, oi.Size, oi.LastModified); ok {
		h.Set("X-Amz-Expiration", lifecycle.ExpirationHeader(at, id))
	}
}
