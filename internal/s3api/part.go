package s3api

import (
	"encoding/xml"
	"io"
	"net/http"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// copyPartResult is the answer of UploadPartCopy.
type copyPartResult struct {
	XMLName      xml.Name `xml:"CopyPartResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	LastModified string   `xml:"LastModified"`
	ETag         string   `xml:"ETag"`
	checksumResult
}

// partParams reads the uploadId and partNumber of a part request.
func partParams(r *http.Request) (uploadID string, number int, err error) {
	q := r.URL.Query()
	uploadID = q.Get("uploadId")
	if uploadID == "" {
		return "", 0, s3err.NoSuchUpload
	}
	v, ok := q["partNumber"]
	if !ok {
		return "", 0, s3err.InvalidArgument.WithMessage("Part number must be an integer between 1 and 10000, inclusive")
	}
	number, err = parsePartNumber(v[0])
	return uploadID, number, err
}

// uploadPart streams one part through the same body pipeline as PutObject.
func (a *API) uploadPart(w http.ResponseWriter, r *http.Request, req *Request) error {
	uploadID, number, err := partParams(r)
	if err != nil {
		return err
	}
	body, err := newPutBody(r)
	if err != nil {
		return err
	}
	up, dk, err := a.uploadSSE(r, req, uploadID)
	if err != nil {
		return err
	}
	if err := partChecksum(up, body); err != nil { // checksum_multipart.go
		return err
	}
	opts := body.partOptions()
	data, err := encryptPart(body, dk, &opts)
	if err != nil {
		return err
	}
	pi, err := a.store.UploadPart(r.Context(), req.Bucket, req.Key, uploadID, number, data, opts)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", quoteETag(pi.ETag))
	setChecksumHeaders(w.Header(), pi.Checksums, "")
	setSSEHeaders(w.Header(), up.Meta.SSE)
	return nil
}

// uploadPartCopy writes a part from a range of an existing object, streaming
// it from the store's reader into the store's part writer.
func (a *API) uploadPartCopy(w http.ResponseWriter, r *http.Request, req *Request) error {
	uploadID, number, err := partParams(r)
	if err != nil {
		return err
	}
	src, err := parseCopySource(r.Header, req.callerTenant())
	if err != nil {
		return err
	}
	info, err := a.readCopySource(r, req, src, copySourceConditions(r.Header))
	if err != nil {
		return err
	}
	srcKey, err := a.copySourceKey(r.Header, info)
	if err != nil {
		return err
	}
	dst, dstKey, err := a.uploadSSE(r, req, uploadID)
	if err != nil {
		return err
	}
	rg := store.Range{Length: info.Size}
	if v := r.Header.Get("X-Amz-Copy-Source-Range"); v != "" {
		if rg, err = parseCopySourceRange(v, info.Size); err != nil {
			return err
		}
	}
	if rg.Length > maxPutSize {
		return s3err.InvalidRequest.WithMessage("The specified copy source is larger than the maximum allowable size for a copy source: %d", maxPutSize)
	}
	got, body, err := a.store.GetObject(r.Context(), src.Bucket, src.Key, store.GetOptions{
		VersionID: src.VersionID,
		RangeFunc: func(got store.ObjectInfo) (*store.Range, error) {
			// The range was resolved against info: read that same version.
			if err := sameVersion(info)(got); err != nil || rg.Length == got.Size {
				return nil, err // nil: the whole object, empty ones included
			}
			return &rg, nil
		},
	})
	if err != nil {
		return err
	}
	if body, err = decryptBody(got, srcKey, rg.Offset, body); err != nil {
		return err
	}
	defer body.Close()
	opts := store.PartOptions{Size: rg.Length}
	var data io.Reader = body
	if algo := uploadChecksumAlgorithm(dst.Meta); algo != "" {
		// The part carries its upload's checksum, of the bytes copied.
		if data, opts.Checksums, err = withChecksum(data, algo); err != nil {
			return err
		}
	}
	data, err = encryptPart(data, dstKey, &opts)
	if err != nil {
		return err
	}
	pi, err := a.store.UploadPart(r.Context(), req.Bucket, req.Key, uploadID, number, data, opts)
	if err != nil {
		return err
	}
	if info.VersionID != "" {
		w.Header().Set("X-Amz-Copy-Source-Version-Id", info.VersionID)
	}
	setSSEHeaders(w.Header(), dst.Meta.SSE)
	return writeXML(w, copyPartResult{
		Xmlns: s3Namespace, LastModified: isoTime(pi.LastModified), ETag: quoteETag(pi.ETag),
		checksumResult: checksumFields(pi.Checksums),
	})
}
