package auth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"hash"
	"io"
	"net/http"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// maxHashedBodySize bounds the body Verify buffers, before the signature is
// checked, to hash it for services that sign a body hash without sending it.
// SNS's own limits (a 256 KiB message, a 30 KiB policy) bound real forms;
// anyone who knows an access key can make the server buffer this much per
// connection, so it is no larger.
const maxHashedBodySize = 256 << 10

// hashAndRestoreBody reads the whole (small) body, returns its hex sha256,
// and puts an equivalent reader back in r.Body for the handler.
func hashAndRestoreBody(r *http.Request) (string, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return emptySHA256, nil
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxHashedBodySize+1))
	r.Body.Close()
	if err != nil {
		return "", s3err.IncompleteBody.WithCause(err)
	}
	if len(data) > maxHashedBodySize {
		return "", s3err.MaxMessageLengthExceeded
	}
	r.Body = io.NopCloser(bytes.NewReader(data))
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}

// wrapBody installs the payload verifier the signed payload value calls for.
func wrapBody(r *http.Request, payload string, sig *v4Sig, key *[32]byte, amzDate string) error {
	switch payload {
	case unsignedPayload:
		return nil
	case streamingSigned:
		return wrapChunked(r, chunkSigned, sig, key, amzDate)
	case streamingSignedTrailer:
		return wrapChunked(r, chunkSignedTrailer, sig, key, amzDate)
	case streamingUnsignedTrailer:
		return wrapChunked(r, chunkUnsignedTrailer, sig, key, amzDate)
	}
	var want [32]byte
	decodeHex32(&want, payload) // validated by the caller
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		if payload != emptySHA256 {
			return s3err.XAmzContentSHA256Mismatch
		}
		return nil
	}
	r.Body = &sha256Body{rc: r.Body, h: sha256.New(), want: want}
	return nil
}

// sha256Body checks the x-amz-content-sha256 hash of a body as it streams.
type sha256Body struct {
	rc   io.ReadCloser
	h    hash.Hash
	want [32]byte
	err  error
}

func (b *sha256Body) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	b.h.Write(p[:n])
	switch err {
	case io.ErrUnexpectedEOF:
		err = s3err.IncompleteBody.WithCause(err)
	case io.EOF:
		var got [32]byte
		if subtle.ConstantTimeCompare(b.h.Sum(got[:0]), b.want[:]) != 1 {
			err = s3err.XAmzContentSHA256Mismatch
		}
	}
	if err != nil {
		b.err = err
	}
	return n, err
}

func (b *sha256Body) Close() error { return b.rc.Close() }
