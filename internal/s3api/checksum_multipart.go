package s3api

// Checksums of multipart objects, S3's COMPOSITE and FULL_OBJECT types:
// which checksum a part of an upload carries, how CompleteMultipartUpload
// computes the object's from its parts' and checks what the client claims,
// and which checksum GET and HEAD report for the bytes they serve.

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/cairn-s3/cairn/internal/checksum"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// objectChecksums returns the checksums of an object that carry a value,
// with their type (FULL_OBJECT for single PUTs, which record none). Objects
// completed before multipart checksums were computed recorded their
// upload's algorithm with an empty value: they have no checksum.
func objectChecksums(m store.Metadata) (map[string]string, string) {
	var sums map[string]string
	for algo, v := range m.Checksums {
		if v != "" {
			if sums == nil {
				sums = make(map[string]string, 1)
			}
			sums[algo] = v
		}
	}
	if sums == nil {
		return nil, ""
	}
	if m.ChecksumType == "" {
		return sums, checksum.TypeFullObject
	}
	return sums, m.ChecksumType
}

// servedChecksums returns the checksums that describe exactly the bytes a
// GET or HEAD serves, as S3 reports them with x-amz-checksum-mode: the
// object's for the whole object (a composite one ends in "-N", which SDKs
// know not to check), a part's own for ?partNumber of a multipart object,
// and none for any other range: a client validates what it receives.
//
// S3 is said to omit the part checksum of a FULL_OBJECT object of several
// parts; the ceph/s3-tests suite expects it, and as it is the checksum of
// the bytes served, it is sent.
func servedChecksums(oi store.ObjectInfo, s served) (map[string]string, string) {
	sums, typ := objectChecksums(oi.Meta)
	if sums == nil {
		return nil, ""
	}
	if s.part != nil {
		part := make(map[string]string, len(sums))
		for algo := range sums {
			if v := s.part.Checksums[algo]; v != "" {
				part[algo] = v
			}
		}
		if len(part) > 0 {
			return part, typ
		}
	}
	if s.rng.Offset == 0 && s.rng.Length == oi.Size {
		return sums, typ
	}
	return nil, ""
}

// partChecksum applies an upload's algorithm to one of its parts as S3
// does: a part naming another algorithm is refused; a part of a COMPOSITE
// upload must carry the upload's (the object's checksum is built from the
// clients' part values); a part of a FULL_OBJECT upload sent without one
// gets it computed here.
func partChecksum(up store.Upload, body *putBody) error {
	algo := uploadChecksumAlgorithm(up.Meta)
	switch {
	case algo == "" || body.algo == algo:
		return nil
	case body.algo != "":
		return checksumTypeMismatch(algo, body.algo)
	case up.Meta.ChecksumType == checksum.TypeComposite:
		return checksumTypeMismatch(algo, "null")
	}
	return body.computeChecksum(algo)
}

func checksumTypeMismatch(want, got string) *s3err.Error {
	return s3err.InvalidRequest.WithMessage("Checksum Type mismatch occurred, expected checksum Type: %s, actual checksum Type: %s",
		strings.ToLower(want), strings.ToLower(got))
}

// computeChecksum makes a body that named no checksum compute algo's.
func (b *putBody) computeChecksum(algo string) error {
	r, sums, err := withChecksum(b.Reader, algo)
	if err != nil {
		return err
	}
	b.Reader, b.sums, b.algo = r, sums, algo
	return nil
}

// withChecksum returns a reader that computes algo's checksum of r, and
// the store's Checksums callback that reports it at EOF.
func withChecksum(r io.Reader, algo string) (io.Reader, func() map[string]string, error) {
	h, err := checksum.New(algo)
	if err != nil {
		return nil, nil, err
	}
	v := &checksumVerifier{src: r, algo: algo, h: h}
	return v, v.result, nil
}

