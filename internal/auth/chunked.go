package auth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"hash"
	"io"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/cairn-s3/cairn/internal/checksum"
	"github.com/cairn-s3/cairn/internal/s3err"
)

// chunkMode is the flavour of aws-chunked body, from x-amz-content-sha256.
type chunkMode uint8

const (
	// chunkSigned: "<hex>;chunk-signature=<sig>\r\n<data>\r\n" ending with an
	// empty signed chunk and "\r\n".
	chunkSigned chunkMode = iota
	// chunkSignedTrailer: as chunkSigned, then trailer lines and a trailer
	// signature "x-amz-trailer-signature:<sig>\r\n", then "\r\n".
	chunkSignedTrailer
	// chunkUnsignedTrailer: "<hex>\r\n<data>\r\n" ... "0\r\n", trailer lines,
	// "\r\n". Integrity comes from the trailer checksum alone.
	chunkUnsignedTrailer
)

const (
	maxChunkLine    = 4096 // longest chunk header or trailer line
	maxTrailerLines = 32
	chunkBufSize    = 16 << 10
	sigExt          = "chunk-signature="
	trailerSigName  = "x-amz-trailer-signature"
)

// errFraming is the error for a body that is not valid aws-chunked encoding.
func errFraming(what string) *s3err.Error {
	return s3err.InvalidRequest.WithMessage("Invalid aws-chunked encoding: %s.", what)
}

// errShortBody is the error for a body that ends before its framing does.
var errShortBody = s3err.IncompleteBody.WithMessage("The request body terminated unexpectedly")

// trailerCheck is a checksum trailer declared in x-amz-trailer, with the
// hash that is computed over the decoded data to check it.
type trailerCheck struct {
	name string // lower case, e.g. x-amz-checksum-crc32
	algo string // empty for trailers that are not checksums
	h    hash.Hash
}

// wrapChunked replaces r.Body with an aws-chunked decoder.
func wrapChunked(r *http.Request, mode chunkMode, sig *v4Sig, key *[32]byte, amzDate string) error {
	dl := r.Header.Get("X-Amz-Decoded-Content-Length")
	if dl == "" {
		return s3err.MissingContentLength.WithMessage("You must provide the x-amz-decoded-content-length HTTP header for aws-chunked uploads.")
	}
	declared, err := strconv.ParseInt(dl, 10, 64)
	if err != nil || declared < 0 {
		return s3err.InvalidArgument.WithMessage("The x-amz-decoded-content-length header is invalid.")
	}
	var checks []trailerCheck
	if mode != chunkSigned {
		for _, tr := range r.Header.Values("X-Amz-Trailer") {
			for name := range strings.SplitSeq(tr, ",") {
				name = strings.ToLower(strings.TrimSpace(name))
				if name == "" {
					continue
				}
				tc := trailerCheck{name: name}
				if strings.HasPrefix(name, checksum.HeaderPrefix) {
					algo, ok := checksum.FromHeaderName(name)
					if !ok {
						return s3err.InvalidRequest.WithMessage("The value specified in the x-amz-trailer header is not supported")
					}
					tc.algo = algo
					tc.h, _ = checksum.New(algo)
				}
				checks = append(checks, tc)
			}
		}
	}
	body := r.Body
	if body == nil {
		body = http.NoBody
	}
	c := &chunkedReader{
		src:      bufio.NewReaderSize(body, chunkBufSize),
		body:     body,
		mode:     mode,
		req:      r,
		declared: declared,
		checks:   checks,
	}
	if mode != chunkUnsignedTrailer {
		c.key, c.amzDate, c.scope = *key, amzDate, sig.scope
		appendHex(c.prev[:0], sig.signature[:])
		c.chunkHash = sha256.New()
	}
	if len(checks) > 0 {
		// As net/http does: the keys are known before the body is read, the
		// values only after.
		r.Trailer = make(http.Header, len(checks))
		for _, tc := range checks {
			r.Trailer[textproto.CanonicalMIMEHeaderKey(tc.name)] = nil
		}
	}
	r.ContentLength = declared
	stripAWSChunked(r.Header)
	r.Body = c
	return nil
}

// stripAWSChunked removes "aws-chunked" from Content-Encoding: it describes
// the transfer, not the object, and S3 does not store it.
func stripAWSChunked(h http.Header) {
	ce := h.Values("Content-Encoding")
	if len(ce) == 0 {
		return
	}
	var keep []string
	for _, v := range ce {
		for enc := range strings.SplitSeq(v, ",") {
			if enc = strings.TrimSpace(enc); enc != "" && !strings.EqualFold(enc, "aws-chunked") {
				keep = append(keep, enc)
			}
		}
	}
	if len(keep) == 0 {
		h.Del("Content-Encoding")
		return
	}
	h.Set("Content-Encoding", strings.Join(keep, ","))
}

