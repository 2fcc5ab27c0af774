package e2e

import (
	"bufio"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// How the command-line clients built from Go modules get here: .ci/run
// builds them once per machine with this script.
const goToolHow = "run bash test/e2e/install-clients.sh"

// TestMc drives the binary with MinIO's mc and its defaults: alias set,
// mb, cp of the file over 100 MiB (multipart) with and without
// --checksum CRC64NVME, cat and get, ls, mirror --remove, share download,
// watch (its default events while an object is PUT and read), rm, rb.
func TestMc(t *testing.T) {
	t.Parallel()
	mc := tool{t: t, path: requireBin(t, "mc", goToolHow), env: []string{"MC_CONFIG_DIR=" + t.TempDir()}}
	srv := startMatrixServer(t)
	tree := makeSourceTree(t)
	const bucket = "cairn/mc-matrix"
	mc.must("alias", "set", "cairn", srv.URL(), rootAccessKey, rootSecretKey)
	mc.must("mb", bucket)
	mc.must("cp", tree.path(bigKey), bucket+"/"+bigKey)
	tree.expectSum(t, "mc cat", bigKey, mc.sha256Stdout("cat", bucket+"/"+bigKey))
	t.Run("checksum CRC64NVME", func(t *testing.T) {
		mc := mc
		mc.t = t
		mc.must("cp", "--checksum", "CRC64NVME", tree.path(bigKey), bucket+"/crc64nvme.bin")
		got := filepath.Join(t.TempDir(), "got.bin")
		mc.must("get", bucket+"/crc64nvme.bin", got)
		tree.expectSum(t, "mc get crc64nvme.bin", bigKey, sha256File(t, got))
	})

	mc.must("mirror", "--remove", tree.dir, bucket+"/mirror")
	assertListed(t, mc.must("ls", "--recursive", bucket+"/mirror"), tree.keys())
	fewer := tree.without(t, "small/b.bin")
	mc.must("mirror", "--remove", fewer.dir, bucket+"/mirror")
	dst := t.TempDir()
	mc.must("mirror", bucket+"/mirror", dst)
	fewer.verifyDir(t, dst)

	share := mc.must("share", "download", bucket+"/"+bigKey)
	fetchPresigned(t, tree, bigKey, lineValue(t, share, "Share:"))

	t.Run("watch", func(t *testing.T) { watchEvents(t, mc, srv, "mc-matrix") })

	mc.must("rm", bucket+"/"+bigKey)
	mc.must("rm", "--recursive", "--force", bucket)
	mc.must("rb", bucket)
	assertBucketGone(t, srv, "mc-matrix")
}

// watchEvents runs `mc watch` with its default events (put, delete, get)
// and PUTs and GETs an object until both events are printed. The watch
// connects in the background, so an object written before it listens
// goes unseen: the write is repeated, a bounded number of times.
func watchEvents(t *testing.T, mc tool, srv *server, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := mc.command(ctx, "watch", "cairn/"+bucket)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 64)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	defer func() { cancel(); _ = cmd.Wait() }()

	client := srv.s3Client()
	var printed []string
	want := map[string]bool{"ObjectCreated:Put": false, "ObjectAccessed:Get": false}
	for attempt := range 20 {
		key := "watched-" + string(rune('a'+attempt)) + ".txt"
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(key)}); err != nil {
			t.Fatal(err)
		}
		obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			t.Fatal(err)
		}
		obj.Body.Close()
		wait := time.After(time.Second)
		for waiting := true; waiting; {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("mc watch ended: %v\n%s%s", cmd.Wait(), strings.Join(printed, "\n"), stderr.String())
				}
				printed = append(printed, line)
				for event := range want {
					// mc prints "ObjectCreated:Put http://…/bucket/key".
					want[event] = want[event] || (strings.Contains(line, event+" ") && strings.Contains(line, "/"+bucket+"/watched-"))
				}
				if want["ObjectCreated:Put"] && want["ObjectAccessed:Get"] {
					return
				}
			case <-wait:
				waiting = false
			}
		}
	}
	t.Fatalf("mc watch printed no Put and Get events of the watched objects:\n%s\n%s", strings.Join(printed, "\n"), stderr.String())
}

// TestS5cmd drives the binary with s5cmd and its defaults: mb, cp of the
// tree (the file over 100 MiB in parts), ls, cat, cp back, sync --delete,
// presign, rm, rb.
func TestS5cmd(t *testing.T) {
	t.Parallel()
	srv := startMatrixServer(t)
	s5 := tool{t: t, path: requireBin(t, "s5cmd", goToolHow),
		env: []string{
			"AWS_ACCESS_KEY_ID=" + rootAccessKey, "AWS_SECRET_ACCESS_KEY=" + rootSecretKey, "AWS_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		},
		args: []string{"--endpoint-url", srv.URL()},
	}
	tree := makeSourceTree(t)
	const bucket = "s3://s5cmd-matrix"
	s5.must("mb", bucket)
	s5.must("cp", tree.dir+"/", bucket+"/")
	assertListed(t, s5.must("ls", bucket+"/*"), tree.keys())
	tree.expectSum(t, "s5cmd cat", bigKey, s5.sha256Stdout("cat", bucket+"/"+bigKey))
	dst := t.TempDir()
	s5.must("cp", bucket+"/*", dst+"/")
	tree.verifyDir(t, dst)

	fewer := tree.without(t, "small/b.bin")
	s5.must("sync", "--delete", fewer.dir+"/", bucket+"/")
	synced := t.TempDir()
	s5.must("cp", bucket+"/*", synced+"/")
	fewer.verifyDir(t, synced)

	fetchPresigned(t, tree, bigKey, strings.TrimSpace(s5.must("presign", bucket+"/"+bigKey)))

	s5.must("rm", bucket+"/*")
	s5.must("rb", bucket)
	assertBucketGone(t, srv, "s5cmd-matrix")
}