// decodeCompleteDocument reads a CompleteMultipartUpload request: its XML
// body, verified against Content-MD5 if sent, and its checksum headers,
// which on S3 name the object's checksum, not the body's.
func decodeCompleteDocument(r *http.Request) (completeMultipartUploadRequest, checksum.Complete, error) {
	var doc completeMultipartUploadRequest
	claim, err := checksum.ParseComplete(r.Header)
	if err != nil {
		return doc, claim, err
	}
	var md5 []byte
	if v, ok := r.Header["Content-Md5"]; ok {
		if md5, err = checksum.ParseContentMD5(strings.Join(v, ",")); err != nil {
			return doc, claim, err
		}
	}
	cr, err := checksum.NewReader(r.Body, checksum.ReaderOptions{MD5: md5})
	if err != nil {
		return doc, claim, err
	}
	body, err := io.ReadAll(io.LimitReader(cr, maxXMLBody+1))
	switch {
	case err != nil:
		return doc, claim, err
	case len(body) > maxXMLBody:
		return doc, claim, s3err.MaxMessageLengthExceeded
	case len(bytes.TrimSpace(body)) == 0:
		return doc, claim, s3err.MalformedXML
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		return doc, claim, s3err.MalformedXML.WithCause(err)
	}
	return doc, claim, nil
}

// completeChecksums returns the store's hook for CompleteMultipartUpload:
// it checks the part checksums the request lists against the stored ones,
// computes the object's checksum from the parts' (COMPOSITE or FULL_OBJECT,
// as the upload was created) and checks the one the client claims.
func completeChecksums(claim checksum.Complete, list []store.CompletePart) func(store.Upload, []store.Part) (map[string]string, string, error) {
	return func(up store.Upload, parts []store.Part) (map[string]string, string, error) {
		algo, typ := uploadChecksumAlgorithm(up.Meta), up.Meta.ChecksumType
		if claim.Type != "" && (algo == "" || claim.Type != typ) {
			mode := typ
			if algo == "" {
				mode = "null"
			}
			return nil, "", s3err.InvalidRequest.WithMessage("The upload was created using the %s checksum mode. The complete request must use the same checksum mode.", mode)
		}
		for i, p := range parts {
			if err := checkListedPart(algo, list[i], p); err != nil {
				return nil, "", err
			}
		}
		if algo == "" {
			return nil, "", nil
		}
		sums := make([]checksum.PartChecksum, len(parts))
		for i, p := range parts {
			sums[i] = checksum.PartChecksum{Value: p.Checksums[algo], Size: p.Size}
		}
		value, err := checksum.Multipart(algo, typ, sums)
		switch {
		case errors.Is(err, checksum.ErrMissingPartChecksum) && claim.Algorithm != algo:
			// A part stored before parts had to carry the upload's
			// algorithm: no checksum rather than a wrong one.
			return nil, "", nil
		case errors.Is(err, checksum.ErrMissingPartChecksum):
			return nil, "", checksum.MismatchError(algo)
		case err != nil:
			return nil, "", err
		case claim.Algorithm == algo && !checksum.SameObjectChecksum(claim.Value, value, typ, len(parts)):
			return nil, "", checksum.MismatchError(algo)
		}
		return map[string]string{algo: value}, typ, nil
	}
}

// checkListedPart compares the checksum a Complete request lists for a
// part with the part's own: a different value is InvalidPart, as is a
// value for a part stored without one; naming an algorithm other than the
// upload's is BadDigest. A part listed without a checksum is accepted (S3
// requires them for COMPOSITE uploads; RGW, and the conformance suite,
// does not, and the stored values are the ones used).
func checkListedPart(algo string, listed store.CompletePart, p store.Part) error {
	for a, v := range listed.Checksums {
		stored := p.Checksums[a]
		switch {
		case stored == v:
		case stored == "" && algo != "" && a != algo:
			return s3err.BadDigest.WithMessage("The %s you specified for part %d did not match what we received.", strings.ToLower(a), listed.Number)
		default:
			return s3err.InvalidPart
		}
	}
	return nil
}

// listedPartChecksums reads the checksum a Complete request lists for a
// part: at most one, base64 of its algorithm's digest.
func listedPartChecksums(p completedPart) (map[string]string, error) {
	var sums map[string]string
	for algo, v := range map[string]string{
		store.ChecksumCRC32: p.ChecksumCRC32, store.ChecksumCRC32C: p.ChecksumCRC32C,
		store.ChecksumCRC64NVME: p.ChecksumCRC64NVME, store.ChecksumSHA1: p.ChecksumSHA1,
		store.ChecksumSHA256: p.ChecksumSHA256,
	} {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if _, err := checksum.Decode(algo, v); err != nil || sums != nil {
			return nil, s3err.InvalidArgument.WithMessage("Invalid Base64 or multiple checksums present in request")
		}
		sums = map[string]string{algo: v}
	}
	return sums, nil
}
