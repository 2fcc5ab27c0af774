package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store/local"
)

// TestFsckAfterMidWALDamage runs the operator's path end to end: objects
// written through the real server, a byte flipped in the middle of the
// metadata WAL, a server that refuses to start and says why and what to
// do, fsck naming the loss, fsck --repair, and a server that starts again.
func TestFsckAfterMidWALDamage(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{EnvData: dir, EnvRootAccessKey: "FSCKROOTKEY", EnvRootSecretKey: "fsckrootsecret"}
	banner, stop := startServer(t, vars)
	s3vars := map[string]string{"AWS_ENDPOINT_URL": endpointRE.FindStringSubmatch(banner)[1], "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": vars[EnvRootAccessKey], "AWS_SECRET_ACCESS_KEY": vars[EnvRootSecretKey]}
	ok(t, s3vars, "mb", "s3://fsckb")
	src := filepath.Join(t.TempDir(), "body")
	if err := os.WriteFile(src, bytes.Repeat([]byte("cairn"), 20<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 4; i++ {
		ok(t, s3vars, "cp", "--quiet", src, fmt.Sprintf("s3://fsckb/obj-%d", i))
	}
	if r := stop(); r.code != 0 {
		t.Fatalf("server exit %d: %s", r.code, r.stderr)
	}

	wal := flipInWAL(t, dir, "o/fsckb\x00obj-0\x00\x01")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r := runCLIContext(ctx, vars, "server", "--address", "127.0.0.1:0", "--console-address", "")
	if r.code == 0 || !strings.Contains(r.stderr, wal) || !strings.Contains(r.stderr, "damaged at offset ") ||
		!strings.Contains(r.stderr, "cairn admin fsck --data "+dir) {
		t.Fatalf("server on a damaged WAL: exit %d, stderr %q", r.code, r.stderr)
	}

	r = runCLI(t, vars, "admin", "fsck")
	if r.code != 1 || !strings.Contains(r.stderr, "--repair") {
		t.Errorf("fsck: exit %d, stderr %q", r.code, r.stderr)
	}
	var rep local.FsckReport
	decode(t, r.stdout, &rep)
	var lost []string
	for _, o := range rep.LostObjects {
		lost = append(lost, o.Bucket+"/"+o.Key)
	}
	if strings.Join(lost, " ") != "fsckb/obj-1 fsckb/obj-2 fsckb/obj-3" || len(rep.OrphanedDataFiles) != 4 {
		t.Errorf("fsck names %v lost and %d orphans:\n%s", lost, len(rep.OrphanedDataFiles), r.stdout)
	}

	out := ok(t, vars, "admin", "fsck", "--data", dir, "--repair", "--format", "text")
	for _, want := range []string{"repaired: cut WAL " + wal, "lost put of fsckb/obj-3", "moved to " + filepath.Join(dir, "lost+found"), "the server can start"} {
		if !strings.Contains(out, want) {
			t.Errorf("fsck --repair output lacks %q:\n%s", want, out)
		}
	}

	banner, stop = startServer(t, vars)
	defer stop()
	s3vars["AWS_ENDPOINT_URL"] = endpointRE.FindStringSubmatch(banner)[1]
	fails(t, s3vars, "NoSuchKey", "cat", "s3://fsckb/obj-3")
	ok(t, s3vars, "cp", "--quiet", src, "s3://fsckb/again")
}

// flipInWAL flips a byte of the record holding key in the metadata WAL
// that holds it, and returns that WAL's path.
func flipInWAL(t *testing.T, dir, key string) string {
	t.Helper()
	logs, err := filepath.Glob(filepath.Join(dir, "meta", "*.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range logs {
		b, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(b, []byte(key)); i >= 0 {
			b[i+3] ^= 0x40
			if err := os.WriteFile(l, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return l
		}
	}
	t.Fatalf("no WAL holds %q", key)
	return ""
}
