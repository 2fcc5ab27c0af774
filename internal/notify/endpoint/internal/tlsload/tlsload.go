// Package tlsload builds client TLS configurations for endpoint connections
// from the topic's verify-ssl and ca-location arguments.
//
// A CA bundle named by ca-location is re-read whenever its modification time
// or size changes, checked each time a connection is (re)established, so that
// rotating the file on disk takes effect without recreating endpoints.
package tlsload

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"sync"
	"time"

	"github.com/cairn-s3/cairn/internal/notify/endpoint/internal/base"
)

// CAPool is a CA bundle file cached in memory. The zero value is unusable;
// build one with NewCAPool. It is safe for concurrent use.
type CAPool struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	pool    *x509.CertPool
}

// NewCAPool returns a pool backed by the PEM file at path. An empty path
// yields nil, which Config treats as "use the system roots".
func NewCAPool(path string) *CAPool {
	if path == "" {
		return nil
	}
	return &CAPool{path: path}
}

// Pool returns the current certificates, re-reading the file if it changed
// since the last call. A missing or unparsable file is a permanent error:
// retrying cannot help until an operator fixes the file.
func (c *CAPool) Pool() (*x509.CertPool, error) {
	fi, err := os.Stat(c.path)
	if err != nil {
		return nil, base.Permanentf("ca-location: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pool != nil && fi.ModTime().Equal(c.modTime) && fi.Size() == c.size {
		return c.pool, nil
	}
	pem, err := os.ReadFile(c.path)
	if err != nil {
		return nil, base.Permanentf("ca-location: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, base.Permanentf("ca-location %s: no PEM certificates found", c.path)
	}
	c.pool, c.modTime, c.size = pool, fi.ModTime(), fi.Size()
	return pool, nil
}

// Config returns a fresh client configuration for one connection attempt to
// serverName (a host name or IP address). With verify false the peer is not
// checked at all, matching verify-ssl=false. With a non-nil ca the bundle
// replaces the system roots.
func Config(serverName string, verify bool, ca *CAPool) (*tls.Config, error) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		ServerName: serverName,
	}
	if !verify {
		// verify-ssl=false is an explicit operator choice (self-signed test
		// brokers); it mirrors libcurl/librabbitmq/librdkafka behaviour.
		cfg.InsecureSkipVerify = true //nolint:gosec
		return cfg, nil
	}
	if ca != nil {
		pool, err := ca.Pool()
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
