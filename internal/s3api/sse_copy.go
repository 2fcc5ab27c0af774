package s3api

import (
	"io"
	"net/http"

	"github.com/cairn-s3/cairn/internal/store"
)

// SSE on multipart uploads and copies. An upload's encryption (mode and
// wrapped data key) is chosen at creation and kept in the upload's
// metadata; every part is encrypted under the same data key with its own
// nonce (PartOptions.SSENonce), so the completed object decrypts across part
// boundaries. SSE-C uploads need the same customer key on every part and on
// completion, as in S3.

// uploadEncryption chooses the encryption of a new upload.
func (a *API) uploadEncryption(r *http.Request, b store.Bucket) (*store.SSEInfo, error) {
	q, err := a.writeSSE(r, b)
	if err != nil {
		return nil, err
	}
	info, _, err := a.newSSE(q)
	return info, err
}

// uploadSSE returns an upload (its encryption is Meta.SSE) and its data
// key (nil for a plaintext upload), checking the request's SSE-C key
// against it. Other SSE headers on parts are ignored: the upload's
// creation decided.
func (a *API) uploadSSE(r *http.Request, req *Request, uploadID string) (store.Upload, []byte, error) {
	ck, err := parseCustomerKey(r.Header, hdrSSECPrefix)
	if err != nil {
		return store.Upload{}, nil, err
	}
	page, err := a.store.ListParts(r.Context(), req.Bucket, req.Key, uploadID, store.ListPartsOptions{MaxParts: 1})
	if err != nil {
		return store.Upload{}, nil, err
	}
	dk, err := a.openSSE(page.Upload.Meta.SSE, ck)
	return page.Upload, dk, err
}

// encryptPart returns the reader the store must consume for a part of an
// upload with data key dk (nil: plaintext), recording the part's nonce.
func encryptPart(body io.Reader, dk []byte, opts *store.PartOptions) (io.Reader, error) {
	if dk == nil {
		return body, nil
	}
	enc, err := encryptSegment(body, dk, opts.ContentMD5)
	if err != nil {
		return nil, err
	}
	opts.SSENonce, opts.ContentMD5, opts.MD5 = enc.nonce, nil, enc.md5
	return enc, nil
}

// copySourceKey opens the data key of a copy source, with the
// x-amz-copy-source-server-side-encryption-customer-* key for SSE-C
// sources; nil for plaintext sources.
func (a *API) copySourceKey(h http.Header, src store.ObjectInfo) ([]byte, error) {
	ck, err := parseCustomerKey(h, hdrCopySSECPrefix)
	if err != nil {
		return nil, err
	}
	return a.openSSE(src.Meta.SSE, ck)
}

// needsReencryption reports whether a copy must go through the adapter
// (decrypt the source, encrypt for the destination) rather than the
// store's byte-for-byte copy.
func needsReencryption(src store.ObjectInfo, dst sseRequest) bool {
	return src.Meta.SSE != nil || dst.algorithm != ""
}

// copyEncrypted copies src (the version the request was checked against)
// to the request's key, streaming it through decryption and the
// destination's encryption into a new object with metadata meta.
func (a *API) copyEncrypted(r *http.Request, req *Request, cs store.CopySource, src store.ObjectInfo, meta store.Metadata, dst sseRequest) (store.ObjectInfo, error) {
	srcKey, err := a.copySourceKey(r.Header, src)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	info, dk, err := a.newSSE(dst)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	got, body, err := a.store.GetObject(r.Context(), cs.Bucket, cs.Key, store.GetOptions{
		VersionID: cs.VersionID,
		RangeFunc: func(got store.ObjectInfo) (*store.Range, error) { return nil, sameVersion(src)(got) },
	})
	if err != nil {
		return store.ObjectInfo{}, err
	}
	if body, err = decryptBody(got, srcKey, 0, body); err != nil {
		return store.ObjectInfo{}, err
	}
	defer body.Close()
	opts := store.PutOptions{Meta: meta, Size: got.Size, Owner: req.Identity.UserID}
	var data io.Reader = body
	if info != nil {
		enc, err := encryptSegment(body, dk, nil)
		if err != nil {
			return store.ObjectInfo{}, err
		}
		data, info.Nonce, opts.MD5 = enc, enc.nonce, enc.md5
	}
	opts.Meta.SSE = info
	return a.store.PutObject(r.Context(), req.Bucket, req.Key, data, opts)
}
