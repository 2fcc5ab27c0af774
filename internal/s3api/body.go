package s3api

import (
	"io"
	"net/http"

	"github.com/cairn-s3/cairn/internal/checksum"
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
	q, err := checksum.ParseRequest(r.Header)
	if err != nil {
		return nil, err
	}
	b := &putBody{Reader: r.Body, size: r.ContentLength, md5: q.MD5}
	if q.Algorithm == "" {
		return b, nil
	}
	cr, err := checksum.NewReader(r.Body, checksum.ReaderOptions{
		Algorithms:    []string{q.Algorithm},
		Expected:      q.Expected(),
		ExpectedAtEOF: trailerChecksum(r, q),
	})
	if err != nil {
		return nil, err
	}
	b.Reader, b.sums = cr, cr.Checksums
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
