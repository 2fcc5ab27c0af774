package snsapi_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/notify/notifytest"
	"github.com/cairn-s3/cairn/internal/s3api"
	"github.com/cairn-s3/cairn/internal/snsapi"
)

// users is the static credentials fixture: access key → user id, secret.
var users = map[string][2]string{
	"ALICEKEY": {"alice", "alice-secret"},
	"BOBKEY":   {"bob", "bob-secret"},
	"CAROLKEY": {"acme$carol", "carol-secret"},
}

// staticCredentials is the auth.Credentials fixture over users.
type staticCredentials struct{}

func (staticCredentials) Lookup(_ context.Context, accessKey string) (string, string, error) {
	u, ok := users[accessKey]
	if !ok {
		return "", "", auth.ErrUnknownAccessKey
	}
	return u[0], u[1], nil
}

type harness struct {
	url    string
	tlsURL string
	tls    *httptest.Server
	topics *notify.Topics
}

// newHarness serves the topic API the way the server wires it: the S3
// adapter on loopback with the SNS handler installed for OpSNS, over plain
// HTTP and over TLS.
func newHarness(t *testing.T, opts notify.Options) *harness {
	t.Helper()
	topics := notify.NewTopics(notifytest.NewMemKV())
	var api *s3api.API
	verifier := auth.New(staticCredentials{}, auth.Options{VirtualHostBucket: func(r *http.Request) string { return api.VirtualHostBucket(r) }})
	api = s3api.New(nil, verifier, s3api.Config{})
	api.Handle(s3api.OpSNS, snsapi.New(topics, snsapi.Config{Options: opts}).Serve)
	plain := httptest.NewServer(api)
	t.Cleanup(plain.Close)
	secure := httptest.NewTLSServer(api)
	t.Cleanup(secure.Close)
	return &harness{url: plain.URL, tlsURL: secure.URL, tls: secure, topics: topics}
}

// client returns an aws-sdk-go-v2 SNS client for a user's access key.
func (h *harness) client(accessKey string, useTLS bool) *sns.Client {
	endpoint, hc := h.url, http.DefaultClient
	if useTLS {
		endpoint, hc = h.tlsURL, h.tls.Client()
	}
	return sns.New(sns.Options{
		Region:       "default",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, users[accessKey][1], ""),
		HTTPClient:   hc,
	})
}

// status returns the HTTP status of an SDK error (0 if none).
func status(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

var ctx = context.Background()
