package s3api

import (
	"encoding/xml"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/checksum"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// maxPartNumber is the highest part number S3 accepts.
const maxPartNumber = 10000

// checksumAlgorithms lists the additional checksums in the order S3
// documents them.
var checksumAlgorithms = []string{
	store.ChecksumCRC32, store.ChecksumCRC32C, store.ChecksumCRC64NVME, store.ChecksumSHA1, store.ChecksumSHA256,
}

// uploadChecksumAlgorithm is the checksum algorithm an upload was created
// with. CreateMultipartUpload records it as a key of Meta.Checksums (with
// an empty value until completion computes the object's checksum).
func uploadChecksumAlgorithm(m store.Metadata) string {
	for _, a := range checksumAlgorithms {
		if _, ok := m.Checksums[a]; ok {
			return a
		}
	}
	return ""
}

// uploadMetadata collects the metadata of a new upload from its headers:
// what PutObject reads, plus the checksum algorithm and type.
func uploadMetadata(r *http.Request) (store.Metadata, error) {
	m, err := parseMetadata(r.Header)
	if err != nil {
		return m, err
	}
	algo, typ, err := checksum.ParseUpload(r.Header)
	if err != nil {
		return m, err
	}
	if algo != "" {
		m.Checksums = map[string]string{algo: ""}
		m.ChecksumType = typ
	}
	return m, nil
}

type initiateMultipartUploadResult struct {
	XMLName  xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ InitiateMultipartUploadResult"`
	Bucket   string
	Key      string
	UploadId string
}

func (a *API) createMultipartUpload(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	meta, err := uploadMetadata(r)
	if err != nil {
		return err
	}
	if err := applyObjectLock(b, r.Header, &meta, time.Now()); err != nil {
		return err
	}
	if meta.ACL, err = a.checkGrants(r.Context(), meta.ACL); err != nil {
		return err
	}
	owner, err := objectWriteOwner(b, req.Identity.UserID, r.Header) // ownership.go
	if err != nil {
		return err
	}
	if meta.SSE, err = a.uploadEncryption(r, b); err != nil { // sse_copy.go
		return err
	}
	u, err := a.store.CreateMultipartUpload(r.Context(), req.Bucket, req.Key, store.PutOptions{
		Meta: meta, Size: -1, Owner: owner,
	})
	if err != nil {
		return err
	}
	if algo := uploadChecksumAlgorithm(meta); algo != "" {
		w.Header().Set("X-Amz-Checksum-Algorithm", algo)
		w.Header().Set("X-Amz-Checksum-Type", meta.ChecksumType)
	}
	setSSEHeaders(w.Header(), meta.SSE)
	return writeXML(w, initiateMultipartUploadResult{Bucket: req.BucketName(), Key: req.Key, UploadId: u.UploadID})
}

// completeMultipartUpload is the CompleteMultipartUpload request document.
type completeMultipartUploadRequest struct {
	XMLName xml.Name        `xml:"CompleteMultipartUpload"`
	Parts   []completedPart `xml:"Part"`
}

type completedPart struct {
	PartNumber        int
	ETag              string
	ChecksumCRC32     string
	ChecksumCRC32C    string
	ChecksumCRC64NVME string
	ChecksumSHA1      string
	ChecksumSHA256    string
}

// parseCompleteMultipartUpload decodes and checks a CompleteMultipartUpload
// document: at least one part (MalformedXML), part numbers in 1..10000
// (InvalidArgument) and strictly ascending (InvalidPartOrder).
func parseCompleteMultipartUpload(body []byte) ([]store.CompletePart, error) {
	var doc completeMultipartUploadRequest
	if err := xml.Unmarshal(body, &doc); err != nil {
		return nil, s3err.MalformedXML.WithCause(err)
	}
	return completeParts(doc)
}

func completeParts(doc completeMultipartUploadRequest) ([]store.CompletePart, error) {
	if len(doc.Parts) == 0 || len(doc.Parts) > maxPartNumber {
		return nil, s3err.MalformedXML
	}
	parts := make([]store.CompletePart, len(doc.Parts))
	for i, p := range doc.Parts {
		if p.PartNumber < 1 || p.PartNumber > maxPartNumber {
			return nil, s3err.InvalidArgument.WithMessage("Part number must be an integer between 1 and 10000, inclusive")
		}
		if i > 0 && p.PartNumber <= doc.Parts[i-1].PartNumber {
			return nil, s3err.InvalidPartOrder
		}
		sums, err := listedPartChecksums(p) // checksum_multipart.go
		if err != nil {
			return nil, err
		}
		parts[i] = store.CompletePart{Number: p.PartNumber, ETag: strings.Trim(strings.TrimSpace(p.ETag), `"`), Checksums: sums}
	}
	return parts, nil
}

type completeMultipartUploadResult struct {
	XMLName           xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ CompleteMultipartUploadResult"`
	Location          string
	Bucket            string
	Key               string
	ETag              string
	ChecksumCRC32     string `xml:",omitempty"`
	ChecksumCRC32C    string `xml:",omitempty"`
	ChecksumCRC64NVME string `xml:",omitempty"`
	ChecksumSHA1      string `xml:",omitempty"`
	ChecksumSHA256    string `xml:",omitempty"`
	ChecksumType      string `xml:",omitempty"`
}

// completeMultipartUpload commits an upload. The response is written only
// after the store's commit returned, so a 200 means the object is durable.
func (a *API) completeMultipartUpload(w http.ResponseWriter, r *http.Request, req *Request) error {
	uploadID := r.URL.Query().Get("uploadId")
	doc, claim, err := decodeCompleteDocument(r) // checksum_multipart.go
	if err != nil {
		return err
	}
	parts, err := completeParts(doc)
	if err != nil {
		return err
	}
	// SSE-C needs the upload's key. An upload already completed is gone:
	// the store then answers a repeated Complete with the object it made.
	if _, _, err := a.uploadSSE(r, req, uploadID); err != nil && !errors.Is(err, store.ErrNoSuchUpload) {
		return err
	}
	o, err := a.store.CompleteMultipartUpload(r.Context(), req.Bucket, req.Key, uploadID, parts, store.CompleteOptions{
		Checksums: completeChecksums(claim, parts),
		// Checked by the store inside its commit: two concurrent
		// conditional completions cannot both pass.
		IfMatch: r.Header.Get("If-Match"), IfNoneMatch: r.Header.Get("If-None-Match"),
	})
	if err != nil {
		return err
	}
	if o.VersionID != "" && o.VersionID != store.NullVersion {
		w.Header().Set("X-Amz-Version-Id", o.VersionID)
	}
	setSSEHeaders(w.Header(), o.Meta.SSE)
	a.setExpirationHeader(w.Header(), &req.auth.bucket, &o, "")
	c, typ := objectChecksums(o.Meta)
	return writeXML(w, completeMultipartUploadResult{
		Location: a.objectLocation(r, req), Bucket: req.BucketName(), Key: req.Key, ETag: quoteETag(o.ETag),
		ChecksumCRC32: c[store.ChecksumCRC32], ChecksumCRC32C: c[store.ChecksumCRC32C],
		ChecksumCRC64NVME: c[store.ChecksumCRC64NVME], ChecksumSHA1: c[store.ChecksumSHA1],
		ChecksumSHA256: c[store.ChecksumSHA256], ChecksumType: typ,
	})
}

// objectLocation is the URL of the request's object, in the request's own
// addressing style.
func (a *API) objectLocation(r *http.Request, req *Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	path := "/" + req.bucketSegment + "/" + req.Key // as addressed: "t2:b" stays explicit
	if req.virtualHost {
		path = "/" + req.Key
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: path}
	return u.String()
}

func (a *API) abortMultipartUpload(w http.ResponseWriter, r *http.Request, req *Request) error {
	if err := a.store.AbortMultipartUpload(r.Context(), req.Bucket, req.Key, r.URL.Query().Get("uploadId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type listPartsResult struct {
	XMLName              xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListPartsResult"`
	Bucket               string
	Key                  string
	UploadId             string
	PartNumberMarker     int
	NextPartNumberMarker int
	MaxParts             int
	IsTruncated          bool
	Parts                []xmlPart `xml:"Part"`
	Initiator            *xmlOwner
	Owner                *xmlOwner
	StorageClass         string
	ChecksumAlgorithm    string `xml:",omitempty"`
	ChecksumType         string `xml:",omitempty"`
}

type xmlPart struct {
	PartNumber        int
	LastModified      string
	ETag              string
	Size              int64
	ChecksumCRC32     string `xml:",omitempty"`
	ChecksumCRC32C    string `xml:",omitempty"`
	ChecksumCRC64NVME string `xml:",omitempty"`
	ChecksumSHA1      string `xml:",omitempty"`
	ChecksumSHA256    string `xml:",omitempty"`
}

func (a *API) listParts(w http.ResponseWriter, r *http.Request, req *Request) error {
	q := r.URL.Query()
	maxParts, err := parseMax(q, "max-parts", maxListKeys)
	if err != nil {
		return err
	}
	marker := 0
	if q.Has("part-number-marker") {
		if marker, err = strconv.Atoi(q.Get("part-number-marker")); err != nil || marker < 0 {
			return s3err.InvalidArgument.WithMessage("Provided part-number-marker not an integer or within integer range")
		}
	}
	// max-parts=0 still checks the upload exists; it then returns no part.
	page, err := a.store.ListParts(r.Context(), req.Bucket, req.Key, q.Get("uploadId"), store.ListPartsOptions{
		PartNumberMarker: marker, MaxParts: max(maxParts, 1),
	})
	if err != nil {
		return err
	}
	if maxParts == 0 {
		page.IsTruncated, page.NextPartNumberMarker, page.Parts = len(page.Parts) > 0, marker, nil
	}
	u, owner := page.Upload, a.ownerNamer(r.Context())
	res := listPartsResult{
		Bucket: req.BucketName(), Key: req.Key, UploadId: u.UploadID, PartNumberMarker: marker,
		NextPartNumberMarker: page.NextPartNumberMarker, MaxParts: maxParts, IsTruncated: page.IsTruncated,
		Initiator: owner(u.Owner), Owner: owner(u.Owner), StorageClass: storageClassOf(u.Meta),
		ChecksumAlgorithm: uploadChecksumAlgorithm(u.Meta),
	}
	if res.ChecksumAlgorithm != "" {
		res.ChecksumType = u.Meta.ChecksumType
	}
	res.Parts = make([]xmlPart, len(page.Parts))
	for i, p := range page.Parts {
		c := p.Checksums
		res.Parts[i] = xmlPart{
			PartNumber: p.Number, LastModified: isoTime(p.LastModified), ETag: quoteETag(p.ETag), Size: p.Size,
			ChecksumCRC32: c[store.ChecksumCRC32], ChecksumCRC32C: c[store.ChecksumCRC32C],
			ChecksumCRC64NVME: c[store.ChecksumCRC64NVME], ChecksumSHA1: c[store.ChecksumSHA1],
			ChecksumSHA256: c[store.ChecksumSHA256],
		}
	}
	return writeXML(w, res)
}