// chunkedReader decodes an aws-chunked body, verifying chunk signatures,
// the trailer signature and trailer checksums. See the package comment for
// why chunk data is released before the chunk's signature is checked.
type chunkedReader struct {
	src  *bufio.Reader
	body io.Closer
	mode chunkMode
	req  *http.Request

	key       [32]byte
	amzDate   string
	scope     string
	prev      [64]byte // hex signature of the previous chunk (the seed first)
	want      [32]byte // signature of the current chunk
	chunkHash hash.Hash

	inData    bool
	remaining int64 // bytes left in the current chunk
	decoded   int64
	declared  int64

	checks []trailerCheck
	err    error // sticky; io.EOF once everything verified
}

// Read implements io.Reader.
func (c *chunkedReader) Read(p []byte) (int, error) {
	for c.err == nil {
		if !c.inData {
			c.err = c.nextChunk()
			continue
		}
		if len(p) == 0 {
			return 0, nil
		}
		n := len(p)
		if int64(n) > c.remaining {
			n = int(c.remaining)
		}
		n, err := c.src.Read(p[:n])
		if n > 0 {
			c.remaining -= int64(n)
			c.decoded += int64(n)
			if c.chunkHash != nil {
				c.chunkHash.Write(p[:n])
			}
			for _, tc := range c.checks {
				if tc.h != nil {
					tc.h.Write(p[:n])
				}
			}
		}
		switch {
		case c.remaining == 0:
			c.err = c.endChunk()
		case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
			c.err = errShortBody
		case err != nil:
			c.err = err
		}
		if n > 0 {
			return n, c.err
		}
	}
	return 0, c.err
}

// Close closes the underlying body.
func (c *chunkedReader) Close() error { return c.body.Close() }

// readLine returns the next CRLF-terminated line without its terminator.
// The slice is valid until the next read from src. It returns io.EOF if the
// body ends cleanly before the line starts, errShortBody if it ends inside.
// With lenient set a bare LF also ends a line: minio-go ends trailer lines
// that way.
func (c *chunkedReader) readLine(lenient bool) ([]byte, error) {
	line, err := c.src.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull) || len(line) > maxChunkLine:
		return nil, errFraming("line too long")
	case err == io.EOF && len(line) == 0:
		return nil, io.EOF
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, errShortBody
	case err != nil:
		return nil, err
	}
	line = line[:len(line)-1]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		return line[:len(line)-1], nil
	}
	if lenient {
		return line, nil
	}
	return nil, errFraming("line not terminated by CRLF")
}

// nextChunk reads a chunk header; after the last chunk it reads and checks
// the trailers and returns io.EOF if all is well.
func (c *chunkedReader) nextChunk() error {
	line, err := c.readLine(false)
	if err == io.EOF {
		return errShortBody
	}
	if err != nil {
		return err
	}
	sizeHex, ext, hasExt := bytes.Cut(line, []byte{';'})
	size, ok := parseChunkSize(sizeHex)
	if !ok {
		return errFraming("bad chunk size")
	}
	if c.mode != chunkUnsignedTrailer {
		sigHex, ok := bytes.CutPrefix(ext, []byte(sigExt))
		if !hasExt || !ok {
			return errFraming("missing chunk-signature")
		}
		if !decodeHex32(&c.want, string(sigHex)) {
			return s3err.SignatureDoesNotMatch
		}
	}
	if size > c.declared-c.decoded {
		return s3err.IncompleteBody.WithMessage("The aws-chunked body is longer than x-amz-decoded-content-length.")
	}
	if size == 0 {
		return c.finish()
	}
	c.remaining, c.inData = size, true
	if c.chunkHash != nil {
		c.chunkHash.Reset()
	}
	return nil
}

