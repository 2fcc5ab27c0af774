package s3api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// byteRange is a parsed single-range Range header, not yet resolved against
// an object's size. S3 accepts three forms: "bytes=a-b", "bytes=a-" (open)
// and "bytes=-n" (the last n bytes).
type byteRange struct {
	first, last int64 // last < 0: open-ended
	suffix      int64 // > -1: the last suffix bytes; first/last unused
}

// parseRange parses a Range header value. ok is false when the header is
// absent or must be ignored: S3 serves the whole object for a header it
// cannot parse, for another unit, and for several ranges, instead of
// failing the request.
func parseRange(h string) (br byteRange, ok bool) {
	spec, found := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !found || strings.Contains(spec, ",") {
		return byteRange{}, false
	}
	a, b, found := strings.Cut(strings.TrimSpace(spec), "-")
	if !found {
		return byteRange{}, false
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" {
		n, ok := parseNonNegative(b)
		if !ok {
			return byteRange{}, false
		}
		return byteRange{suffix: n}, true
	}
	first, ok := parseNonNegative(a)
	if !ok {
		return byteRange{}, false
	}
	if b == "" {
		return byteRange{first: first, last: -1, suffix: -1}, true
	}
	last, ok := parseNonNegative(b)
	if !ok || last < first {
		// RFC 7233: a range whose last is below its first is invalid
		// syntax, which is ignored.
		return byteRange{}, false
	}
	return byteRange{first: first, last: last, suffix: -1}, true
}

// parseNonNegative accepts only decimal digits (no sign, no spaces), which
// rules out the forms strconv would otherwise allow.
func parseNonNegative(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// resolve returns the bytes the range selects of an object of the given
// size, or InvalidRange when none are: a first byte at or beyond the end,
// or an empty suffix. Ranges reaching past the end are clamped.
func (br byteRange) resolve(size int64) (store.Range, error) {
	if br.suffix >= 0 {
		if br.suffix == 0 || size == 0 {
			return store.Range{}, s3err.InvalidRange
		}
		n := min(br.suffix, size)
		return store.Range{Offset: size - n, Length: n}, nil
	}
	if br.first >= size {
		return store.Range{}, s3err.InvalidRange
	}
	last := size - 1
	if br.last >= 0 && br.last < last {
		last = br.last
	}
	return store.Range{Offset: br.first, Length: last - br.first + 1}, nil
}

// contentRange formats a Content-Range value for bytes of an object of size total.
func contentRange(rg store.Range, total int64) string {
	return "bytes " + strconv.FormatInt(rg.Offset, 10) + "-" +
		strconv.FormatInt(rg.Offset+rg.Length-1, 10) + "/" + strconv.FormatInt(total, 10)
}

// setUnsatisfiable adds the Content-Range S3 sends with a 416 answer.
func setUnsatisfiable(h http.Header, size int64) {
	h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
}

// parseCopySourceRange parses x-amz-copy-source-range, which unlike Range
// must be exactly "bytes=first-last": anything else is InvalidArgument, and a
// range outside the source is InvalidRange.
func parseCopySourceRange(h string, size int64) (store.Range, error) {
	bad := s3err.InvalidArgument.WithMessage("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
	spec, ok := strings.CutPrefix(h, "bytes=")
	if !ok {
		return store.Range{}, bad
	}
	a, b, ok := strings.Cut(spec, "-")
	first, ok1 := parseNonNegative(a)
	last, ok2 := parseNonNegative(b)
	if !ok || !ok1 || !ok2 || last < first {
		return store.Range{}, bad
	}
	if last >= size {
		return store.Range{}, s3err.InvalidRange.WithMessage("Range specified is not valid for source object of size: %d", size)
	}
	return store.Range{Offset: first, Length: last - first + 1}, nil
}
