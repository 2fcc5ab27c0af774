//go:build rados

package radosopen_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// faultLoad is the load of the OSD fault tests: writers PUT objects of
// 64 KiB to 1 MiB and GET back an earlier one of their own after each PUT.
// It records every acknowledged object's digest, every failed request and
// the slowest requests.
type faultLoad struct {
	c      *s3.Client
	bucket string
	prefix string

	mu     sync.Mutex
	acked  map[string][sha256.Size]byte
	failed []string
	slow   []requestTime

	puts atomic.Int64 // acknowledged PUTs, to pace the test
}

type requestTime struct {
	what string
	took time.Duration
	at   time.Time
}

const (
	faultWriters       = 8
	faultMaxPutsEach   = 150
	faultMinObjectSize = 64 << 10
	faultMaxObjectSize = 1 << 20
)

// body is the deterministic content of key.
func faultBody(key string) []byte {
	h := fnv.New64a()
	h.Write([]byte(key))
	var seed [32]byte
	copy(seed[:], fmt.Sprintf("%016x", h.Sum64()))
	rng := rand.NewChaCha8(seed)
	size := faultMinObjectSize + int(h.Sum64()%uint64(faultMaxObjectSize-faultMinObjectSize+1))
	b := make([]byte, size)
	_, _ = rng.Read(b)
	return b
}

// run drives the writers until stop is closed or each did faultMaxPutsEach
// PUTs; a writer's requests after a failure still go on (the test reports
// all failures).
func (l *faultLoad) run(ctx context.Context, stop <-chan struct{}) {
	var wg sync.WaitGroup
	for w := range faultWriters {
		wg.Go(func() { l.writer(ctx, stop, w) })
	}
	wg.Wait()
}

func (l *faultLoad) writer(ctx context.Context, stop <-chan struct{}, w int) {
	var mine []string
	for i := range faultMaxPutsEach {
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		default:
		}
		key := fmt.Sprintf("%s/w%d/%04d", l.prefix, w, i)
		body := faultBody(key)
		start := time.Now()
		_, err := l.c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(l.bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
		l.note("PUT "+key, start, err)
		if err == nil {
			l.mu.Lock()
			l.acked[key] = sha256.Sum256(body)
			l.mu.Unlock()
			l.puts.Add(1)
			mine = append(mine, key)
		}
		if len(mine) > 0 {
			old := mine[(i*7)%len(mine)]
			start = time.Now()
			err := l.check(ctx, old)
			l.note("GET "+old, start, err)
		}
	}
}

// check reads key back and compares it with what was acknowledged.
func (l *faultLoad) check(ctx context.Context, key string) error {
	out, err := l.c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(l.bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	h := sha256.New()
	n, err := io.Copy(h, out.Body)
	if err != nil {
		return fmt.Errorf("reading the body after %d bytes: %w", n, err)
	}
	l.mu.Lock()
	want := l.acked[key]
	l.mu.Unlock()
	if !bytes.Equal(h.Sum(nil), want[:]) {
		return fmt.Errorf("%d bytes that differ from the acknowledged ones", n)
	}
	return nil
}

func (l *faultLoad) note(what string, start time.Time, err error) {
	took := time.Since(start)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.failed = append(l.failed, fmt.Sprintf("%s at %s after %v: %v", what, start.Format("15:04:05.000"), took.Round(time.Millisecond), err))
	}
	l.slow = append(l.slow, requestTime{what: what, took: took, at: start})
	sort.Slice(l.slow, func(i, j int) bool { return l.slow[i].took > l.slow[j].took })
	if len(l.slow) > 5 {
		l.slow = l.slow[:5]
	}
}

// verifyAll reads every acknowledged object back.
func (l *faultLoad) verifyAll(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	keys := make([]string, 0, len(l.acked))
	for k := range l.acked {
		keys = append(keys, k)
	}
	l.mu.Unlock()
	for _, k := range keys {
		if err := l.check(t.Context(), k); err != nil {
			t.Errorf("acknowledged %s: %v", k, err)
		}
	}
	t.Logf("%d acknowledged objects read back", len(keys))
}
