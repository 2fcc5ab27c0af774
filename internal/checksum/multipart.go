package checksum

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// Checksum types of a multipart object, as S3 names them in
// x-amz-checksum-type and ChecksumType.
const (
	// TypeFullObject: the checksum of the object's bytes, as a single PUT
	// has; for multipart objects combined from the parts' CRCs.
	TypeFullObject = "FULL_OBJECT"
	// TypeComposite: the checksum of the concatenated raw part checksums,
	// written with a "-N" part-count suffix.
	TypeComposite = "COMPOSITE"
)

// ErrMissingPartChecksum is returned by Multipart when a part has no
// checksum to build the object's from (a part stored before its upload's
// algorithm was enforced).
var ErrMissingPartChecksum = errors.New("checksum: a part has no checksum")

var errBadDigest = errors.New("checksum: digest of the wrong size")

// PartChecksum is a part's checksum (base64) and size.
type PartChecksum struct {
	Value string
	Size  int64
}

// Multipart returns the object checksum (wire form) of a multipart upload
// of type typ from its parts' algo checksums, in part order: for COMPOSITE
// the algo digest of the concatenated raw part digests followed by "-N",
// for FULL_OBJECT the CRC of the whole object combined from the parts'.
func Multipart(algo, typ string, parts []PartChecksum) (string, error) {
	raw := make([][]byte, len(parts))
	for i, p := range parts {
		if p.Value == "" {
			return "", ErrMissingPartChecksum
		}
		b, err := Decode(algo, p.Value)
		if err != nil {
			return "", err
		}
		raw[i] = b
	}
	switch typ {
	case TypeComposite:
		h, err := New(algo)
		if err != nil {
			return "", err
		}
		for _, b := range raw {
			h.Write(b)
		}
		return Encode(h.Sum(nil)) + "-" + strconv.Itoa(len(parts)), nil
	case TypeFullObject:
		if len(raw) == 0 {
			return "", ErrMissingPartChecksum
		}
		sum := raw[0]
		for i := 1; i < len(raw); i++ {
			var err error
			if sum, err = Combine(algo, sum, raw[i], parts[i].Size); err != nil {
				return "", err
			}
		}
		return Encode(sum), nil
	}
	return "", errors.New("checksum: unknown checksum type " + typ)
}

// SameObjectChecksum reports whether given, the value a client sent for a
// multipart object of n parts, names the computed one. A composite value
// may be given without its "-N" suffix (the SDKs' own composites lack it).
func SameObjectChecksum(given, computed, typ string, n int) bool {
	if typ == TypeComposite && !strings.Contains(given, "-") {
		given += "-" + strconv.Itoa(n)
	}
	return given == computed
}

// ParseUpload reads x-amz-checksum-algorithm and x-amz-checksum-type of a
// CreateMultipartUpload and checks them against S3's matrix: CRC64NVME is
// FULL_OBJECT only, SHA1 and SHA256 COMPOSITE only, CRC32 and CRC32C
// COMPOSITE unless FULL_OBJECT is asked for. It returns the type that
// applies ("" without an algorithm).
func ParseUpload(h http.Header) (algo, typ string, err error) {
	algo = strings.ToUpper(h.Get("X-Amz-Checksum-Algorithm"))
	typ, err = parseType(h)
	if err != nil {
		return "", "", err
	}
	if algo == "" {
		if typ != "" {
			return "", "", s3err.InvalidRequest.WithMessage("The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.")
		}
		return "", "", nil
	}
	if !Supported(algo) {
		return "", "", s3err.InvalidRequest.WithMessage("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
	}
	switch {
	case typ == "" && algo == store.ChecksumCRC64NVME:
		typ = TypeFullObject
	case typ == "":
		typ = TypeComposite
	case typ == TypeFullObject && !Combinable(algo), typ == TypeComposite && algo == store.ChecksumCRC64NVME:
		return "", "", s3err.InvalidRequest.WithMessage("The %s checksum type cannot be used with the %s checksum algorithm.", typ, strings.ToLower(algo))
	}
	return algo, typ, nil
}

// parseType reads x-amz-checksum-type: "", FULL_OBJECT or COMPOSITE.
func parseType(h http.Header) (string, error) {
	typ := strings.ToUpper(h.Get("X-Amz-Checksum-Type"))
	if typ != "" && typ != TypeFullObject && typ != TypeComposite {
		return "", s3err.InvalidRequest.WithMessage("Value for x-amz-checksum-type header is invalid.")
	}
	return typ, nil
}

// Complete is what the headers of a CompleteMultipartUpload say about the
// object's checksum. On S3 an x-amz-checksum-<algo> header of that request
// is the object's (full or composite) checksum, not one of its XML body.
type Complete struct {
	// Type is x-amz-checksum-type, "" when absent.
	Type string
	// Algorithm and Value are the x-amz-checksum-<algo> header, "" when
	// absent. A composite Value may carry its "-N" suffix.
	Algorithm, Value string
}

// ParseComplete reads the checksum headers of a CompleteMultipartUpload.
// Errors are S3 errors: an unknown x-amz-checksum-type, more than one
// checksum header, or a value that is not base64 of the algorithm's digest
// (optionally followed by "-N", N a part count).
func ParseComplete(h http.Header) (Complete, error) {
	var c Complete
	var err error
	if c.Type, err = parseType(h); err != nil {
		return Complete{}, err
	}
	for name, vals := range h {
		if !strings.HasPrefix(name, "X-Amz-Checksum-") || notChecksumValue[name] {
			continue
		}
		algo, ok := FromHeaderName(name)
		if !ok {
			return Complete{}, s3err.InvalidRequest.WithMessage("The header %s is not supported.", strings.ToLower(name))
		}
		if c.Algorithm != "" {
			return Complete{}, multipleChecksums()
		}
		if len(vals) != 1 || !validObjectChecksum(algo, vals[0]) {
			return Complete{}, InvalidHeaderError(algo)
		}
		c.Algorithm, c.Value = algo, vals[0]
	}
	return c, nil
}

// validObjectChecksum reports whether v is a checksum of a whole object:
// base64 of an algo digest, optionally followed by "-N" with N in 1..10000.
func validObjectChecksum(algo, v string) bool {
	sum, count, composite := strings.Cut(v, "-")
	if composite {
		n, err := strconv.Atoi(count)
		if err != nil || n < 1 || n > 10000 || strconv.Itoa(n) != count {
			return false
		}
	}
	_, err := Decode(algo, sum)
	return err == nil
}
