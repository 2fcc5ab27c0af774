//go:build rados

package radosopen_test

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// Gateways as real processes of the `-tags rados` binary, for the tests
// that SIGKILL one.

const (
	procAccessKey = "RADOSPROCROOTKEY0000"
	procSecretKey = "rados-proc-root-secret-0000000000000000"
)

// buildCairn builds the RADOS binary into a directory of the test.
func buildCairn(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cairn")
	build := exec.Command("go", "build", "-tags", "rados", "-o", bin, "../../../cmd/cairn")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build cairn: %v\n%s", err, out)
	}
	return bin
}

// gatewayProc is one `cairn server --store rados` process.
type gatewayProc struct {
	*servertest.Running
	cmd     *exec.Cmd
	logPath string
	exited  chan struct{}
}

// startProc starts a gateway process on a free loopback port and waits
// (bounded) until it answers HTTP; it is stopped when the test ends.
func startProc(t *testing.T, bin, conf, prefix string, flags ...string) *gatewayProc {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	g := &gatewayProc{Running: &servertest.Running{URL: "http://" + addr, RootAccessKey: procAccessKey, RootSecretKey: procSecretKey},
		logPath: filepath.Join(t.TempDir(), "gateway.log"), exited: make(chan struct{})}
	logFile, err := os.Create(g.logPath)
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"server", "--store", "rados", "--ceph-conf", conf, "--pool-prefix", prefix, "--address", addr, "--console-address", ""}, flags...)
	g.cmd = exec.Command(bin, args...)
	g.cmd.Env = append(os.Environ(), "CAIRN_ROOT_ACCESS_KEY="+procAccessKey, "CAIRN_ROOT_SECRET_KEY="+procSecretKey)
	g.cmd.Stdout, g.cmd.Stderr = logFile, logFile
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = g.cmd.Wait()
		logFile.Close()
		close(g.exited)
	}()
	t.Cleanup(g.stop)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(g.URL + "/"); err == nil {
			resp.Body.Close()
			return g
		}
		select {
		case <-g.exited:
			t.Fatalf("gateway exited at start; log:\n%s", g.log())
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("gateway did not start on %s; log:\n%s", addr, g.log())
	return nil
}

func (g *gatewayProc) log() string {
	b, _ := os.ReadFile(g.logPath)
	return string(b)
}

// kill ends the process with SIGKILL and waits for it.
func (g *gatewayProc) kill(t *testing.T) {
	_ = g.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-g.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("killed gateway did not exit")
	}
}

// stop ends the process gracefully (SIGTERM, then SIGKILL after a bound).
func (g *gatewayProc) stop() {
	select {
	case <-g.exited:
		return
	default:
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
	case <-time.After(30 * time.Second):
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
}
