package checksum

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"hash"
	"io"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// ReaderOptions configures a verifying Reader.
type ReaderOptions struct {
	// MD5 is the expected md5 digest (decoded Content-MD5); nil skips the check.
	MD5 []byte
	// Algorithms lists extra checksums to compute besides md5. Algorithms
	// named in Expected are computed whether listed or not.
	Algorithms []string
	// Expected maps algorithm → expected base64 value, known up front.
	Expected map[string]string
	// ExpectedAtEOF, if set, is called once when the underlying reader hits
	// EOF and returns more expected values (algorithm → base64). It is meant
	// for values that arrive in trailers. Its algorithms must be among those
	// computed (Algorithms or Expected); an error it returns is returned from
	// Read.
	ExpectedAtEOF func() (map[string]string, error)
}

// Reader passes a body through while computing its md5 and checksums. At EOF
// it compares them with the expected values and, on a mismatch, returns the
// S3 error from Read in place of io.EOF, so a consumer that commits only on
// io.EOF never stores a corrupt body.
type Reader struct {
	r      io.Reader
	md5    hash.Hash
	algos  []string
	hashes []hash.Hash
	opts   ReaderOptions
	n      int64
	err    error // sticky: io.EOF or the verification error
	sums   map[string]string
	md5Sum []byte
}

// NewReader returns a Reader over r. It fails only for an unknown algorithm.
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	cr := &Reader{r: r, md5: md5.New(), opts: opts}
	add := func(algo string) error {
		for _, a := range cr.algos {
			if a == algo {
				return nil
			}
		}
		h, err := New(algo)
		if err != nil {
			return err
		}
		cr.algos = append(cr.algos, algo)
		cr.hashes = append(cr.hashes, h)
		return nil
	}
	for _, a := range opts.Algorithms {
		if err := add(a); err != nil {
			return nil, err
		}
	}
	// Map iteration order does not matter: add dedups and Checksums is a map.
	for a := range opts.Expected {
		if err := add(a); err != nil {
			return nil, err
		}
	}
	return cr, nil
}

// Read implements io.Reader.
func (cr *Reader) Read(p []byte) (int, error) {
	if cr.err != nil {
		return 0, cr.err
	}
	n, err := cr.r.Read(p)
	if n > 0 {
		cr.n += int64(n)
		cr.md5.Write(p[:n])
		for _, h := range cr.hashes {
			h.Write(p[:n])
		}
	}
	if err == io.EOF {
		err = cr.finish()
	}
	if err != nil {
		cr.err = err
	}
	return n, err
}

// finish computes the final sums and checks them; it returns io.EOF if all
// match.
func (cr *Reader) finish() error {
	cr.md5Sum = cr.md5.Sum(nil)
	cr.sums = make(map[string]string, len(cr.algos))
	for i, a := range cr.algos {
		cr.sums[a] = Encode(cr.hashes[i].Sum(nil))
	}
	if cr.opts.MD5 != nil && !bytes.Equal(cr.opts.MD5, cr.md5Sum) {
		return s3err.BadDigest
	}
	if err := cr.check(cr.opts.Expected); err != nil {
		return err
	}
	if cr.opts.ExpectedAtEOF != nil {
		late, err := cr.opts.ExpectedAtEOF()
		if err != nil {
			return err
		}
		if err := cr.check(late); err != nil {
			return err
		}
	}
	return io.EOF
}

func (cr *Reader) check(expected map[string]string) error {
	for algo, want := range expected {
		got, ok := cr.sums[algo]
		if !ok {
			// The value arrived for an algorithm nobody computed: treat it as
			// a mismatch rather than silently accepting it.
			if !Supported(algo) {
				return s3err.InvalidRequest.WithMessage("The checksum algorithm %s is not supported.", algo)
			}
			return MismatchError(algo)
		}
		if got != want {
			return MismatchError(algo)
		}
	}
	return nil
}

// Size returns the number of bytes read so far.
func (cr *Reader) Size() int64 { return cr.n }

// MD5 returns the md5 digest of the body once Read has reached EOF (even a
// failing one), nil before.
func (cr *Reader) MD5() []byte { return cr.md5Sum }

// ETag returns the hex md5 of the body (the S3 ETag of a single-part
// object, without quotes), "" before EOF.
func (cr *Reader) ETag() string {
	if cr.md5Sum == nil {
		return ""
	}
	return hex.EncodeToString(cr.md5Sum)
}

// Checksums returns the computed checksums (algorithm → base64) once Read
// has reached EOF, nil before. The map must not be modified.
func (cr *Reader) Checksums() map[string]string { return cr.sums }
