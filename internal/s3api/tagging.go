package s3api

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"sort"
	"unicode/utf8"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// S3's limits on object tags.
const (
	maxObjectTags  = 10
	maxTagKeyLen   = 128 // characters
	maxTagValueLen = 256 // characters
)

// tagging is the Tagging document of Get/PutObjectTagging.
type tagging struct {
	XMLName xml.Name `xml:"Tagging"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	TagSet  []tag    `xml:"TagSet>Tag"`
}

type tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// parseTagging decodes a Tagging document into a validated tag set.
func parseTagging(body []byte) (map[string]string, error) {
	var t tagging
	if err := xml.Unmarshal(body, &t); err != nil {
		return nil, s3err.MalformedXML.WithCause(err)
	}
	tags := make(map[string]string, len(t.TagSet))
	for _, tg := range t.TagSet {
		if _, dup := tags[tg.Key]; dup {
			return nil, s3err.InvalidTag.WithMessage("Cannot provide multiple Tags with the same key")
		}
		tags[tg.Key] = tg.Value
	}
	return tags, validateTags(tags)
}

// parseTaggingHeader decodes x-amz-tagging, a URL query string of tags.
func parseTaggingHeader(v string) (map[string]string, error) {
	q, err := url.ParseQuery(v)
	if err != nil {
		return nil, s3err.InvalidArgument.WithMessage("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
	}
	tags := make(map[string]string, len(q))
	for k, vals := range q {
		if len(vals) > 1 {
			return nil, s3err.InvalidTag.WithMessage("Cannot provide multiple Tags with the same key")
		}
		tags[k] = vals[0]
	}
	return tags, validateTags(tags)
}

// validateTags applies S3's limits to an object's tag set.
func validateTags(tags map[string]string) error {
	if len(tags) > maxObjectTags {
		return s3err.InvalidTag.WithMessage("Object tags cannot be greater than %d", maxObjectTags)
	}
	for k, v := range tags {
		if k == "" || utf8.RuneCountInString(k) > maxTagKeyLen {
			return s3err.InvalidTag.WithMessage("The TagKey you have provided is invalid")
		}
		if utf8.RuneCountInString(v) > maxTagValueLen {
			return s3err.InvalidTag.WithMessage("The TagValue you have provided is invalid")
		}
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return s3err.InvalidTag
		}
	}
	return nil
}

// tagSet renders tags in key order, so answers are stable.
func tagSet(tags map[string]string) []tag {
	out := make([]tag, 0, len(tags))
	for k, v := range tags {
		out = append(out, tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func (a *API) getObjectTagging(w http.ResponseWriter, r *http.Request, req *Request) error {
	versionID, err := versionIDParam(r)
	if err != nil {
		return err
	}
	oi, err := a.store.HeadObject(r.Context(), req.Bucket, req.Key, store.GetOptions{VersionID: versionID})
	if err != nil {
		if !req.auth.mayLearnMissing() {
			return s3err.AccessDenied
		}
		return readError(w.Header(), oi, err)
	}
	// Tags are read like the version itself: its ACL, not the bucket's
	// (which may let everyone list the keys), admits the caller.
	if !req.auth.allowsVersion(oi, req.Identity) {
		return s3err.AccessDenied
	}
	setVersionHeaders(w.Header(), oi.VersionID, false)
	return writeXML(w, tagging{Xmlns: s3Namespace, TagSet: tagSet(oi.Meta.Tags)})
}

func (a *API) putObjectTagging(w http.ResponseWriter, r *http.Request, req *Request) error {
	versionID, err := versionIDParam(r)
	if err != nil {
		return err
	}
	body, err := readVerifiedBody(r, maxXMLBody, false)
	if err != nil {
		return err
	}
	tags, err := parseTagging(body)
	if err != nil {
		return err
	}
	return a.setObjectTags(w, r, req, versionID, tags)
}

func (a *API) deleteObjectTagging(w http.ResponseWriter, r *http.Request, req *Request) error {
	versionID, err := versionIDParam(r)
	if err != nil {
		return err
	}
	if err := a.setObjectTags(w, r, req, versionID, nil); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// setObjectTags replaces a version's tags in place. Changing tags is a
// write: it needs write access to the bucket, as in S3.
func (a *API) setObjectTags(w http.ResponseWriter, r *http.Request, req *Request, versionID string, tags map[string]string) error {
	oi, err := a.store.UpdateObject(r.Context(), req.Bucket, req.Key, versionID, func(oi *store.ObjectInfo) error {
		oi.Meta.Tags = tags
		return nil
	})
	if err != nil {
		return readError(w.Header(), oi, err)
	}
	setVersionHeaders(w.Header(), oi.VersionID, false)
	return nil
}
