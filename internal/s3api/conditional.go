package s3api

import (
	"net/http"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// conditions are the four RFC 7232 preconditions of a request, read either
// from the standard headers (GET/HEAD) or from their x-amz-copy-source-if-*
// twins (copies).
type conditions struct {
	ifMatch, ifNoneMatch               string
	ifModifiedSince, ifUnmodifiedSince string
	// notModified is the error when If-None-Match or If-Modified-Since
	// fails: 304 for reads, 412 for copies.
	notModified *s3err.Error
}

// readConditions returns the preconditions of a GET or HEAD.
func readConditions(h http.Header) conditions {
	return conditions{
		ifMatch:           h.Get("If-Match"),
		ifNoneMatch:       h.Get("If-None-Match"),
		ifModifiedSince:   h.Get("If-Modified-Since"),
		ifUnmodifiedSince: h.Get("If-Unmodified-Since"),
		notModified:       s3err.NotModified,
	}
}

// copySourceConditions returns the x-amz-copy-source-if-* preconditions of a
// copy, which all fail with 412.
func copySourceConditions(h http.Header) conditions {
	return conditions{
		ifMatch:           h.Get("X-Amz-Copy-Source-If-Match"),
		ifNoneMatch:       h.Get("X-Amz-Copy-Source-If-None-Match"),
		ifModifiedSince:   h.Get("X-Amz-Copy-Source-If-Modified-Since"),
		ifUnmodifiedSince: h.Get("X-Amz-Copy-Source-If-Unmodified-Since"),
		notModified:       s3err.PreconditionFailed,
	}
}

// check evaluates the conditions against an object in RFC 7232 section 6
// order. If-Unmodified-Since is ignored when If-Match is present and
// If-Modified-Since when If-None-Match is, which is also how S3 documents
// the pairs (If-Match true and If-Unmodified-Since false succeeds).
// Unparsable dates are ignored, as RFC 7232 requires.
func (c conditions) check(oi store.ObjectInfo) error {
	modified := oi.LastModified.Truncate(time.Second)
	if c.ifMatch != "" {
		if !etagMatches(c.ifMatch, oi.ETag) {
			return s3err.PreconditionFailed
		}
	} else if t, ok := parseHTTPDate(c.ifUnmodifiedSince); ok && modified.After(t) {
		return s3err.PreconditionFailed
	}
	if c.ifNoneMatch != "" {
		if etagMatches(c.ifNoneMatch, oi.ETag) {
			return c.notModified
		}
	} else if t, ok := parseHTTPDate(c.ifModifiedSince); ok && !modified.After(t) {
		return c.notModified
	}
	return nil
}

// etagMatches reports whether a list of entity tags (or "*") names etag.
// Quotes and weak prefixes are ignored: S3 ETags are compared as strings.
func etagMatches(list, etag string) bool {
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || trimETag(t) == etag {
			return true
		}
	}
	return false
}

// trimETag removes a weak prefix and the quotes from an entity tag.
func trimETag(t string) string {
	t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
	return strings.Trim(t, `"`)
}

func parseHTTPDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := http.ParseTime(s)
	if err != nil {
		// Some clients send RFC 3339 for the copy-source conditions.
		if t, err = time.Parse(time.RFC3339, s); err != nil {
			return time.Time{}, false
		}
	}
	return t, true
}
