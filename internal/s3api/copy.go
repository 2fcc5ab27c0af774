package s3api

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// maxCopySourceSize is the largest object CopyObject copies in one request.
const maxCopySourceSize = maxPutSize

// copyAttempts bounds the retries of a copy whose source changed between
// reading its metadata and copying its data.
const copyAttempts = 3

// errSourceChanged aborts a store copy whose source is no longer the
// version whose metadata the request was built from.
var errSourceChanged = errors.New("s3api: copy source changed")

// checksumResult carries the checksum fields of the copy result documents.
type checksumResult struct {
	ChecksumCRC32     string `xml:"ChecksumCRC32,omitempty"`
	ChecksumCRC32C    string `xml:"ChecksumCRC32C,omitempty"`
	ChecksumCRC64NVME string `xml:"ChecksumCRC64NVME,omitempty"`
	ChecksumSHA1      string `xml:"ChecksumSHA1,omitempty"`
	ChecksumSHA256    string `xml:"ChecksumSHA256,omitempty"`
}

func checksumFields(sums map[string]string) checksumResult {
	return checksumResult{
		ChecksumCRC32:     sums[store.ChecksumCRC32],
		ChecksumCRC32C:    sums[store.ChecksumCRC32C],
		ChecksumCRC64NVME: sums[store.ChecksumCRC64NVME],
		ChecksumSHA1:      sums[store.ChecksumSHA1],
		ChecksumSHA256:    sums[store.ChecksumSHA256],
	}
}

// copyObjectResult is the answer of CopyObject.
type copyObjectResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
	checksumResult
}

// parseCopySource reads x-amz-copy-source: "[/]bucket/key[?versionId=v]",
// URL-encoded. The bucket resolves as a path's does (tenancy.go): "t2:b"
// and ":b" name a tenant, a plain name is in callerTenant.
func parseCopySource(h http.Header, callerTenant string) (store.CopySource, error) {
	bad := s3err.InvalidArgument.WithMessage("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	raw, query, _ := strings.Cut(h.Get("X-Amz-Copy-Source"), "?")
	p, err := url.PathUnescape(raw)
	if err != nil {
		return store.CopySource{}, bad
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if bucket == "" || key == "" {
		return store.CopySource{}, bad
	}
	if bucket, err = QualifyBucket(bucket, callerTenant, false); err != nil {
		return store.CopySource{}, err
	}
	src := store.CopySource{Bucket: bucket, Key: key}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return src, bad
		}
		if v, ok := q["versionId"]; ok {
			if v[0] == "" {
				return src, s3err.InvalidArgument.WithMessage("Version id cannot be the empty string")
			}
			src.VersionID = v[0]
		}
	}
	return src, nil
}

// directive reads x-amz-metadata-directive or x-amz-tagging-directive:
// true for REPLACE, false for COPY (the default).
func directive(h http.Header, name string) (bool, error) {
	switch v := h.Get(name); v {
	case "", "COPY":
		return false, nil
	case "REPLACE":
		return true, nil
	default:
		return false, s3err.InvalidArgument.WithMessage("Unknown %s value %q", strings.ToLower(name), v)
	}
}

// copyRequest is a parsed CopyObject request.
type copyRequest struct {
	src                      store.CopySource
	replaceMeta, replaceTags bool
	meta                     store.Metadata // from the request's headers
	cond                     conditions
}

func parseCopyRequest(h http.Header, callerTenant string) (copyRequest, error) {
	var c copyRequest
	var err error
	if c.src, err = parseCopySource(h, callerTenant); err != nil {
		return c, err
	}
	if c.replaceMeta, err = directive(h, "X-Amz-Metadata-Directive"); err != nil {
		return c, err
	}
	if c.replaceTags, err = directive(h, "X-Amz-Tagging-Directive"); err != nil {
		return c, err
	}
	if c.meta, err = parseMetadata(h); err != nil {
		return c, err
	}
	c.cond = copySourceConditions(h)
	return c, nil
}

// isIllegalSelfCopy reports S3's refusal to copy an object onto itself
// without changing anything. Copying a named version onto the key is how
// an old version is restored, so it is allowed.
func (c copyRequest) isIllegalSelfCopy(bucket, key string, h http.Header) bool {
	return c.src.Bucket == bucket && c.src.Key == key && c.src.VersionID == "" &&
		!c.replaceMeta && c.meta.StorageClass == "" &&
		h.Get("X-Amz-Website-Redirect-Location") == "" &&
		h.Get("X-Amz-Server-Side-Encryption") == ""
}

