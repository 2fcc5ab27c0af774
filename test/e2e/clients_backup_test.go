package e2e

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	debianRclone = "/usr/bin/rclone"
	debianRestic = "/usr/bin/restic"
)

// TestRclone drives the binary with Debian's rclone as an "s3" remote of
// provider Ceph configured from the environment: copy, check --download,
// lsf, copy back, sync with a deletion, link (a presigned URL), purge.
func TestRclone(t *testing.T) {
	t.Parallel()
	srv := startMatrixServer(t)
	tree := makeSourceTree(t)
	rclone := tool{t: t, path: requireTool(t, debianRclone, "rclone"),
		env: []string{
			"RCLONE_CONFIG=" + filepath.Join(t.TempDir(), "rclone.conf"),
			"RCLONE_CONFIG_CAIRN_TYPE=s3", "RCLONE_CONFIG_CAIRN_PROVIDER=Ceph",
			"RCLONE_CONFIG_CAIRN_ENDPOINT=" + srv.URL(),
			"RCLONE_CONFIG_CAIRN_ACCESS_KEY_ID=" + rootAccessKey,
			"RCLONE_CONFIG_CAIRN_SECRET_ACCESS_KEY=" + rootSecretKey,
		},
		// rclone 1.60 refuses to start when AWS_CA_BUNDLE is set (this
		// machine exports one; the endpoint is plain HTTP anyway).
		drop: []string{"AWS_CA_BUNDLE"},
		// rclone's multipart threshold is 200 MiB; lowered so that the file
		// of just over 100 MiB goes in parts like every other client's.
		args: []string{"--s3-upload-cutoff", "32Mi"},
	}
	const remote = "cairn:rclone-matrix"
	rclone.must("mkdir", remote)
	rclone.must("copy", tree.dir, remote)
	rclone.must("check", "--download", tree.dir, remote)
	listed := strings.Fields(rclone.must("lsf", "-R", "--files-only", remote))
	if want := tree.keys(); !slices.Equal(listed, want) {
		t.Errorf("rclone lsf: %q, want %q", listed, want)
	}
	dst := t.TempDir()
	rclone.must("copy", remote, dst)
	tree.verifyDir(t, dst)

	fetchPresigned(t, tree, bigKey, strings.TrimSpace(rclone.must("link", remote+"/"+bigKey)))

	fewer := tree.without(t, "small/b.bin")
	rclone.must("sync", fewer.dir, remote)
	// check fails on a file only one side has: the sync deleted it.
	rclone.must("check", "--download", fewer.dir, remote)

	rclone.must("purge", remote)
	assertBucketGone(t, srv, "rclone-matrix")
}

// TestRestic drives the binary with Debian's restic (its S3 backend is
// minio-go): init, backup, check --read-data, restore, then forget --prune
// of the only snapshot, which deletes every data pack.
func TestRestic(t *testing.T) {
	t.Parallel()
	srv := startMatrixServer(t)
	tree := makeSourceTree(t)
	const bucket = "restic-matrix"
	restic := tool{t: t, path: requireTool(t, debianRestic, "restic"),
		env: []string{
			"RESTIC_REPOSITORY=s3:" + srv.URL() + "/" + bucket,
			"RESTIC_PASSWORD=e2e-restic-password",
			"RESTIC_CACHE_DIR=" + t.TempDir(),
			"AWS_ACCESS_KEY_ID=" + rootAccessKey, "AWS_SECRET_ACCESS_KEY=" + rootSecretKey,
		},
	}
	restic.must("init")
	restic.must("backup", tree.dir)
	restic.must("check", "--read-data")
	dst := t.TempDir()
	restic.must("restore", "latest", "--target", dst)
	// restic restores under the backed-up path, absolute.
	tree.verifyDir(t, filepath.Join(dst, tree.dir))

	restic.must("forget", "--prune", "latest")
	restic.must("check")
	packs, err := srv.s3Client().ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("data/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(packs.Contents) != 0 {
		t.Errorf("forget --prune left %d data packs", len(packs.Contents))
	}
}
