package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// maxPutSize is the largest body of a single PUT or part, as in S3.
const maxPutSize = 5 << 30

// putBody is the body of a PutObject or UploadPart request with what the
// store needs to verify and record it. Content-MD5 is verified by the store
// (it hashes md5 for the ETag anyway); x-amz-checksum-* values, from a header
// or an aws-chunked trailer, are verified here as the body streams.
type putBody struct {
	io.Reader
	size int64
	md5  []byte
	// sums returns the checksums to store once the body reached EOF; nil
	// when the request named no algorithm.
	sums func() map[string]string
}

// newPutBody builds the put-body pipeline of a request whose signature was
// verified (so r.ContentLength is the decoded length of an aws-chunked body).
func newPutBody(r *http.Request) (*putBody, error) {
	if r.ContentLength < 0 {
		return nil, s3err.MissingContentLength
	}
	if r.ContentLength > maxPutSize {
		return nil, s3err.EntityTooLarge
	}
	sum, err := parseContentMD5(r.Header)
	if err != nil {
		return nil, err
	}
	cv, err := newChecksumVerifier(r, r.Body)
	if err != nil {
		return nil, err
	}
	b := &putBody{Reader: r.Body, size: r.ContentLength, md5: sum}
	if cv != nil {
		b.Reader, b.sums = cv, cv.result
	}
	return b, nil
}

// putOptions returns the store options for writing the body.
func (b *putBody) putOptions(meta store.Metadata, owner string) store.PutOptions {
	return store.PutOptions{Meta: meta, Size: b.size, ContentMD5: b.md5, Checksums: b.sums, Owner: owner}
}

// partOptions returns the store options for writing the body as a part.
func (b *putBody) partOptions() store.PartOptions {
	return store.PartOptions{Size: b.size, ContentMD5: b.md5, Checksums: b.sums}
}

// parseContentMD5 decodes Content-MD5; a value that is not the base64 of
// 16 bytes is InvalidDigest.
func parseContentMD5(h http.Header) ([]byte, error) {
	v, ok := h["Content-Md5"]
	if !ok {
		return nil, nil
	}
	sum, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v[0]))
	if err != nil || len(sum) != md5.Size {
		return nil, s3err.InvalidDigest
	}
	return sum, nil
}

// readVerifiedBody reads a small request document and verifies its
// Content-MD5 or x-amz-checksum-* value. S3 requires one of them for some
// operations (DeleteObjects); required makes their absence InvalidRequest.
func readVerifiedBody(r *http.Request, limit int64, required bool) ([]byte, error) {
	want, err := parseContentMD5(r.Header)
	if err != nil {
		return nil, err
	}
	cv, err := newChecksumVerifier(r, r.Body)
	if err != nil {
		return nil, err
	}
	if required && want == nil && cv == nil {
		return nil, s3err.InvalidRequest.WithMessage("Missing required header for this request: Content-MD5")
	}
	var src io.Reader = r.Body
	if cv != nil {
		src = cv
	}
	body, err := io.ReadAll(io.LimitReader(src, limit+1))
	if err != nil {
		return nil, toS3(err)
	}
	if int64(len(body)) > limit {
		return nil, s3err.MaxMessageLengthExceeded
	}
	if want != nil {
		if got := md5.Sum(body); !bytes.Equal(got[:], want) {
			return nil, s3err.BadDigest
		}
	}
	return body, nil
}

// checksumVerifier hashes a body as it streams and, at EOF, compares the
// result with the value the client sent in a header or a trailer. On a
// mismatch Read returns BadDigest instead of io.EOF, so the store never
// commits the write.
type checksumVerifier struct {
	src     io.Reader
	req     *http.Request
	algo    string
	h       hash.Hash
	want    string // from a header; "" when it comes in a trailer or not at all
	trailer string // trailer name carrying the value, or ""
	done    bool
	err     error
}

// newChecksumVerifier returns nil when the request names no checksum
// algorithm. The algorithm comes from an x-amz-checksum-<algo> header, the
// x-amz-trailer announcing one, or x-amz-sdk-checksum-algorithm (then S3
// computes and stores the checksum itself).
func newChecksumVerifier(r *http.Request, src io.Reader) (*checksumVerifier, error) {
	v := &checksumVerifier{src: src, req: r}
	for name, vals := range r.Header {
		a, ok := strings.CutPrefix(name, "X-Amz-Checksum-")
		if !ok {
			continue
		}
		algo := strings.ToUpper(a)
		if _, known := checksumAlgorithms[algo]; !known {
			continue // x-amz-checksum-mode, -type and the like
		}
		if v.algo != "" {
			return nil, s3err.InvalidRequest.WithMessage("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
		}
		v.algo, v.want = algo, vals[0]
	}
	if t := r.Header.Get("X-Amz-Trailer"); t != "" {
		a, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(t)), "x-amz-checksum-")
		algo := strings.ToUpper(a)
		if _, known := checksumAlgorithms[algo]; !ok || !known || (v.algo != "" && v.algo != algo) {
			return nil, s3err.InvalidRequest.WithMessage("The value specified in the x-amz-trailer header is not supported")
		}
		v.algo, v.trailer = algo, http.CanonicalHeaderKey(t)
	}
	if sdk := strings.ToUpper(r.Header.Get("X-Amz-Sdk-Checksum-Algorithm")); sdk != "" {
		if _, known := checksumAlgorithms[sdk]; !known || (v.algo != "" && v.algo != sdk) {
			return nil, s3err.InvalidRequest.WithMessage("Checksum algorithm provided is unsupported or does not match the checksum value.")
		}
		v.algo = sdk
	}
	if v.algo == "" {
		return nil, nil
	}
	alg := checksumAlgorithms[v.algo]
	if v.want != "" {
		if raw, err := base64.StdEncoding.DecodeString(v.want); err != nil || len(raw) != alg.size {
			return nil, s3err.InvalidChecksum.WithMessage("Value for x-amz-checksum-%s header is invalid.", strings.ToLower(v.algo))
		}
	}
	v.h = alg.new()
	return v, nil
}

func (v *checksumVerifier) Read(p []byte) (int, error) {
	if v.done {
		return 0, v.err
	}
	n, err := v.src.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		v.done, v.err = true, v.verify()
		return n, v.err
	}
	return n, err
}

// verify runs at EOF, when a trailer (if any) has arrived.
func (v *checksumVerifier) verify() error {
	want := v.want
	if v.trailer != "" {
		want = v.req.Trailer.Get(v.trailer)
		if want == "" {
			return s3err.InvalidRequest.WithMessage("The %s trailer was announced but not sent.", strings.ToLower(v.trailer))
		}
	}
	if want != "" && want != v.value() {
		return s3err.InvalidDigestChecksum.WithMessage("The %s you specified did not match the calculated checksum.", v.algo)
	}
	return io.EOF
}

func (v *checksumVerifier) value() string {
	return base64.StdEncoding.EncodeToString(v.h.Sum(nil))
}

// result is the Checksums callback of the store options: the verified value.
func (v *checksumVerifier) result() map[string]string {
	return map[string]string{v.algo: v.value()}
}
