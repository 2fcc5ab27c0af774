package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// The AWS documentation's example credentials.
const (
	testAK     = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testUser   = "user-1"
	testHost   = "127.0.0.1:9000"
)

// staticCreds is an in-memory Credentials.
type staticCreds map[string][2]string // access key → {user, secret}

func (c staticCreds) Lookup(_ context.Context, ak string) (string, string, error) {
	v, ok := c[ak]
	if !ok {
		return "", "", fmt.Errorf("lookup %q: %w", ak, ErrUnknownAccessKey)
	}
	return v[0], v[1], nil
}

var testCreds = staticCreds{testAK: {testUser, testSecret}}

func newTestVerifier(now time.Time) *Verifier {
	return New(testCreds, Options{Region: "us-east-1", Now: func() time.Time { return now }})
}

// newReq builds a server-side request as net/http would hand it to a
// handler: target is the raw request URI.
func newReq(method, target, body string) *http.Request {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, target, rd)
	r.Host = testHost
	return r
}

func sdkCreds() aws.Credentials {
	return aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSecret}
}

// sdkSign signs r with aws-sdk-go-v2's own SigV4 signer, as the S3 client
// configures it for S3 (no double path escaping).
func sdkSign(t testing.TB, r *http.Request, payloadHash, service, region string, at time.Time) {
	t.Helper()
	err := v4.NewSigner().SignHTTP(context.Background(), sdkCreds(), r, payloadHash, service, region, at,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	if err != nil {
		t.Fatal(err)
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// wantCode fails unless err is the S3 error with that code (and message,
// when msg is not empty).
func wantCode(t testing.TB, err error, code, msg string) {
	t.Helper()
	e := s3err.As(err)
	if e == nil {
		t.Fatalf("err = %v, want S3 error %s", err, code)
	}
	if e.Code != code {
		t.Fatalf("code = %s (%s), want %s", e.Code, e.Message, code)
	}
	if msg != "" && e.Message != msg {
		t.Fatalf("message = %q, want %q", e.Message, msg)
	}
}

// readBody reads r.Body to the end in small reads and returns what was
// read and the error that ended it (nil for io.EOF).
func readBody(r *http.Request) ([]byte, error) {
	var out []byte
	buf := make([]byte, 1000)
	for {
		n, err := r.Body.Read(buf)
		out = append(out, buf[:n]...)
		if errors.Is(err, io.EOF) && s3err.As(err) == nil {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

// refSigner is an independent, deliberately plain implementation of the
// aws-chunked signing rules (AWS "Signature Calculations for the
// Authorization Header: Transferring Payload in Multiple Chunks"), used to
// build bodies in tests. The published AWS vectors pin it down.
type refSigner struct {
	key     []byte
	amzDate string
	scope   string
	prev    string
}

func newRefSigner(secret string, at time.Time, region, service, seed string) *refSigner {
	mac := func(k []byte, s string) []byte { m := hmac.New(sha256.New, k); m.Write([]byte(s)); return m.Sum(nil) }
	date := at.UTC().Format("20060102")
	k := mac([]byte("AWS4"+secret), date)
	k = mac(k, region)
	k = mac(k, service)
	k = mac(k, "aws4_request")
	return &refSigner{key: k, amzDate: at.UTC().Format(amzDateFmt), scope: date + "/" + region + "/" + service + "/aws4_request", prev: seed}
}

func (s *refSigner) sign(sts string) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(sts))
	s.prev = hex.EncodeToString(m.Sum(nil))
	return s.prev
}

func (s *refSigner) chunk(data []byte) string {
	sum := sha256.Sum256(data)
	return s.sign("AWS4-HMAC-SHA256-PAYLOAD\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(sum[:]))
}

func (s *refSigner) trailer(canonical string) string {
	return s.sign("AWS4-HMAC-SHA256-TRAILER\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev + "\n" + sha256Hex(canonical))
}

// trailerKV is one trailer line.
type trailerKV struct{ name, value string }

// signedChunkedBody frames data in chunks of size chunk, signing each; with
// trailers it ends with the signed trailer section.
func signedChunkedBody(s *refSigner, data []byte, chunk int, trailers []trailerKV) string {
	var b strings.Builder
	for len(data) > 0 {
		n := min(chunk, len(data))
		fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", n, s.chunk(data[:n]))
		b.Write(data[:n])
		b.WriteString("\r\n")
		data = data[n:]
	}
	fmt.Fprintf(&b, "0;chunk-signature=%s\r\n", s.chunk(nil))
	if trailers == nil {
		b.WriteString("\r\n")
		return b.String()
	}
	var canon strings.Builder
	for _, t := range trailers {
		fmt.Fprintf(&b, "%s:%s\r\n", t.name, t.value)
		fmt.Fprintf(&canon, "%s:%s\n", t.name, t.value)
	}
	fmt.Fprintf(&b, "x-amz-trailer-signature:%s\r\n\r\n", s.trailer(canon.String()))
	return b.String()
}

// unsignedChunkedBody frames data as STREAMING-UNSIGNED-PAYLOAD-TRAILER does.
func unsignedChunkedBody(data []byte, chunk int, trailers []trailerKV) string {
	var b strings.Builder
	for len(data) > 0 {
		n := min(chunk, len(data))
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(data[:n])
		b.WriteString("\r\n")
		data = data[n:]
	}
	b.WriteString("0\r\n")
	for _, t := range trailers {
		fmt.Fprintf(&b, "%s:%s\r\n", t.name, t.value)
	}
	b.WriteString("\r\n")
	return b.String()
}
