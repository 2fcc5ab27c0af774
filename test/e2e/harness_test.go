// Package e2e drives the built cairn binary as a user would: started as a
// separate process on a loopback port, talked to by real clients (the
// client matrix of clients_*_test.go: boto3, the JavaScript SDK, awscli,
// s3cmd, rclone, restic, mc, s5cmd, minio-go; and aws-sdk-go-v2), killed
// and restarted.
package e2e

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	rootAccessKey = "E2EROOTACCESSKEY0000"
	rootSecretKey = "e2e-root-secret-key-0000000000000000000"
)

var cairnBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cairn-e2e-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cairnBin = filepath.Join(dir, "cairn")
	build := exec.Command("go", "build", "-o", cairnBin, "../../cmd/cairn")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building cairn:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a cairn process serving one data directory.
type server struct {
	t       *testing.T
	dataDir string
	addr    string
	cmd     *exec.Cmd
	logPath string
	flags   []string // extra flags of `cairn server`
}

// startServer runs `cairn server` on a free loopback port over dataDir and
// waits until it answers HTTP.
func startServer(t *testing.T, dataDir string, flags ...string) *server {
	t.Helper()
	s := &server{t: t, dataDir: dataDir, addr: freeLoopbackAddr(t), flags: flags}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func (s *server) start() {
	s.t.Helper()
	s.logPath = filepath.Join(s.t.TempDir(), "server.log")
	logFile, err := os.Create(s.logPath)
	if err != nil {
		s.t.Fatal(err)
	}
	s.cmd = exec.Command(cairnBin, append([]string{"server", "--data", s.dataDir, "--address", s.addr, "--console-address", "127.0.0.1:0"}, s.flags...)...)
	s.cmd.Env = append(os.Environ(),
		"CAIRN_ROOT_ACCESS_KEY="+rootAccessKey,
		"CAIRN_ROOT_SECRET_KEY="+rootSecretKey,
	)
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); logFile.Close() }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(s.URL() + "/")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("cairn did not start on %s; log:\n%s", s.addr, s.log())
}

// URL is the server's endpoint.
func (s *server) URL() string { return "http://" + s.addr }

func (s *server) log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// kill ends the process with SIGKILL, as a crash would.
func (s *server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGKILL)
		waitExit(s.cmd)
	}
}

// stop ends the process gracefully.
func (s *server) stop() {
	if s.cmd != nil && s.cmd.Process != nil && s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		if !waitExit(s.cmd) {
			_ = s.cmd.Process.Kill()
			waitExit(s.cmd)
		}
	}
}

func waitExit(cmd *exec.Cmd) bool {
	for i := 0; i < 200; i++ {
		if cmd.ProcessState != nil {
			return true
		}
		if err := cmd.Process.Signal(syscall.Signal(0)); err != nil {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// s3Client returns an aws-sdk-go-v2 client for the root user, with the
// SDK's default checksum behaviour.
func (s *server) s3Client(opts ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		BaseEndpoint: aws.String(s.URL()),
		Region:       "us-east-1",
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(rootAccessKey, rootSecretKey, ""),
	}, opts...)
}

// requireTool returns the path of an external client, skipping the test
// when it is missing — except under CI, where a missing dependency fails.
func requireTool(t *testing.T, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		missingDependency(t, "%s is missing (apt-get install %s)", path, pkg)
	}
	return path
}

// missingDependency skips the test — except under CI, where every client
// the tests use must be there and a missing one fails.
func missingDependency(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// run executes a command with a bounded time and returns its combined output.
func run(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func mustRun(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, err := run(t, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

// putUntilKilled PUTs into bucket from 8 writers, kills the server with
// SIGKILL once at least n PUTs were acknowledged (or after 30s), and
// returns the acknowledged keys. The writers stop at their first error:
// the PUT the server died under is not acknowledged.
func putUntilKilled(t *testing.T, srv *server, client *s3.Client, bucket string, n int) []string {
	t.Helper()
	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100000 {
				select {
				case <-stop:
					return
				default:
				}
				key := fmt.Sprintf("w%d/%06d", w, i)
				if _, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
					Body: strings.NewReader(key)}); err != nil {
					return
				}
				mu.Lock()
				acked = append(acked, key)
				mu.Unlock()
			}
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		done := len(acked) >= n
		mu.Unlock()
		if done {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	srv.kill()
	close(stop)
	wg.Wait()
	return acked
}
