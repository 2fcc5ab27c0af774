package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// postV2 signs a policy as browsers' form generators do for Version 2.
func postV2(secret, policy string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(policy))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// postV4 signs a policy with a signing key derived by crypto/hmac, not by
// the verifier's pooled implementation.
func postV4(secret, date, region, policy string) string {
	mac := func(k []byte, s string) []byte {
		m := hmac.New(sha256.New, k)
		m.Write([]byte(s))
		return m.Sum(nil)
	}
	k := mac(mac(mac(mac([]byte("AWS4"+secret), date), region), "s3"), "aws4_request")
	return hex.EncodeToString(mac(k, policy))
}

func TestVerifyPostPolicy(t *testing.T) {
	const policy = "eyJleHBpcmF0aW9uIjoiMjAzMC0wMS0wMVQwMDowMDowMFoiLCJjb25kaXRpb25zIjpbXX0="
	cred := testAK + "/20260102/eu-west-1/s3/aws4_request"
	v4sig := postV4(testSecret, "20260102", "eu-west-1", policy)
	v4 := func(mod func(*PostSignature)) PostSignature {
		p := PostSignature{Policy: policy, Algorithm: algoV4, Credential: cred, Date: "20260102T101010Z", Signature: v4sig}
		if mod != nil {
			mod(&p)
		}
		return p
	}
	tests := []struct {
		name string
		in   PostSignature
		want *s3err.Error // nil: accepted as testUser
	}{
		{"v2", PostSignature{Policy: policy, AccessKey: testAK, Signature: postV2(testSecret, policy)}, nil},
		{"v2 wrong secret", PostSignature{Policy: policy, AccessKey: testAK, Signature: postV2("nope", policy)}, s3err.SignatureDoesNotMatch},
		{"v2 not base64", PostSignature{Policy: policy, AccessKey: testAK, Signature: "%%%"}, s3err.SignatureDoesNotMatch},
		{"v2 unknown key", PostSignature{Policy: policy, AccessKey: "NOPE", Signature: postV2(testSecret, policy)}, s3err.InvalidAccessKeyID},
		{"v2 no key", PostSignature{Policy: policy, Signature: postV2(testSecret, policy)}, s3err.InvalidArgument},
		{"v2 no signature", PostSignature{Policy: policy, AccessKey: testAK}, s3err.InvalidArgument},
		{"v4", v4(nil), nil},
		{"v4 tampered policy", v4(func(p *PostSignature) { p.Policy += "=" }), s3err.SignatureDoesNotMatch},
		{"v4 bad hex", v4(func(p *PostSignature) { p.Signature = "xyz" }), s3err.SignatureDoesNotMatch},
		{"v4 other region", v4(func(p *PostSignature) { p.Credential = testAK + "/20260102/us-east-1/s3/aws4_request" }), s3err.SignatureDoesNotMatch},
		{"v4 algorithm", v4(func(p *PostSignature) { p.Algorithm = "AWS4-HMAC-SHA1" }), s3err.InvalidArgument},
		{"v4 credential", v4(func(p *PostSignature) { p.Credential = "garbage" }), s3err.InvalidArgument},
		{"v4 date format", v4(func(p *PostSignature) { p.Date = "2026-01-02" }), s3err.InvalidArgument},
		{"v4 date other day", v4(func(p *PostSignature) { p.Date = "20260103T101010Z" }), s3err.InvalidArgument},
		{"v4 no signature", v4(func(p *PostSignature) { p.Signature = "" }), s3err.InvalidArgument},
		{"v4 unknown key", v4(func(p *PostSignature) { p.Credential = "NOPE/20260102/eu-west-1/s3/aws4_request" }), s3err.InvalidAccessKeyID},
	}
	v := newTestVerifier(time.Date(2026, 1, 2, 10, 10, 10, 0, time.UTC))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := v.VerifyPostPolicy(context.Background(), tt.in)
			if tt.want == nil {
				if err != nil || id.UserID != testUser || id.AccessKey != testAK {
					t.Fatalf("got %+v, %v; want %s", id, err, testUser)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %s", err, tt.want.Code)
			}
		})
	}
}
