package auth

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// Identity is who sent a request.
type Identity struct {
	AccessKey string
	UserID    string
	// Anonymous is set for requests that carry no credentials at all.
	Anonymous bool
}

// Credentials looks up secret keys; the account package implements it.
type Credentials interface {
	// Lookup returns the user owning accessKey and its secret key, or
	// ErrUnknownAccessKey (possibly wrapped) if there is no such key.
	Lookup(ctx context.Context, accessKey string) (userID, secretKey string, err error)
}

// ErrUnknownAccessKey is returned by Credentials.Lookup for an access key
// that does not exist.
var ErrUnknownAccessKey = errors.New("auth: unknown access key")

// DefaultMaxSkew is how far a request's date may be from the server clock,
// as in S3.
const DefaultMaxSkew = 15 * time.Minute

// Options configures a Verifier. The zero value is usable.
type Options struct {
	// Region is the gateway's own region. Signatures made for any region are
	// accepted, because clients often sign for us-east-1 or a made-up region
	// whatever the endpoint; Region is informational.
	Region string
	// MaxSkew is the largest accepted difference between the request date
	// and Now for header authentication (default 15 minutes).
	MaxSkew time.Duration
	// Now returns the current time (default time.Now); tests inject a clock.
	Now func() time.Time
	// VirtualHostBucket returns the bucket named by the request's host for
	// virtual-hosted-style requests, or "" for path-style ones. SigV2 signs
	// the resource as /bucket/key in both styles, so it needs to know. Nil
	// means every request is path-style.
	VirtualHostBucket func(r *http.Request) string
}

// Verifier authenticates requests against Credentials. It is safe for
// concurrent use.
type Verifier struct {
	creds Credentials
	opts  Options
	keys  keyCache
}

// New returns a Verifier that looks secrets up in creds.
func New(creds Credentials, opts Options) *Verifier {
	if opts.MaxSkew <= 0 {
		opts.MaxSkew = DefaultMaxSkew
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Verifier{creds: creds, opts: opts}
}

// Verify authenticates r. Anonymous requests (no Authorization header and
// no signature in the query) return Identity{Anonymous: true} and nil.
//
// On success, for requests with a body it replaces r.Body with a reader that
// verifies the payload as it streams (x-amz-content-sha256 hash →
// XAmzContentSHA256Mismatch; aws-chunked chunk and trailer signatures →
// SignatureDoesNotMatch; trailer checksums → BadDigest) and returns the S3
// error from Read instead of io.EOF on a mismatch. For aws-chunked bodies it
// sets r.ContentLength to the decoded length, removes aws-chunked from
// Content-Encoding, and, once the body has been read to EOF, leaves the
// trailers in r.Trailer under canonical keys, as net/http does for chunked
// requests. A presigned request's unsigned X-Amz-Content-Sha256 header is
// removed: the payload mode is the query's.
//
// Errors are *s3err.Error values.
func (v *Verifier) Verify(r *http.Request) (Identity, error) {
	authz := r.Header.Get("Authorization")
	q := r.URL.RawQuery
	presignV4 := strings.Contains(q, "X-Amz-Credential=") || strings.Contains(q, "X-Amz-Signature=") ||
		strings.Contains(q, "X-Amz-Algorithm=")
	presignV2 := !presignV4 && (strings.Contains(q, "AWSAccessKeyId=") || strings.Contains(q, "Signature="))
	switch {
	case authz != "":
		if presignV4 || presignV2 {
			return Identity{}, s3err.InvalidArgument.WithMessage("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
		}
		switch {
		case strings.HasPrefix(authz, algoV4+" "):
			return v.verifyV4Header(r, authz)
		case strings.HasPrefix(authz, "AWS "):
			return v.verifyV2Header(r, authz)
		}
		return Identity{}, s3err.InvalidArgument.WithMessage("Unsupported Authorization Type")
	case presignV4:
		return v.verifyPresignV4(r)
	case presignV2:
		return v.verifyPresignV2(r)
	}
	return Identity{Anonymous: true}, nil
}

// lookup resolves an access key, mapping failures onto S3 errors.
func (v *Verifier) lookup(ctx context.Context, accessKey string) (userID, secret string, err error) {
	userID, secret, err = v.creds.Lookup(ctx, accessKey)
	switch {
	case errors.Is(err, ErrUnknownAccessKey):
		return "", "", s3err.InvalidAccessKeyID
	case err != nil:
		return "", "", s3err.InternalError.WithCause(err)
	}
	return userID, secret, nil
}

// checkSkew rejects a request date too far from the server clock.
func (v *Verifier) checkSkew(t time.Time) error {
	d := v.opts.Now().Sub(t)
	if d > v.opts.MaxSkew || d < -v.opts.MaxSkew {
		return s3err.RequestTimeTooSkewed
	}
	return nil
}