// destMeta builds the destination's metadata from the source's: the
// directives choose between source and request for metadata and tags; the
// ACL is always the request's (private by default) and the storage class
// the request's when given, as in S3.
func (c copyRequest) destMeta(src store.Metadata) store.Metadata {
	m := src
	if c.replaceMeta {
		m = c.meta
		m.Checksums, m.ChecksumType = src.Checksums, src.ChecksumType
	}
	m.Tags = src.Tags
	if c.replaceTags {
		m.Tags = c.meta.Tags
	}
	m.ACL = c.meta.ACL
	if c.meta.StorageClass != "" {
		m.StorageClass = c.meta.StorageClass
	}
	if m.ChecksumType == "COMPOSITE" {
		// A composite checksum describes the source's parts; the copy is
		// one part, so the value would be wrong for it.
		m.Checksums, m.ChecksumType = nil, ""
	}
	return m
}

// copyObject copies a version server-side. The source's metadata is read
// first, so the store always receives the complete destination metadata;
// the store's Check then makes sure it copies that same version.
func (a *API) copyObject(w http.ResponseWriter, r *http.Request, req *Request) error {
	c, err := parseCopyRequest(r.Header, req.callerTenant())
	if err != nil {
		return err
	}
	if c.meta.ACL, err = a.checkGrants(r.Context(), c.meta.ACL); err != nil {
		return err
	}
	if c.isIllegalSelfCopy(req.Bucket, req.Key, r.Header) {
		return s3err.InvalidRequest.WithMessage("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	dstBucket := req.auth.bucket
	owner, err := objectWriteOwner(dstBucket, req.Identity.UserID, r.Header) // ownership.go
	if err != nil {
		return err
	}
	dst, err := a.writeSSE(r, dstBucket) // sse.go
	if err != nil {
		return err
	}
	var oi, src store.ObjectInfo
	for range copyAttempts {
		if src, err = a.readCopySource(r, req, c.src, c.cond); err != nil {
			return err
		}
		if src.Size > maxCopySourceSize {
			return s3err.InvalidRequest.WithMessage("The specified copy source is larger than the maximum allowable size for a copy source: %d", maxCopySourceSize)
		}
		meta := c.destMeta(src.Meta)
		if err := applyObjectLock(dstBucket, r.Header, &meta, time.Now()); err != nil {
			return err
		}
		if needsReencryption(src, dst) { // sse_copy.go
			oi, err = a.copyEncrypted(r, req, c.src, src, meta, dst)
		} else {
			oi, err = a.store.CopyObject(r.Context(), c.src, req.Bucket, req.Key, store.CopyOptions{
				ReplaceMeta: true, Meta: meta, ReplaceTags: true,
				Owner: owner, Check: sameVersion(src),
			})
		}
		if !errors.Is(err, errSourceChanged) {
			break
		}
	}
	if err != nil {
		return err
	}
	h := w.Header()
	if src.VersionID != "" {
		h.Set("X-Amz-Copy-Source-Version-Id", src.VersionID)
	}
	setVersionHeaders(h, oi.VersionID, false)
	setSSEHeaders(h, oi.Meta.SSE)
	a.setExpirationHeader(h, &req.auth.bucket, &oi, "")
	return writeXML(w, copyObjectResult{
		Xmlns: s3Namespace, LastModified: isoTime(oi.LastModified), ETag: quoteETag(oi.ETag),
		checksumResult: checksumFields(oi.Meta.Checksums),
	})
}

// readCopySource reads the copy source's version, applies its ACL (the
// router authorized the source bucket, authorize.go) and checks the
// x-amz-copy-source-if-* conditions against it. Reading needs a source
// version whose ACL grants READ; only a caller who may list the source
// bucket learns that the source does not exist.
func (a *API) readCopySource(r *http.Request, req *Request, src store.CopySource, cond conditions) (store.ObjectInfo, error) {
	sg := req.auth.source
	oi, err := a.store.HeadObject(r.Context(), src.Bucket, src.Key, store.GetOptions{VersionID: src.VersionID})
	if err != nil && !sg.mayLearnMissing() || err == nil && !sg.allowsVersion(oi, req.Identity) {
		return store.ObjectInfo{}, s3err.AccessDenied
	}
	if err != nil {
		if errors.Is(err, store.ErrMethodNotAllowed) {
			// S3 refuses a delete marker named as copy source as invalid.
			return oi, s3err.InvalidRequest.WithMessage("The source of a copy request may not specifically refer to a delete marker by version id.")
		}
		return oi, err
	}
	return oi, cond.check(oi)
}

// sameVersion is the store's copy Check: the version copied must be the one
// the destination's metadata was built from.
func sameVersion(want store.ObjectInfo) func(store.ObjectInfo) error {
	return func(got store.ObjectInfo) error {
		if got.VersionID != want.VersionID || got.ETag != want.ETag || !got.LastModified.Equal(want.LastModified) {
			return errSourceChanged
		}
		return nil
	}
}
