package auth

import (
	"net/http"
	"slices"
	"strings"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// errHeadersNotSigned is S3's answer to a SigV4 request that carries
// headers its signature does not cover.
var errHeadersNotSigned = s3err.AccessDenied.WithMessage("There were headers present in the request which were not signed")

// errHostNotSigned rejects signatures that do not cover the Host header:
// such a request could be replayed against another endpoint.
var errHostNotSigned = errHeadersNotSigned.WithHeadersNotSigned("host")

// checkAmzHeadersSigned enforces S3's rule that every x-amz-* header of a
// SigV4 request is signed, in the Authorization header and in presigned
// URLs alike. Without it, whoever holds a presigned PUT URL could add
// x-amz-copy-source and x-amz-acl and turn the upload into a public copy of
// any object the signer can read.
//
// The one exception is x-amz-content-sha256 on a presigned URL: its
// payload hash is the query's (UNSIGNED-PAYLOAD by default), so the
// header is ignored and S3 lets clients send it unsigned.
func checkAmzHeadersSigned(h http.Header, signedHeaders string, presigned bool) error {
	var missing []string
	for name := range h {
		if !isAmzHeader(name) || (presigned && strings.EqualFold(name, "X-Amz-Content-Sha256")) ||
			listHas(signedHeaders, name) {
			continue
		}
		missing = append(missing, strings.ToLower(name))
	}
	if missing == nil {
		return nil
	}
	slices.Sort(missing)
	return errHeadersNotSigned.WithHeadersNotSigned(missing...)
}

// isAmzHeader reports whether name is an x-amz-* header (in any case; not
// x-amzn-*, which SDKs leave unsigned on purpose).
func isAmzHeader(name string) bool {
	return len(name) > 6 && strings.EqualFold(name[:6], "x-amz-")
}

// listHas reports whether the ;-separated SignedHeaders list names name,
// compared without regard to case and without allocating.
func listHas(list, name string) bool {
	for s := range strings.SplitSeq(list, ";") {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}

// signsHost reports whether a SignedHeaders list includes host.
func signsHost(signed string) bool { return listHas(signed, "host") }
