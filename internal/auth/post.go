package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// PostSignature is the signature block of a browser-based upload (POST
// Object, an HTML form). The signed string is the policy field exactly as
// sent, base64 and all.
//
// Signature Version 2 forms carry AWSAccessKeyId and signature (base64
// HMAC-SHA1); Version 4 forms carry x-amz-algorithm, x-amz-credential,
// x-amz-date and x-amz-signature (hex HMAC-SHA256 with the derived signing
// key). Algorithm tells them apart: empty means Version 2.
type PostSignature struct {
	Policy     string
	Algorithm  string // x-amz-algorithm (V4)
	AccessKey  string // AWSAccessKeyId (V2)
	Credential string // x-amz-credential (V4)
	Date       string // x-amz-date (V4)
	Signature  string // signature (V2) or x-amz-signature (V4)
}

// errPostField reports a signature field missing from a POST form.
func errPostField(name string) *s3err.Error {
	return s3err.InvalidArgument.WithMessage("Bucket POST must contain a field named '%s'.  If it is specified, please check the order of the fields.", name)
}

// VerifyPostPolicy authenticates a POST form: its signature must be the
// policy signed with the secret key of the access key it names. The policy
// itself (expiration and conditions) is the caller's to evaluate; there is
// no clock-skew check, because the policy's expiration bounds its validity.
//
// Errors are *s3err.Error values: InvalidArgument for missing or malformed
// fields, InvalidAccessKeyId, SignatureDoesNotMatch.
func (v *Verifier) VerifyPostPolicy(ctx context.Context, p PostSignature) (Identity, error) {
	if p.Algorithm == "" {
		return v.verifyPostV2(ctx, p)
	}
	return v.verifyPostV4(ctx, p)
}

func (v *Verifier) verifyPostV2(ctx context.Context, p PostSignature) (Identity, error) {
	switch {
	case p.AccessKey == "":
		return Identity{}, errPostField("AWSAccessKeyId")
	case p.Signature == "":
		return Identity{}, errPostField("signature")
	}
	userID, secret, err := v.lookup(ctx, p.AccessKey)
	if err != nil {
		return Identity{}, err
	}
	want, err := base64.StdEncoding.DecodeString(p.Signature)
	if err != nil || len(want) != sha1.Size {
		return Identity{}, s3err.SignatureDoesNotMatch
	}
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(p.Policy))
	if !hmac.Equal(m.Sum(nil), want) {
		return Identity{}, s3err.SignatureDoesNotMatch
	}
	return Identity{AccessKey: p.AccessKey, UserID: userID}, nil
}

func (v *Verifier) verifyPostV4(ctx context.Context, p PostSignature) (Identity, error) {
	if p.Algorithm != algoV4 {
		return Identity{}, s3err.InvalidArgument.WithMessage("Unsupported x-amz-algorithm %q; only %s is supported.", p.Algorithm, algoV4)
	}
	switch {
	case p.Credential == "":
		return Identity{}, errPostField("x-amz-credential")
	case p.Date == "":
		return Identity{}, errPostField("x-amz-date")
	case p.Signature == "":
		return Identity{}, errPostField("x-amz-signature")
	}
	var sig v4Sig
	malformed := func(msg string) *s3err.Error {
		return s3err.InvalidArgument.WithMessage("x-amz-credential is malformed; %s", msg)
	}
	if err := parseCredential(&sig, p.Credential, malformed); err != nil {
		return Identity{}, err
	}
	if _, err := time.Parse(amzDateFmt, p.Date); err != nil || !strings.HasPrefix(p.Date, sig.date) {
		return Identity{}, s3err.InvalidArgument.WithMessage("x-amz-date must be in the ISO 8601 basic format (yyyyMMddTHHmmssZ) and on the day of the credential scope.")
	}
	userID, secret, err := v.lookup(ctx, sig.accessKey)
	if err != nil {
		return Identity{}, err
	}
	if !decodeHex32(&sig.signature, p.Signature) {
		return Identity{}, s3err.SignatureDoesNotMatch
	}
	s := getMAC()
	defer putMAC(s)
	key := v.keys.signingKey(s, secret, sig.date, sig.region, sig.service)
	var got [32]byte
	s.hmac(&got, key[:], []byte(p.Policy))
	if subtle.ConstantTimeCompare(got[:], sig.signature[:]) != 1 {
		return Identity{}, s3err.SignatureDoesNotMatch
	}
	return Identity{AccessKey: sig.accessKey, UserID: userID}, nil
}
