//go:build unix

package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server"
)

// TestLiveSlowListener checks that a listener that stops reading never
// blocks writes, and that when it resumes every event is accounted for:
// received, or counted in a gap notice.
func TestLiveSlowListener(t *testing.T) {
	const (
		bucket  = "live-slow"
		puts    = 3000
		workers = 8
	)
	g := startLive(t, server.LiveConfig{Buffer: 16}, bucket)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	// A tiny receive buffer makes the stuck client push back on the server
	// after a few records, as a slow consumer across a network would.
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	hc := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	resp := openStream(t, ctx, g, bucket, url.Values{"events": {""}, "ping": {"1"}}, "", hc)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	waitListeners(t, g.srv.Server, 1)

	// Large records (user metadata is in them) fill the connection's
	// buffers sooner.
	pad := map[string]string{"pad": strings.Repeat("p", 1800)}
	// The listener reads nothing while all the PUTs complete.
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < puts; i += workers {
				if _, err := g.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket),
					Key: aws.String(fmt.Sprintf("k%05d", i)), Body: strings.NewReader("x"), Metadata: pad}); err != nil {
					t.Errorf("PutObject: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()

	// Resumed, it must account for every event.
	var received, dropped int64
	gaps := 0
	sc := bufio.NewScanner(resp.Body)
	for received+dropped < puts && sc.Scan() {
		var m ndjsonMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		received += int64(len(m.Records))
		if m.Err != nil {
			if m.Err.Code != "EventsDropped" || m.Err.Dropped <= 0 {
				t.Fatalf("unexpected error line %s", sc.Text())
			}
			dropped += m.Err.Dropped
			gaps++
		}
	}
	if received+dropped != puts {
		t.Fatalf("received %d + dropped %d = %d events, want %d (%v)", received, dropped, received+dropped, puts, sc.Err())
	}
	if gaps == 0 {
		t.Fatalf("no gap notice although the listener fell %d events behind a buffer of 16", puts-received)
	}
	t.Logf("received %d, dropped %d in %d gap notices", received, dropped, gaps)
}
