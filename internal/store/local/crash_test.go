package local

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// crashEnv names the store directory a crash-test child writes to.
const crashEnv = "CAIRN_LOCAL_CRASH_CHILD"

// TestCrashRecovery kills a writing process at random moments and checks
// that every acknowledged object survives byte for byte, that no partial
// object is visible, and that Open cleans up the leftovers.
func TestCrashRecovery(t *testing.T) {
	if dir := os.Getenv(crashEnv); dir != "" {
		crashChild(dir)
		return
	}
	if testing.Short() {
		t.Skip("short")
	}
	dir := t.TempDir()
	acked := map[string]string{} // key -> md5 hex
	deadline := time.Now().Add(60 * time.Second)
	for round := 0; round < 5 && time.Now().Before(deadline); round++ {
		lines := runAndKill(t, dir, round)
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) == 3 && f[0] == "ACK" {
				acked[f[1]] = f[2]
			}
		}
		t.Logf("round %d: %d acknowledged so far", round, len(acked))
		verifyAfterCrash(t, dir, acked)
	}
	if len(acked) == 0 {
		t.Fatal("the child acknowledged nothing")
	}
}

// runAndKill runs a child writer, kills it with SIGKILL at a random moment
// after its first acknowledgement, and returns its output lines.
func runAndKill(t *testing.T, dir string, round int) []string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashRecovery$")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir, fmt.Sprintf("CAIRN_CRASH_ROUND=%d", round))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var lines []string
	first := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(out)
		once := sync.Once{}
		for sc.Scan() {
			lines = append(lines, sc.Text())
			once.Do(func() { close(first) })
		}
	}()
	select {
	case <-first:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("child acknowledged nothing in 20s")
	}
	time.Sleep(time.Duration(100+rand.IntN(1400)) * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done // every line written before the kill is in the pipe
	cmd.Wait()
	return lines
}

func verifyAfterCrash(t *testing.T, dir string, acked map[string]string) {
	t.Helper()
	ctx := context.Background()
	tmp, _ := os.ReadDir(filepath.Join(dir, "tmp"))
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after crash: %v", err)
	}
	t.Logf("Open after crash removed %d temporary files", len(tmp))
	defer s.Close()
	if ents, _ := os.ReadDir(filepath.Join(dir, "tmp")); len(ents) != 0 {
		t.Errorf("tmp holds %d leftovers after Open", len(ents))
	}
	checkRefs(t, s)
	for key, sum := range acked {
		info, rc, err := s.GetObject(ctx, "crash", key, store.GetOptions{})
		if err != nil {
			t.Errorf("acknowledged %s: %v", key, err)
			continue
		}
		h := md5.New()
		n, err := io.Copy(h, rc)
		rc.Close()
		if got := hex.EncodeToString(h.Sum(nil)); err != nil || got != sum || n != info.Size {
			t.Errorf("acknowledged %s: read %d bytes md5 %s (%v), want md5 %s", key, n, got, err, sum)
		}
		if len(info.Parts) == 0 && info.ETag != sum {
			t.Errorf("acknowledged %s: ETag %s, want %s", key, info.ETag, sum)
		}
	}
	// Every visible object, acknowledged or not, is whole: its body matches
	// the md5 the writer recorded in its metadata.
	res, err := s.ListObjects(ctx, "crash", store.ListOptions{MaxKeys: 100000})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Objects {
		_, rc, err := s.GetObject(ctx, "crash", o.Key, store.GetOptions{})
		if err != nil {
			t.Errorf("listed %s: %v", o.Key, err)
			continue
		}
		h := md5.New()
		_, err = io.Copy(h, rc)
		rc.Close()
		if got := hex.EncodeToString(h.Sum(nil)); err != nil || got != o.Meta.User["md5"] {
			t.Errorf("visible %s is partial: md5 %s, want %s (%v)", o.Key, got, o.Meta.User["md5"], err)
		}
	}
}

// crashChild writes objects of every kind until it is killed, printing
// "ACK <key> <md5>" once each write returned.
func crashChild(dir string) {
	ctx := context.Background()
	s, err := Open(dir, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child open:", err)
		os.Exit(2)
	}
	if err := s.CreateBucket(ctx, store.Bucket{Name: "crash"}); err != nil && !errors.Is(err, store.ErrBucketExists) {
		fmt.Fprintln(os.Stderr, "child bucket:", err)
		os.Exit(2)
	}
	round := os.Getenv("CAIRN_CRASH_ROUND")
	var mu sync.Mutex
	ack := func(key string, sum []byte) {
		mu.Lock()
		defer mu.Unlock()
		// One short write per line: atomic on a pipe.
		os.Stdout.WriteString("ACK " + key + " " + hex.EncodeToString(sum) + "\n")
	}
	// A killed parent must not leave a writer running forever.
	time.AfterFunc(60*time.Second, func() { os.Exit(3) })
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			for i := 0; ; i++ {
				key := fmt.Sprintf("r%s/w%d/%05d", round, w, i)
				var sum []byte
				var err error
				switch i % 4 {
				case 0, 1:
					sum, err = childPut(ctx, s, key, r, 1+r.IntN(8<<10))
				case 2:
					sum, err = childPut(ctx, s, key, r, 100<<10+r.IntN(1<<20))
				case 3:
					sum, err = childMultipart(ctx, s, key, r)
				}
				if err != nil {
					fmt.Fprintln(os.Stderr, "child write:", err)
					os.Exit(2)
				}
				ack(key, sum)
			}
		}()
	}
	wg.Wait()
}

func randomBody(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func md5Meta(sum []byte) store.Metadata {
	return store.Metadata{User: map[string]string{"md5": hex.EncodeToString(sum)}}
}

func childPut(ctx context.Context, s *Store, key string, r *rand.Rand, n int) ([]byte, error) {
	body := randomBody(r, n)
	sum := md5.Sum(body)
	_, err := s.PutObject(ctx, "crash", key, bytes.NewReader(body), store.PutOptions{Size: int64(n), Meta: md5Meta(sum[:])})
	return sum[:], err
}

func childMultipart(ctx context.Context, s *Store, key string, r *rand.Rand) ([]byte, error) {
	parts := [][]byte{randomBody(r, store.MinPartSize), randomBody(r, 1+r.IntN(100<<10))}
	sum := md5.Sum(bytes.Join(parts, nil))
	up, err := s.CreateMultipartUpload(ctx, "crash", key, store.PutOptions{Meta: md5Meta(sum[:])})
	if err != nil {
		return nil, err
	}
	var list []store.CompletePart
	for i, p := range parts {
		info, err := s.UploadPart(ctx, "crash", key, up.UploadID, i+1, bytes.NewReader(p), store.PartOptions{Size: int64(len(p))})
		if err != nil {
			return nil, err
		}
		list = append(list, store.CompletePart{Number: i + 1, ETag: info.ETag})
	}
	_, err = s.CompleteMultipartUpload(ctx, "crash", key, up.UploadID, list, store.CompleteOptions{})
	return sum[:], err
}
