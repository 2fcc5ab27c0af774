package checksum

import (
	"crypto/md5"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// Request is what a request's headers say about the checksums of its body.
type Request struct {
	// MD5 is the decoded Content-MD5 header, nil when absent.
	MD5 []byte
	// Algorithm is the x-amz-checksum algorithm the client uses, "" if none.
	// It comes from an x-amz-checksum-<algo> header, from x-amz-trailer, or
	// from x-amz-sdk-checksum-algorithm alone (then neither Value nor Trailer
	// is set and the server computes the value itself).
	Algorithm string
	// Value is the base64 value given in the x-amz-checksum-<algo> header; ""
	// when the value comes in a trailer or not at all.
	Value string
	// Trailer reports that the value arrives in the aws-chunked trailer named
	// HeaderName(Algorithm).
	Trailer bool
}

// Expected returns the checksums to verify up front: Algorithm → Value, or
// nil when no value was given in a header.
func (q Request) Expected() map[string]string {
	if q.Value == "" {
		return nil
	}
	return map[string]string{q.Algorithm: q.Value}
}

// Header names x-amz-checksum-* that do not carry a checksum value: they
// configure multipart uploads and GET responses.
var notChecksumValue = map[string]bool{
	"X-Amz-Checksum-Algorithm": true,
	"X-Amz-Checksum-Type":      true,
	"X-Amz-Checksum-Mode":      true,
}

// ParseRequest reads the checksum intent of a request from its headers.
// Errors are S3 errors: InvalidDigest for a bad Content-MD5, InvalidRequest
// for a bad or ambiguous x-amz-checksum-* / x-amz-sdk-checksum-algorithm /
// x-amz-trailer.
func ParseRequest(h http.Header) (Request, error) {
	var q Request
	if v, ok := h["Content-Md5"]; ok {
		md5sum, err := ParseContentMD5(strings.Join(v, ","))
		if err != nil {
			return Request{}, err
		}
		q.MD5 = md5sum
	}
	for name, vals := range h {
		if !strings.HasPrefix(name, "X-Amz-Checksum-") || notChecksumValue[name] {
			continue
		}
		algo, ok := FromHeaderName(name)
		if !ok {
			return Request{}, s3err.InvalidRequest.WithMessage("The header %s is not supported.", strings.ToLower(name))
		}
		if q.Algorithm != "" {
			return Request{}, multipleChecksums()
		}
		if len(vals) != 1 {
			return Request{}, InvalidHeaderError(algo)
		}
		if _, err := Decode(algo, vals[0]); err != nil {
			return Request{}, InvalidHeaderError(algo)
		}
		q.Algorithm, q.Value = algo, vals[0]
	}
	for _, tr := range h.Values("X-Amz-Trailer") {
		for name := range strings.SplitSeq(tr, ",") {
			name = strings.TrimSpace(name)
			if !strings.HasPrefix(strings.ToLower(name), HeaderPrefix) {
				continue // trailers other than checksums are not ours to judge
			}
			algo, ok := FromHeaderName(name)
			if !ok {
				return Request{}, s3err.InvalidRequest.WithMessage("The value specified in the x-amz-trailer header is not supported")
			}
			if q.Algorithm != "" {
				return Request{}, multipleChecksums()
			}
			q.Algorithm, q.Trailer = algo, true
		}
	}
	if v := h.Get("X-Amz-Sdk-Checksum-Algorithm"); v != "" {
		algo := strings.ToUpper(strings.TrimSpace(v))
		if !Supported(algo) {
			return Request{}, s3err.InvalidRequest.WithMessage("Value for x-amz-sdk-checksum-algorithm header is invalid.")
		}
		switch q.Algorithm {
		case "":
			q.Algorithm = algo
		case algo:
		default:
			return Request{}, s3err.InvalidRequest.WithMessage(
				"Value for x-amz-sdk-checksum-algorithm header is invalid: it names %s but the checksum given is %s.", algo, q.Algorithm)
		}
	}
	return q, nil
}

func multipleChecksums() *s3err.Error {
	return s3err.InvalidRequest.WithMessage("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
}

// ParseContentMD5 decodes a Content-MD5 header value. A value that is not
// base64 of 16 bytes is an InvalidDigest error.
func ParseContentMD5(v string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil || len(b) != md5.Size {
		return nil, s3err.InvalidDigest
	}
	return b, nil
}
