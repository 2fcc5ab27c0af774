package cli

import (
	"context"
	"crypto/md5"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// envSubprocess makes the test binary run the command line given after
// "--" instead of the tests, so a test can measure one cairn process.
const envSubprocess = "CAIRN_CLI_TEST_SUBPROCESS"

func TestMain(m *testing.M) {
	if os.Getenv(envSubprocess) == "1" {
		i := slices.Index(os.Args, "--")
		os.Exit(Main(context.Background(), os.Args[i+1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// patternReader yields n deterministic bytes fast: a random 1 MiB block
// whose first 8 bytes carry the block number, so no two parts are alike.
type patternReader struct {
	block []byte
	off   int64
	n     int64
}

func newPatternReader(n int64) *patternReader {
	block := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(block); i += 8 {
		binary.LittleEndian.PutUint64(block[i:], r.Uint64())
	}
	return &patternReader{block: block, n: n}
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.off >= p.n {
		return 0, io.EOF
	}
	in := p.off % int64(len(p.block))
	if in == 0 {
		binary.LittleEndian.PutUint64(p.block, uint64(p.off))
	}
	k := copy(b, p.block[in:min(int64(len(p.block)), in+p.n-p.off)])
	p.off += int64(k)
	return k, nil
}

// multipartETag is the ETag of r uploaded in parts of ps bytes.
func multipartETag(t *testing.T, r io.Reader, ps int64) string {
	t.Helper()
	var sums []byte
	n := 0
	for ; ; n++ {
		h := md5.New()
		k, err := io.CopyN(h, r, ps)
		if k > 0 {
			sums = append(sums, h.Sum(nil)...)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	all := md5.Sum(sums)
	return fmt.Sprintf("%s-%d", hex.EncodeToString(all[:]), n)
}

// A 1 GiB pipe goes up as a streaming multipart upload in a cairn process
// whose peak RSS stays far below the input: parts are read into a fixed
// set of buffers, never the whole input.
func TestCpStdin1GiBBoundedMemory(t *testing.T) {
	const size = 1 << 30
	srv := servertest.Start(t, servertest.Options{})
	vars := s3Env(srv)
	ok(t, vars, "mb", "s3://pipe")

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$", "--", "cp", "--quiet", "--parallel", "4", "-", "s3://pipe/big")
	cmd.Env = append(os.Environ(), envSubprocess+"=1")
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = newPatternReader(size)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("cairn cp - : %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "1 files, 1.0 GiB in ") {
		t.Errorf("summary: %q", out)
	}
	peak := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10 // KiB on Linux
	t.Logf("peak RSS of cairn cp - for 1 GiB: %d MiB", peak>>20)
	if peak > 200<<20 {
		t.Errorf("peak RSS %d MiB, want < 200 MiB", peak>>20)
	}

	h, err := testClient(t, vars).HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("pipe"), Key: aws.String("big")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt64(h.ContentLength) != size {
		t.Fatalf("size %d", aws.ToInt64(h.ContentLength))
	}
	// The ETag is the md5 of the part MD5s: the server holds exactly the
	// bytes the generator made.
	if got, want := strings.Trim(aws.ToString(h.ETag), `"`), multipartETag(t, newPatternReader(size), 8<<20); got != want {
		t.Errorf("ETag %s, want %s", got, want)
	}
}
