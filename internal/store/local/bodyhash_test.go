package local

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/cairn-s3/cairn/internal/store"
)

// Data-file bodies are hashed on a goroutine of their own (hashPipe)
// while the next buffer is received, from two alternating buffers. Many
// concurrent writes of sizes that are not multiples of any buffer or
// block, with known and unknown sizes, must each get the MD5 of their own
// bytes.
func TestDataFileMD5Concurrent(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	const writers = 12
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			for i := range 3 {
				body := make([]byte, DefaultInlineThreshold+1+rng.IntN(3<<20))
				for j := range body {
					body[j] = byte(rng.Uint32())
				}
				size := int64(len(body))
				if i == 1 {
					size = -1 // unknown length: the inline buffer spills
				}
				key := fmt.Sprintf("w%d-%d", w, i)
				info, err := s.PutObject(ctx, "b", key, bytes.NewReader(body), store.PutOptions{Size: size})
				if err != nil {
					t.Error(err)
					return
				}
				sum := md5.Sum(body)
				if want := hex.EncodeToString(sum[:]); info.ETag != want {
					t.Errorf("%s (%d bytes): ETag %s, want %s", key, len(body), info.ETag, want)
				}
			}
		}()
	}
	wg.Wait()
}

// A large body whose Content-MD5 does not match is refused and leaves no
// data file.
func TestDataFileBadDigest(t *testing.T) {
	s := openTest(t, Options{})
	defer s.Close()
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("cairn"), 1<<20)
	wrong := md5.Sum(body[1:])
	_, err := s.PutObject(ctx, "b", "k", bytes.NewReader(body), store.PutOptions{Size: int64(len(body)), ContentMD5: wrong[:]})
	if !errors.Is(err, store.ErrBadDigest) {
		t.Fatalf("PutObject with a wrong Content-MD5: %v, want ErrBadDigest", err)
	}
	if n := dataFiles(t, s); n != 0 {
		t.Errorf("%d data files after a refused write", n)
	}
	right := md5.Sum(body)
	if _, err := s.PutObject(ctx, "b", "k", bytes.NewReader(body), store.PutOptions{Size: int64(len(body)), ContentMD5: right[:]}); err != nil {
		t.Fatalf("PutObject with the right Content-MD5: %v", err)
	}
}
