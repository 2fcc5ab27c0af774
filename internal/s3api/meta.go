package s3api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// maxUserMetadata is S3's limit on x-amz-meta-* names plus values, in bytes.
const maxUserMetadata = 2 << 10

// userMetaPrefix is the canonical form of the user metadata header prefix.
const userMetaPrefix = "X-Amz-Meta-"

// storageClasses are the x-amz-storage-class values S3 accepts. Cairn has
// one class, but records the requested one so clients read back what they
// wrote.
var storageClasses = map[string]bool{
	"STANDARD": true, "REDUCED_REDUNDANCY": true, "STANDARD_IA": true,
	"ONEZONE_IA": true, "INTELLIGENT_TIERING": true, "GLACIER": true,
	"DEEP_ARCHIVE": true, "OUTPOSTS": true, "GLACIER_IR": true, "SNOW": true,
	"EXPRESS_ONEZONE": true,
}

// contentHeaders pairs the stored content headers with their names, so that
// parsing and rendering stay symmetric.
var contentHeaders = []struct {
	name  string
	field func(*store.Metadata) *string
}{
	{"Content-Type", func(m *store.Metadata) *string { return &m.ContentType }},
	{"Content-Encoding", func(m *store.Metadata) *string { return &m.ContentEncoding }},
	{"Content-Disposition", func(m *store.Metadata) *string { return &m.ContentDisposition }},
	{"Content-Language", func(m *store.Metadata) *string { return &m.ContentLanguage }},
	{"Cache-Control", func(m *store.Metadata) *string { return &m.CacheControl }},
	{"Expires", func(m *store.Metadata) *string { return &m.Expires }},
}

// parseMetadata reads what a PUT, a copy with the REPLACE directive or a
// multipart creation sets on an object: content headers, user metadata,
// storage class, canned ACL and the x-amz-tagging set.
func parseMetadata(h http.Header) (store.Metadata, error) {
	var m store.Metadata
	for _, ch := range contentHeaders {
		*ch.field(&m) = h.Get(ch.name)
	}
	m.ContentEncoding = withoutAWSChunked(m.ContentEncoding)
	user, err := parseUserMetadata(h)
	if err != nil {
		return m, err
	}
	m.User = user
	if m.StorageClass, err = parseStorageClass(h.Get("X-Amz-Storage-Class")); err != nil {
		return m, err
	}
	acl, err := parseCannedACL(h)
	if err != nil {
		return m, err
	}
	m.ACL = objectACL(acl)
	if v, ok := h["X-Amz-Tagging"]; ok {
		if m.Tags, err = parseTaggingHeader(strings.Join(v, "&")); err != nil {
			return m, err
		}
	}
	return m, nil
}

// withoutAWSChunked drops the "aws-chunked" coding, which describes how the
// request body was framed, not the object: S3 does not store it.
func withoutAWSChunked(encoding string) string {
	if !strings.Contains(strings.ToLower(encoding), "aws-chunked") {
		return encoding
	}
	var kept []string
	for _, c := range strings.Split(encoding, ",") {
		if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "aws-chunked") {
			kept = append(kept, c)
		}
	}
	return strings.Join(kept, ", ")
}

// parseUserMetadata collects x-amz-meta-* headers keyed by their lower-case
// suffix, joining repeated headers with commas as S3 does.
func parseUserMetadata(h http.Header) (map[string]string, error) {
	var user map[string]string
	size := 0
	for name, vals := range h {
		suffix, ok := strings.CutPrefix(name, userMetaPrefix)
		if !ok || suffix == "" {
			continue
		}
		if user == nil {
			user = make(map[string]string)
		}
		k, v := strings.ToLower(suffix), strings.Join(vals, ",")
		user[k] = v
		size += len(k) + len(v)
	}
	if size > maxUserMetadata {
		return nil, s3err.MetadataTooLarge
	}
	return user, nil
}

// parseStorageClass validates x-amz-storage-class; "" stays "" (STANDARD).
func parseStorageClass(v string) (string, error) {
	if v == "" || v == "STANDARD" {
		return "", nil
	}
	if !storageClasses[v] {
		return "", s3err.InvalidStorageClass
	}
	return v, nil
}

// setObjectHeaders writes the headers describing an object version on a
// GET or HEAD answer, except Content-Length and Content-Range, which depend
// on what part of the body is served.
func setObjectHeaders(h http.Header, oi store.ObjectInfo) {
	h.Set("ETag", quoteETag(oi.ETag))
	h.Set("Last-Modified", oi.LastModified.UTC().Format(http.TimeFormat))
	h.Set("Accept-Ranges", "bytes")
	for _, ch := range contentHeaders {
		if v := *ch.field(&oi.Meta); v != "" {
			h.Set(ch.name, v)
		}
	}
	if oi.Meta.ContentType == "" {
		h.Set("Content-Type", "binary/octet-stream") // what S3 reports for untyped objects
	}
	for k, v := range oi.Meta.User {
		// Set the map directly with the lower-case name S3 sends: clients
		// such as botocore keep the case of the name they receive, so a
		// canonicalised "X-Amz-Meta-Colour" would reach them as "Colour".
		h["x-amz-meta-"+k] = []string{v}
	}
	setVersionHeaders(h, oi.VersionID, oi.DeleteMarker)
	setSSEHeaders(h, oi.Meta.SSE)
	if oi.Meta.StorageClass != "" && oi.Meta.StorageClass != "STANDARD" {
		h.Set("X-Amz-Storage-Class", oi.Meta.StorageClass)
	}
	setObjectLockHeaders(h, oi.Meta)
}

// setVersionHeaders writes x-amz-version-id (in buckets that ever had
// versioning) and x-amz-delete-marker.
func setVersionHeaders(h http.Header, versionID string, deleteMarker bool) {
	if versionID != "" {
		h.Set("X-Amz-Version-Id", versionID)
	}
	if deleteMarker {
		h.Set("X-Amz-Delete-Marker", "true")
	}
}

// setWrittenVersionHeader writes x-amz-version-id on the answer to a write:
// only a real version id, as writes to suspended buckets (which make the
// null version) answer without one (RGW; the conformance suite checks it).
func setWrittenVersionHeader(h http.Header, versionID string) {
	if versionID != store.NullVersion {
		setVersionHeaders(h, versionID, false)
	}
}

// setChecksumHeaders writes x-amz-checksum-<algo> for each checksum and,
// if typ is set, x-amz-checksum-type. An empty value is never sent: SDKs
// would check the body against it.
func setChecksumHeaders(h http.Header, sums map[string]string, typ string) {
	n := 0
	for algo, v := range sums {
		if v != "" {
			h.Set("X-Amz-Checksum-"+strings.ToLower(algo), v)
			n++
		}
	}
	if n > 0 && typ != "" {
		h.Set("X-Amz-Checksum-Type", typ)
	}
}

// setDeleteMarkerHeaders describes a delete marker a GET or HEAD ran into.
func setDeleteMarkerHeaders(h http.Header, oi store.ObjectInfo) {
	setVersionHeaders(h, oi.VersionID, true)
	if !oi.LastModified.IsZero() {
		h.Set("Last-Modified", oi.LastModified.UTC().Format(http.TimeFormat))
	}
}

// quoteETag returns the quoted form of an entity tag, as S3 sends it.
func quoteETag(etag string) string { return `"` + etag + `"` }

// isoTime formats a time as S3 does in XML documents.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// itoa is strconv.Itoa for int64, for header values.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
