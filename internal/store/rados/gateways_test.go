//go:build rados

package rados

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ceph/go-ceph/rados"

	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// twoGateways opens two stores on one fresh pool, each with a cluster
// connection of its own, as two gateway processes would.
func twoGateways(t *testing.T, hook store.ChangeHook) (*Store, *Store) {
	t.Helper()
	a := openFresh(t, hook)
	pool, err := a.io.GetPoolName()
	if err != nil {
		t.Fatal(err)
	}
	testConn(t)
	c, err := rados.NewConn()
	if err == nil {
		err = c.ReadConfigFile(radostest.ConfPath(t))
	}
	if err == nil {
		err = c.Connect()
	}
	if err != nil {
		t.Fatalf("second connection: %v", err)
	}
	b, err := Open(context.Background(), Options{Conn: c, Pool: pool, Shards: 3, Hook: hook})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Close()
		c.Shutdown()
	})
	return a, b
}

// Of concurrent If-None-Match: * PUTs of one key through two gateways,
// exactly one wins: the guard is the shard's omap comparison, not a lock
// either gateway holds.
// Each attempt's hook writes a record; only the winner's commit exists, so
// only its record does (an event exists iff its change does).
func TestGatewaysIfNoneMatchOneWinner(t *testing.T) {
	hook := func(_ context.Context, c store.Change, w store.RecordWriter) error {
		return w.Put(fmt.Appendf(nil, "events/%020d", c.Sequence), []byte(c.Object.ETag))
	}
	a, b := twoGateways(t, hook)
	ctx := context.Background()
	if err := a.CreateBucket(ctx, store.Bucket{Name: "b", Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	const n = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, refused := 0, 0
	for i := range n {
		gw := []*Store{a, b}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprint("writer-", i)
			_, err := gw.PutObject(ctx, "b", "k", strings.NewReader(body), store.PutOptions{Size: int64(len(body)), IfNoneMatch: "*"})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrPreconditionFailed):
				refused++
			default:
				t.Errorf("PUT %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 || refused != n-1 {
		t.Fatalf("%d wins, %d refused; want 1 and %d", wins, refused, n-1)
	}
	// The winner's object is read through the other gateway at once.
	for _, gw := range []*Store{a, b} {
		info, rc, err := gw.GetObject(ctx, "b", "k", store.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if !strings.HasPrefix(string(got), "writer-") || int64(len(got)) != info.Size {
			t.Errorf("read %q (%+v)", got, info)
		}
		var recs []string
		for p, err := range gw.KV().Scan(ctx, []byte("events/"), nil) {
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, string(p.Value))
		}
		if len(recs) != 1 || recs[0] != info.ETag {
			t.Errorf("records %q, want only the winner's (%s)", recs, info.ETag)
		}
	}
}

func TestGatewaysCreateBucketOneWinner(t *testing.T) {
	a, b := twoGateways(t, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = []*Store{a, b}[i%2].CreateBucket(ctx, store.Bucket{Name: "same", Owner: fmt.Sprint(i)})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else if !errors.Is(err, store.ErrBucketExists) {
			t.Errorf("CreateBucket: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d creations succeeded, want 1", ok)
	}
}

// A key written alternately through two gateways gets growing sequence
// numbers although each gateway leases its own block.
func TestGatewaysSequencePerKey(t *testing.T) {
	var mu sync.Mutex
	var seqs []uint64
	hook := func(_ context.Context, c store.Change, _ store.RecordWriter) error {
		if c.Object.Key == "k" {
			mu.Lock()
			seqs = append(seqs, c.Sequence)
			mu.Unlock()
		}
		return nil
	}
	a, b := twoGateways(t, hook)
	ctx := context.Background()
	if err := a.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	put := func(gw *Store, key string) {
		t.Helper()
		if _, err := gw.PutObject(ctx, "b", key, strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	put(a, "first") // a leases the lower block
	put(b, "second")
	for range 3 {
		put(a, "k")
		put(b, "k")
	}
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("sequences of k: %v, not growing", seqs)
		}
	}
}

// Bodies a commit unreferences stay readable until the grace period of the
// garbage collector ends, then are removed.
func TestGarbageAfterOverwrite(t *testing.T) {
	s := openFresh(t, nil)
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	old := bytes.Repeat([]byte("o"), stripeSize+10) // two stripes
	if _, err := s.PutObject(ctx, "b", "k", bytes.NewReader(old), store.PutOptions{Size: int64(len(old))}); err != nil {
		t.Fatal(err)
	}
	_, rc, err := s.GetObject(ctx, "b", "k", store.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if _, err := s.PutObject(ctx, "b", "k", strings.NewReader("new"), store.PutOptions{Size: 3}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.CollectGarbage(ctx, time.Hour, time.Hour); err != nil || n != 0 {
		t.Fatalf("early pass removed %d bodies, %v", n, err)
	}
	got, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(got, old) {
		t.Fatalf("read across the overwrite: %d bytes, %v", len(got), err)
	}
	if n, err := s.CollectGarbage(ctx, 0, time.Hour); err != nil || n != 1 {
		t.Fatalf("pass removed %d bodies, %v; want 1", n, err)
	}
	if n := countStripes(t, s); n != 0 {
		t.Errorf("%d stripes left, want none (the new body is inline)", n)
	}
}

// The stripes of a write that never committed (a gateway that died) are
// found through their intent row and removed; a commit arriving after that
// fails instead of committing a version without data.
func TestIntentOfDeadWriteCollected(t *testing.T) {
	s := openFresh(t, nil)
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	rec, _, err := s.readBucket("b")
	if err != nil {
		t.Fatal(err)
	}
	body := bytes.Repeat([]byte("d"), 2*stripeSize+1)
	in, err := s.receive(ctx, rec.shardOID("k"), bytes.NewReader(body), int64(len(body)), nil)
	if err != nil {
		t.Fatal(err)
	}
	if n := countStripes(t, s); n != 3 {
		t.Fatalf("%d stripes written, want 3", n)
	}
	if n, err := s.CollectGarbage(ctx, time.Hour, 0); err != nil || n != 1 {
		t.Fatalf("pass removed %d bodies, %v; want 1", n, err)
	}
	if n := countStripes(t, s); n != 0 {
		t.Errorf("%d stripes left after collecting a dead write", n)
	}
	_, err = s.commitBody(ctx, "b", "k", in, newVersion{kind: store.ChangePut})
	if !errors.Is(err, errCollected) {
		t.Fatalf("commit after collection: %v, want errCollected", err)
	}
	if _, err := s.HeadObject(ctx, "b", "k", store.GetOptions{}); !errors.Is(err, store.ErrNoSuchKey) {
		t.Errorf("HeadObject = %v, want ErrNoSuchKey", err)
	}
}

func countStripes(t *testing.T, s *Store) int {
	t.Helper()
	n := 0
	err := s.io.ListObjects(func(oid string) {
		if strings.HasPrefix(oid, "d.") {
			n++
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A gateway that died while deleting a bucket leaves its shards closed;
// the next writer resumes the deletion: a bucket with objects is reopened
// (the write succeeds), an empty one is deleted.
func TestDeadBucketDeletionResumed(t *testing.T) {
	s := openFresh(t, nil)
	ctx := context.Background()
	for _, name := range []string{"full", "empty"} {
		if err := s.CreateBucket(ctx, store.Bucket{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PutObject(ctx, "full", "k", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"full", "empty"} {
		rec, _, err := s.readBucket(name)
		if err != nil {
			t.Fatal(err)
		}
		long := wrap([]byte(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)))
		for n := range rec.Shards {
			if err := s.io.SetOmap(shardOID(rec.ID, n), map[string][]byte{rowClosed: long}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := s.PutObject(ctx, "full", "k2", strings.NewReader("y"), store.PutOptions{Size: 1}); err != nil {
		t.Fatalf("write to a bucket whose deletion died: %v", err)
	}
	_, err := s.PutObject(ctx, "empty", "k", strings.NewReader("y"), store.PutOptions{Size: 1})
	if !errors.Is(err, store.ErrNoSuchBucket) {
		t.Fatalf("write to an empty bucket whose deletion died: %v, want ErrNoSuchBucket", err)
	}
	if _, err := s.GetBucket(ctx, "empty"); !errors.Is(err, store.ErrNoSuchBucket) {
		t.Errorf("GetBucket(empty) = %v, want the deletion finished", err)
	}
}

// A bucket deletion racing writes through another gateway never loses an
// acknowledged object: either the deletion wins while the bucket is empty
// (and no write is acknowledged after it), or every acknowledged object
// stays readable.
func TestGatewaysDeleteBucketRacingWrites(t *testing.T) {
	a, b := twoGateways(t, nil)
	ctx := context.Background()
	for round := range 6 {
		name := fmt.Sprint("race", round)
		if err := a.CreateBucket(ctx, store.Bucket{Name: name}); err != nil {
			t.Fatal(err)
		}
		var acked []string
		done := make(chan struct{})
		go func() {
			defer close(done)
			for i := range 8 {
				key := fmt.Sprint("k", i)
				_, err := a.PutObject(ctx, name, key, strings.NewReader("x"), store.PutOptions{Size: 1})
				if err == nil {
					acked = append(acked, key)
				} else if !errors.Is(err, store.ErrNoSuchBucket) {
					t.Errorf("PUT: %v", err)
				}
			}
		}()
		deleted := false
		for range 8 {
			err := b.DeleteBucket(ctx, name)
			if err == nil {
				deleted = true
				break
			}
			if !errors.Is(err, store.ErrBucketNotEmpty) {
				t.Fatalf("DeleteBucket: %v", err)
			}
		}
		<-done
		if deleted {
			if len(acked) > 0 {
				t.Fatalf("round %d: bucket deleted, yet PUTs of %v were acknowledged", round, acked)
			}
			continue
		}
		for _, key := range acked {
			if _, err := b.HeadObject(ctx, name, key, store.GetOptions{}); err != nil {
				t.Fatalf("round %d: acknowledged %s: %v", round, key, err)
			}
		}
	}
}
