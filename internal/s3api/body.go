package s3api

import (
	"bytes"
	"hash"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/cairn-s3/cairn/internal/checksum"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// maxPutSize is the largest body of a single PUT or part, as in S3.
const maxPutSize = 5 << 30

// putBody is the body of a PutObject or UploadPart request with what the
// store needs to verify and record it. Content-MD5 is verified by the store
// (it hashes md5 for the ETag anyway); an x-amz-checksum-* header value is
// verified here as the body streams, a trailer value of an aws-chunked body
// by the auth layer's decoder. Either way a mismatch fails the body's final
// Read, so the store commits nothing.
type putBody struct {
	io.Reader
	size int64
	md5  []byte
	// sums returns the checksums to store once the body reached EOF; nil
	// when the request named no algorithm.
	sums func() map[string]string
	// algo is the checksum algorithm the request named, "" if none.
	algo string
}

// newPutBody builds the put-body pipeline of a request whose signature was
// verified (so r.ContentLength is the decoded length of an aws-chunked body).
func newPutBody(r *http.Request) (*putBody, error) {
	// A body sent with Transfer-Encoding: chunked has no declared length;
	// S3 refuses it, RGW (and so scripts written for it) accept it.
	if r.ContentLength < 0 && !slices.Contains(r.TransferEncoding, "chunked") {
		return nil, s3err.MissingContentLength
	}
	if r.ContentLength > maxPutSize {
		return nil, s3err.EntityTooLarge
	}
	q, err := checksum.ParseRequest(r.Header)
	if err != nil {
		return nil, err
	}
	b := &putBody{Reader: r.Body, size: r.ContentLength, md5: q.MD5, algo: q.Algorithm}
	switch {
	case q.Algorithm == "":
		return b, nil
	case q.Trailer && authDecodedTrailer(r.Header):
		// The auth layer's aws-chunked decoder already hashes the body
		// and fails the read with BadDigest on a trailer mismatch; hashing
		// again here would only repeat that work.
		name := checksum.HeaderName(q.Algorithm)
		b.sums = func() map[string]string {
			if v := r.Trailer.Get(name); v != "" {
				return map[string]string{q.Algorithm: v}
			}
			return nil
		}
		return b, nil
	}
	h, err := checksum.New(q.Algorithm)
	if err != nil {
		return nil, err
	}
	v := &checksumVerifier{src: r.Body, algo: q.Algorithm, h: h, want: q.Value, late: trailerChecksum(r, q)}
	b.Reader, b.sums = v, v.result
	return b, nil
}

// checksumVerifier hashes a body with one algorithm as it streams and, at
// EOF, compares the result with the value from the header or the trailer;
// on a mismatch Read returns BadDigest instead of io.EOF, so the store never
// commits the body. It exists besides checksum.Reader because that one
// always hashes md5 too, which the store already does for the ETag: on the
// PUT path that would be a second md5 pass over every byte.
type checksumVerifier struct {
	src  io.Reader
	algo string
	h    hash.Hash
	want string                            // from the header, or ""
	late func() (map[string]string, error) // the trailer value, or nil
	err  error                             // sticky: io.EOF or the verification error
	sum  string
}

func (v *checksumVerifier) Read(p []byte) (int, error) {
	if v.err != nil {
		return 0, v.err
	}
	n, err := v.src.Read(p)
	v.h.Write(p[:n])
	if err == io.EOF {
		err = v.finish()
	}
	if err != nil {
		v.err = err
	}
	return n, err
}

func (v *checksumVerifier) finish() error {
	v.sum = checksum.Encode(v.h.Sum(nil))
	want := v.want
	if v.late != nil {
		m, err := v.late()
		if err != nil {
			return err
		}
		want = m[v.algo]
	}
	if want != "" && want != v.sum {
		return checksum.MismatchError(v.algo)
	}
	return io.EOF
}

// result is the store's Checksums callback: the verified (or, for an
// algorithm named without a value, computed) checksum.
func (v *checksumVerifier) result() map[string]string {
	if v.sum == "" {
		return nil
	}
	return map[string]string{v.algo: v.sum}
}

// putOptions returns the store options for writing the body.
func (b *putBody) putOptions(meta store.Metadata, owner string) store.PutOptions {
	return store.PutOptions{Meta: meta, Size: b.size, ContentMD5: b.md5, Checksums: b.sums, Owner: owner}
}

// partOptions returns the store options for writing the body as a part.
func (b *putBody) partOptions() store.PartOptions {
	return store.PartOptions{Size: b.size, ContentMD5: b.md5, Checksums: b.sums}
}

// authDecodedTrailer reports whether the body is an aws-chunked stream with
// trailers, which auth.Verifier decodes and whose trailer checksums it
// verifies.
func authDecodedTrailer(h http.Header) bool {
	p := h.Get("X-Amz-Content-Sha256")
	return strings.HasPrefix(p, "STREAMING-") && strings.HasSuffix(p, "-TRAILER")
}

// trailerChecksum returns the checksum value an aws-chunked trailer
// carries. The auth layer fills r.Trailer when the decoded body ends, which
// is exactly when the checksum reader asks.
func trailerChecksum(r *http.Request, q checksum.Request) func() (map[string]string, error) {
	if !q.Trailer {
		return nil
	}
	name := checksum.HeaderName(q.Algorithm)
	return func() (map[string]string, error) {
		v := r.Trailer.Get(name)
		if v == "" {
			return nil, s3err.InvalidRequest.WithMessage("The %s trailer was announced in x-amz-trailer but not sent.", name)
		}
		if _, err := checksum.Decode(q.Algorithm, v); err != nil {
			return nil, checksum.InvalidTrailerError(q.Algorithm)
		}
		return map[string]string{q.Algorithm: v}, nil
	}
}

// readVerifiedBody reads a small request document and verifies its
// Content-MD5 or x-amz-checksum-* value. S3 requires one of them for some
// operations (DeleteObjects); required makes their absence InvalidRequest.
func readVerifiedBody(r *http.Request, limit int64, required bool) ([]byte, error) {
	q, err := checksum.ParseRequest(r.Header)
	if err != nil {
		return nil, err
	}
	if required && q.MD5 == nil && q.Value == "" && !q.Trailer {
		return nil, s3err.InvalidRequest.WithMessage("Missing required header for this request: Content-MD5")
	}
	var algos []string
	if q.Algorithm != "" {
		algos = []string{q.Algorithm}
	}
	cr, err := checksum.NewReader(r.Body, checksum.ReaderOptions{
		MD5: q.MD5, Algorithms: algos, Expected: q.Expected(), ExpectedAtEOF: trailerChecksum(r, q),
	})
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(cr, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, s3err.MaxMessageLengthExceeded
	}
	return body, nil
}

// peekVerifiedBody reads a small body as readVerifiedBody does, for a step
// that runs before the handler (a policy condition on a PutObjectTagging's
// tags), and puts it back: the handler then reads the same bytes, or fails
// with the same error.
func peekVerifiedBody(r *http.Request, limit int64) ([]byte, error) {
	body, err := readVerifiedBody(r, limit, false)
	if err != nil {
		r.Body = io.NopCloser(failingReader{err})
		return nil, err
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

// failingReader fails every Read with err.
type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }
