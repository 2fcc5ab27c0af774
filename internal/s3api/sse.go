package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"errors"
	"hash"
	"io"
	"net/http"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/sse"
	"github.com/cairn-s3/cairn/internal/store"
)

// Server-side encryption, the S3 side: parsing the SSE headers, choosing
// the key-encryption key (customer key, SSE-S3 key, testing-KMS key) and
// plugging package sse's streaming readers into the put and get paths.
// Encryption preserves lengths, so the store's sizes, ranges and part
// boundaries are the plaintext's; the store only ever sees ciphertext.
//
// SSE-C is accepted over plain HTTP unless Config.SSECRequireTLS is set:
// RGW's default (rgw_crypt_require_ssl) refuses it, but the conformance
// suite runs over HTTP.

// SSE header names.
const (
	hdrSSE            = "X-Amz-Server-Side-Encryption"
	hdrSSEKMSKeyID    = "X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"
	hdrSSECPrefix     = "X-Amz-Server-Side-Encryption-Customer-"
	hdrCopySSECPrefix = "X-Amz-Copy-Source-Server-Side-Encryption-Customer-"
)

// SSE algorithms as they appear in headers and in store.SSEInfo.
const (
	sseAES256 = "AES256"
	sseKMS    = "aws:kms"
)

// customerKey is a validated SSE-C key from the request.
type customerKey struct {
	key []byte
	md5 string // base64, as sent and stored
}

// parseCustomerKey reads the SSE-C headers with the given prefix (the
// object's own or the copy source's); nil when none is present.
func parseCustomerKey(h http.Header, prefix string) (*customerKey, error) {
	algo, key, sum := h.Get(prefix+"Algorithm"), h.Get(prefix+"Key"), h.Get(prefix+"Key-Md5")
	if algo == "" && key == "" && sum == "" {
		return nil, nil
	}
	switch {
	case algo == "":
		return nil, s3err.InvalidArgument.WithMessage("Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.")
	case algo != sseAES256:
		return nil, s3err.InvalidEncryptionAlgorithmError.WithMessage("The encryption request you specified is not valid. Supported value: AES256.")
	case key == "":
		return nil, s3err.InvalidArgument.WithMessage("Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.")
	case sum == "":
		return nil, s3err.InvalidArgument.WithMessage("Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.")
	}
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil || len(k) != sse.KeySize {
		return nil, s3err.InvalidArgument.WithMessage("The secret key was invalid for the specified algorithm.")
	}
	got := md5.Sum(k)
	if base64.StdEncoding.EncodeToString(got[:]) != sum {
		return nil, s3err.InvalidArgument.WithMessage("The calculated MD5 hash of the key did not match the hash that was provided.")
	}
	return &customerKey{key: k, md5: sum}, nil
}

// sseRequest is the encryption a write asks for, from its headers or the
// bucket's default.
type sseRequest struct {
	algorithm string       // sseAES256 or sseKMS; "" for none
	kmsKeyID  string       // sseKMS
	customer  *customerKey // SSE-C (algorithm is then sseAES256)
}

// parseWriteSSE reads the encryption headers of a PUT, a copy destination
// or a new upload, and rejects the combinations S3 rejects.
func (a *API) parseWriteSSE(r *http.Request) (sseRequest, error) {
	return a.parseWriteSSEHeader(r.Header, r.TLS != nil)
}

// parseWriteSSEHeader is parseWriteSSE on headers that need not be the
// request's own: a POST form's fields stand for them. secure tells whether
// they came over TLS.
func (a *API) parseWriteSSEHeader(h http.Header, secure bool) (sseRequest, error) {
	ck, err := parseCustomerKey(h, hdrSSECPrefix)
	if err != nil {
		return sseRequest{}, err
	}
	algo, keyID := h.Get(hdrSSE), h.Get(hdrSSEKMSKeyID)
	switch {
	case ck != nil && (algo != "" || keyID != ""):
		return sseRequest{}, s3err.InvalidArgument.WithMessage("Server Side Encryption with Customer provided key is incompatible with the encryption method specified")
	case ck != nil:
		if a.cfg.SSECRequireTLS && !secure {
			return sseRequest{}, s3err.InvalidRequest.WithMessage("Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")
		}
		return sseRequest{algorithm: sseAES256, customer: ck}, nil
	case algo == "" && keyID != "":
		return sseRequest{}, s3err.InvalidArgument.WithMessage("Server Side Encryption with KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")
	case algo == "":
		return sseRequest{}, nil
	case algo == sseAES256 && keyID != "":
		return sseRequest{}, s3err.InvalidArgument.WithMessage("Server Side Encryption with AWS KMS managed key is incompatible with the encryption method specified")
	case algo == sseAES256:
		return sseRequest{algorithm: sseAES256}, nil
	case algo == sseKMS && keyID == "":
		return sseRequest{}, s3err.InvalidArgument.WithMessage("Server Side Encryption with KMS managed key requires a key id (x-amz-server-side-encryption-aws-kms-key-id); this server has no default KMS key.")
	case algo == sseKMS:
		return sseRequest{algorithm: sseKMS, kmsKeyID: keyID}, nil
	}
	return sseRequest{}, s3err.InvalidArgument.WithMessage("The encryption method specified is not supported")
}

// writeSSE is the encryption a write gets: the request's, or else the
// bucket's default.
func (a *API) writeSSE(r *http.Request, b store.Bucket) (sseRequest, error) {
	return a.writeSSEHeader(r.Header, r.TLS != nil, b)
}

// writeSSEHeader is writeSSE on headers that need not be the request's own
// (see parseWriteSSEHeader).
func (a *API) writeSSEHeader(h http.Header, secure bool, b store.Bucket) (sseRequest, error) {
	q, err := a.parseWriteSSEHeader(h, secure)
	if err != nil || q.algorithm != "" {
		return q, err
	}
	return bucketDefaultSSE(b), nil
}

// kek returns the key-encryption key of an encryption mode, and the
// context its data keys are wrapped with.
func (a *API) kek(algorithm, kmsKeyID string, ck *customerKey) (kek, context []byte, err error) {
	switch {
	case ck != nil:
		return ck.key, []byte("SSE-C"), nil
	case a.cfg.SSE == nil:
		return nil, nil, s3err.NotImplemented.WithMessage("Server-side encryption is not configured on this server.")
	case algorithm == sseKMS:
		return a.cfg.SSE.KMSKey(kmsKeyID), []byte("SSE-KMS\x00" + kmsKeyID), nil
	default:
		return a.cfg.SSE.S3Key(), []byte("SSE-S3"), nil
	}
}

// newSSE creates the encryption of a new object or upload: a fresh data
// key, wrapped, described for the store. It returns nil for a write that
// asked for no encryption.
func (a *API) newSSE(q sseRequest) (*store.SSEInfo, []byte, error) {
	if q.algorithm == "" {
		return nil, nil, nil
	}
	kek, context, err := a.kek(q.algorithm, q.kmsKeyID, q.customer)
	if err != nil {
		return nil, nil, err
	}
	dk := sse.NewDataKey()
	wrapped, err := sse.Wrap(kek, dk, context)
	if err != nil {
		return nil, nil, err
	}
	info := &store.SSEInfo{Algorithm: q.algorithm, KMSKeyID: q.kmsKeyID, WrappedKey: wrapped}
	if q.customer != nil {
		info.Customer, info.KeyMD5 = true, q.customer.md5
	}
	return info, dk, nil
}

// openSSE checks that a request may read an encrypted object (an SSE-C
// object needs its key, other objects must not be sent one) and returns
// the object's data key; nil for plaintext objects.
func (a *API) openSSE(info *store.SSEInfo, ck *customerKey) ([]byte, error) {
	if info == nil {
		if ck != nil {
			return nil, s3err.InvalidRequest.WithMessage("The encryption parameters are not applicable to this object.")
		}
		return nil, nil
	}
	if info.Customer {
		if ck == nil {
			return nil, s3err.InvalidRequest.WithMessage("The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.")
		}
		if ck.md5 != info.KeyMD5 {
			return nil, s3err.InvalidArgument.WithMessage("The provided encryption key does not match the key the object was stored with.")
		}
	} else if ck != nil {
		return nil, s3err.InvalidRequest.WithMessage("The encryption parameters are not applicable to this object.")
	}
	kek, context, err := a.kek(info.Algorithm, info.KMSKeyID, ck)
	if err != nil {
		return nil, err
	}
	dk, err := sse.Unwrap(kek, info.WrappedKey, context)
	if errors.Is(err, sse.ErrWrongKey) {
		return nil, s3err.InvalidArgument.WithMessage("The provided encryption key does not match the key the object was stored with.")
	}
	return dk, err
}

// parseReadSSE reads the SSE headers of a GET or HEAD: only SSE-C keys
// may be sent; naming a server-side mode is an error, as in S3.
func parseReadSSE(h http.Header) (*customerKey, error) {
	if h.Get(hdrSSE) != "" || h.Get(hdrSSEKMSKeyID) != "" {
		return nil, s3err.InvalidArgument.WithMessage("x-amz-server-side-encryption header is not supported for this operation.")
	}
	return parseCustomerKey(h, hdrSSECPrefix)
}

// setSSEHeaders echoes an object's or upload's encryption on a response.
func setSSEHeaders(h http.Header, info *store.SSEInfo) {
	switch {
	case info == nil:
	case info.Customer:
		h.Set(hdrSSECPrefix+"Algorithm", info.Algorithm)
		h.Set(hdrSSECPrefix+"Key-Md5", info.KeyMD5)
	default:
		h.Set(hdrSSE, info.Algorithm)
		if info.KMSKeyID != "" {
			h.Set(hdrSSEKMSKeyID, info.KMSKeyID)
		}
	}
}

// segments lists the independently encrypted runs of an object.
func segments(oi store.ObjectInfo) ([]sse.Segment, error) {
	info := oi.Meta.SSE
	if len(oi.Parts) == 0 {
		n, err := sse.DecodeNonce(info.Nonce)
		if err != nil && oi.Size > 0 {
			return nil, err
		}
		return []sse.Segment{{Size: oi.Size, Nonce: n}}, nil
	}
	segs := make([]sse.Segment, len(oi.Parts))
	for i, p := range oi.Parts {
		n, err := sse.DecodeNonce(p.SSENonce)
		if err != nil && p.Size > 0 {
			return nil, err
		}
		segs[i] = sse.Segment{Size: p.Size, Nonce: n}
	}
	return segs, nil
}

// decryptBody wraps the store's reader of an object's bytes from offset
// with decryption; plaintext objects pass through. On error it closes body.
func decryptBody(oi store.ObjectInfo, dataKey []byte, offset int64, body io.ReadCloser) (io.ReadCloser, error) {
	if oi.Meta.SSE == nil {
		return body, nil
	}
	segs, err := segments(oi)
	if err == nil {
		var rd io.Reader
		if rd, err = sse.NewSegmentsReader(body, dataKey, segs, offset); err == nil {
			return readCloser{rd, body}, nil
		}
	}
	body.Close()
	return nil, err
}

type readCloser struct {
	io.Reader
	io.Closer
}

// plainHasher hashes the plaintext of a segment as it streams to the
// encrypting reader. The md5 of the plaintext becomes the ETag (as in S3,
// whose ETag of an SSE-S3 object is the md5 of its content, and so that a
// re-uploaded identical part keeps its ETag although its nonce changes),
// and Content-MD5, which describes the plaintext, is verified here rather
// than by the store, which sees ciphertext: a mismatch fails the final Read
// with BadDigest and the store commits nothing.
type plainHasher struct {
	src  io.Reader
	md5  hash.Hash
	want []byte // Content-MD5, or nil
	sum  []byte // set at EOF
}

func (e *plainHasher) Read(p []byte) (int, error) {
	n, err := e.src.Read(p)
	e.md5.Write(p[:n])
	if err == io.EOF {
		e.sum = e.md5.Sum(nil)
		if e.want != nil && !bytes.Equal(e.sum, e.want) {
			return n, s3err.BadDigest
		}
	}
	return n, err
}

// encrypted is a segment being encrypted for the store.
type encrypted struct {
	io.Reader               // the ciphertext
	nonce     string        // the segment's nonce, encoded for the store
	md5       func() []byte // the plaintext's md5, for the store's MD5 option
}

// encryptSegment starts encrypting a plaintext body that carries
// contentMD5 (nil if none) under a fresh nonce.
func encryptSegment(body io.Reader, dataKey, contentMD5 []byte) (encrypted, error) {
	src := &plainHasher{src: body, md5: md5.New(), want: contentMD5}
	nonce := sse.NewNonce()
	rd, err := sse.NewReader(src, dataKey, nonce, 0)
	return encrypted{Reader: rd, nonce: sse.EncodeNonce(nonce), md5: func() []byte { return src.sum }}, err
}

// encryptPut applies the request's (or the bucket's default) encryption
// to a PutObject: it records the encryption in opts and returns the reader
// the store must consume instead of body.
func (a *API) encryptPut(r *http.Request, b store.Bucket, body io.Reader, opts *store.PutOptions) (io.Reader, error) {
	q, err := a.writeSSE(r, b)
	if err != nil {
		return nil, err
	}
	return a.encryptObject(q, body, opts)
}

// encryptObject applies the encryption q (none if q asks for none) to the
// body of a new object, as encryptPut does.
func (a *API) encryptObject(q sseRequest, body io.Reader, opts *store.PutOptions) (io.Reader, error) {
	info, dk, err := a.newSSE(q)
	if err != nil || info == nil {
		return body, err
	}
	enc, err := encryptSegment(body, dk, opts.ContentMD5)
	if err != nil {
		return nil, err
	}
	info.Nonce = enc.nonce
	opts.Meta.SSE, opts.ContentMD5, opts.MD5 = info, nil, enc.md5
	return enc, nil
}