// parseChunkSize parses a hex chunk size of at most 15 digits (so it fits
// an int64 with room to spare).
func parseChunkSize(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, ch := range b {
		d, ok := unhex(ch)
		if !ok {
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}

// endChunk consumes the CRLF after chunk data and checks the chunk
// signature.
func (c *chunkedReader) endChunk() error {
	c.inData = false
	var crlf [2]byte
	if _, err := io.ReadFull(c.src, crlf[:]); err != nil {
		return errShortBody
	}
	if crlf != [2]byte{'\r', '\n'} {
		return errFraming("chunk data not followed by CRLF")
	}
	if c.chunkHash == nil {
		return nil
	}
	var sum [32]byte
	return c.checkChunkSig(c.chunkHash.Sum(sum[:0]))
}

// checkChunkSig verifies c.want against the chunk whose data hashes to
// sum, then chains: the next chunk is signed over this signature.
func (c *chunkedReader) checkChunkSig(sum []byte) error {
	s := getMAC()
	defer putMAC(s)
	buf := append(s.buf[:0], "AWS4-HMAC-SHA256-PAYLOAD\n"...)
	buf = append(buf, c.amzDate...)
	buf = append(buf, '\n')
	buf = append(buf, c.scope...)
	buf = append(buf, '\n')
	buf = append(buf, c.prev[:]...)
	buf = append(buf, '\n')
	buf = append(buf, emptySHA256+"\n"...)
	buf = appendHex(buf, sum)
	s.buf = buf
	return c.checkAndChain(s, buf)
}

func (c *chunkedReader) checkAndChain(s *macState, stringToSign []byte) error {
	var got [32]byte
	s.hmac(&got, c.key[:], stringToSign)
	if subtle.ConstantTimeCompare(got[:], c.want[:]) != 1 {
		return s3err.SignatureDoesNotMatch
	}
	appendHex(c.prev[:0], got[:])
	return nil
}

// finish handles everything after the last (empty) chunk header.
func (c *chunkedReader) finish() error {
	if c.mode != chunkUnsignedTrailer {
		var empty [32]byte
		decodeHex32(&empty, emptySHA256)
		if err := c.checkChunkSig(empty[:]); err != nil {
			return err
		}
	}
	if c.decoded != c.declared {
		return s3err.IncompleteBody.WithMessage("The aws-chunked body is shorter than x-amz-decoded-content-length.")
	}
	if c.mode == chunkSigned {
		// The closing CRLF; some clients leave it out, which is harmless once
		// the last chunk's signature has been checked.
		line, err := c.readLine(false)
		if err == io.EOF {
			return io.EOF
		}
		if err != nil {
			return err
		}
		if len(line) != 0 {
			return errFraming("data after the last chunk")
		}
		return io.EOF
	}
	return c.readTrailers()
}

// readTrailers reads "name:value" lines up to an empty line, verifies the
// trailer signature (signed mode) and the checksums, and publishes the
// values in req.Trailer.
func (c *chunkedReader) readTrailers() error {
	var (
		values    = make([]string, len(c.checks))
		seen      = make([]bool, len(c.checks))
		canonical []byte // "name:value\n" per trailer, what the signature covers
		trailSig  string
		haveSig   bool
	)
	for i := 0; ; i++ {
		line, err := c.readLine(true)
		if err == io.EOF {
			// A missing final CRLF is tolerated once everything that is
			// signed has been read.
			if c.mode == chunkUnsignedTrailer || haveSig {
				break
			}
			return errShortBody
		}
		if err != nil {
			return err
		}
		if i >= maxTrailerLines {
			return errFraming("too many trailers")
		}
		if len(line) == 0 {
			if c.mode == chunkSignedTrailer && !haveSig {
				continue // minio-go puts an empty line before the signature
			}
			break
		}
		name, value, ok := bytes.Cut(line, []byte{':'})
		if !ok {
			return errFraming("malformed trailer")
		}
		n := strings.ToLower(string(bytes.TrimSpace(name)))
		v := string(bytes.TrimSpace(value))
		if n == trailerSigName && c.mode == chunkSignedTrailer {
			if haveSig {
				return errFraming("repeated trailer signature")
			}
			trailSig, haveSig = v, true
			continue
		}
		if haveSig {
			return errFraming("trailer after the trailer signature")
		}
		idx := -1
		for j, tc := range c.checks {
			if tc.name == n {
				idx = j
			}
		}
		if idx < 0 {
			return s3err.InvalidRequest.WithMessage("The trailer %s was not declared in x-amz-trailer.", n)
		}
		if seen[idx] {
			return errFraming("repeated trailer " + n)
		}
		seen[idx], values[idx] = true, v
		canonical = append(append(append(append(canonical, n...), ':'), v...), '\n')
	}
	if c.mode == chunkSignedTrailer {
		if !haveSig {
			return errFraming("missing x-amz-trailer-signature")
		}
		if err := c.checkTrailerSig(trailSig, canonical); err != nil {
			return err
		}
	}
	for j, tc := range c.checks {
		if !seen[j] {
			return s3err.InvalidRequest.WithMessage("The trailer %s declared in x-amz-trailer was not sent.", tc.name)
		}
		if tc.h == nil {
			continue
		}
		if _, err := checksum.Decode(tc.algo, values[j]); err != nil {
			return checksum.InvalidTrailerError(tc.algo)
		}
		if checksum.Encode(tc.h.Sum(nil)) != values[j] {
			return checksum.MismatchError(tc.algo)
		}
	}
	for j, tc := range c.checks {
		c.req.Trailer[textproto.CanonicalMIMEHeaderKey(tc.name)] = []string{values[j]}
	}
	return io.EOF
}

// checkTrailerSig verifies the trailer signature, chained from the last
// chunk's signature over the sha256 of the canonical trailers.
func (c *chunkedReader) checkTrailerSig(sigHex string, canonical []byte) error {
	if !decodeHex32(&c.want, sigHex) {
		return s3err.SignatureDoesNotMatch
	}
	s := getMAC()
	defer putMAC(s)
	buf := append(s.buf[:0], "AWS4-HMAC-SHA256-TRAILER\n"...)
	buf = append(buf, c.amzDate...)
	buf = append(buf, '\n')
	buf = append(buf, c.scope...)
	buf = append(buf, '\n')
	buf = append(buf, c.prev[:]...)
	buf = append(buf, '\n')
	buf = s.sha256Hex(buf, canonical)
	s.buf = buf
	return c.checkAndChain(s, buf)
}
