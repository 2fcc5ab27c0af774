package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// TestMinioGo drives the binary with minio-go's own signers, V4 and V2,
// with the client's defaults (which the restic and mc tests exercise
// through those programs' own settings).
func TestMinioGo(t *testing.T) {
	t.Parallel()
	srv := startMatrixServer(t)
	tree := makeSourceTree(t)
	signers := map[string]*credentials.Credentials{
		"v4": credentials.NewStaticV4(rootAccessKey, rootSecretKey, ""),
		"v2": credentials.NewStaticV2(rootAccessKey, rootSecretKey, ""),
	}
	for name, creds := range signers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			client, err := minio.New(strings.TrimPrefix(srv.URL(), "http://"), &minio.Options{Creds: creds, Region: "us-east-1"})
			if err != nil {
				t.Fatal(err)
			}
			m := minioMatrix{t: t, client: client, tree: tree, bucket: "minio-go-" + name}
			m.upload()
			t.Run("unknown length", m.unknownLength)
			m.readBack()
			t.Run("bucket policy", m.bucketPolicy)
			t.Run("compose", m.compose)
			m.remove()
		})
	}
}

// minioMatrix is one signer's pass over the matrix.
type minioMatrix struct {
	t      *testing.T
	client *minio.Client
	tree   sourceTree
	bucket string
}

// upload creates the bucket and PUTs the tree: the big file from disk
// (known size, multipart), the small ones as readers of known length.
func (m minioMatrix) upload() {
	ctx := context.Background()
	if err := m.client.MakeBucket(ctx, m.bucket, minio.MakeBucketOptions{}); err != nil {
		m.t.Fatal(err)
	}
	for _, key := range m.tree.keys() {
		if _, err := m.client.FPutObject(ctx, m.bucket, key, m.tree.path(key), minio.PutObjectOptions{}); err != nil {
			m.t.Fatalf("PutObject %s: %v", key, err)
		}
	}
}

// unknownLength PUTs a reader of unknown size (-1): minio-go sends it as a
// multipart upload.
func (m minioMatrix) unknownLength(t *testing.T) {
	const key = "nested/deep/c.bin"
	f, err := os.Open(m.tree.path(key))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	if _, err := m.client.PutObject(ctx, m.bucket, "unknown-length.bin", struct{ io.Reader }{f}, -1, minio.PutObjectOptions{}); err != nil {
		t.Fatalf("PutObject of unknown length: %v", err)
	}
	m.expectObject(t, "unknown-length.bin", m.tree.sums[key])
	if err := m.client.RemoveObject(ctx, m.bucket, "unknown-length.bin", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

// readBack GETs, lists and presigns what upload stored.
func (m minioMatrix) readBack() {
	t := m.t
	for _, key := range m.tree.keys() {
		m.expectObject(t, key, m.tree.sums[key])
	}
	var listed []string
	for obj := range m.client.ListObjects(context.Background(), m.bucket, minio.ListObjectsOptions{Recursive: true}) {
		if obj.Err != nil {
			t.Fatal(obj.Err)
		}
		listed = append(listed, obj.Key)
	}
	if !slices.Equal(listed, m.tree.keys()) {
		t.Errorf("ListObjects: %q, want %q", listed, m.tree.keys())
	}
	u, err := m.client.PresignedGetObject(context.Background(), m.bucket, bigKey, 10*time.Minute, nil)
	if err != nil {
		t.Fatal(err)
	}
	fetchPresigned(t, m.tree, bigKey, u.String())
}

// bucketPolicy makes small/* readable by anyone, reads the policy back and
// checks that an anonymous GET is let through there and nowhere else.
func (m minioMatrix) bucketPolicy(t *testing.T) {
	ctx := context.Background()
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},` +
		`"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::` + m.bucket + `/small/*"]}]}`
	if err := m.client.SetBucketPolicy(ctx, m.bucket, policy); err != nil {
		t.Fatalf("SetBucketPolicy: %v", err)
	}
	got, err := m.client.GetBucketPolicy(ctx, m.bucket)
	if err != nil {
		t.Fatalf("GetBucketPolicy: %v", err)
	}
	var want, have any
	if json.Unmarshal([]byte(policy), &want) != nil || json.Unmarshal([]byte(got), &have) != nil || !reflect.DeepEqual(want, have) {
		t.Errorf("GetBucketPolicy: %s, set %s", got, policy)
	}
	base := m.client.EndpointURL().String() + "/" + m.bucket + "/"
	for key, status := range map[string]int{"small/b.bin": http.StatusOK, bigKey: http.StatusForbidden} {
		resp, err := http.Get(base + key)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Errorf("anonymous GET %s: %s, want %d", key, resp.Status, status)
		}
	}
	if err := m.client.SetBucketPolicy(ctx, m.bucket, ""); err != nil {
		t.Fatalf("SetBucketPolicy to none: %v", err)
	}
}

// compose joins the big object's first 6 MiB and a small object into a
// new one (UploadPartCopy with a source range).
func (m minioMatrix) compose(t *testing.T) {
	const head, tail = 6 << 20, "nested/deep/c.bin"
	srcs := []minio.CopySrcOptions{
		{Bucket: m.bucket, Object: bigKey, MatchRange: true, Start: 0, End: head - 1},
		{Bucket: m.bucket, Object: tail},
	}
	ctx := context.Background()
	if _, err := m.client.ComposeObject(ctx, minio.CopyDestOptions{Bucket: m.bucket, Object: "composed.bin"}, srcs...); err != nil {
		t.Fatalf("ComposeObject: %v", err)
	}
	big, err := os.Open(m.tree.path(bigKey))
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	small, err := os.Open(m.tree.path(tail))
	if err != nil {
		t.Fatal(err)
	}
	defer small.Close()
	m.expectObject(t, "composed.bin", sha256Reader(t, io.MultiReader(io.NewSectionReader(big, 0, head), small)))
	if err := m.client.RemoveObject(ctx, m.bucket, "composed.bin", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

// remove deletes the big object alone, the rest with one RemoveObjects
// (multi-object delete) and the bucket.
func (m minioMatrix) remove() {
	t, ctx := m.t, context.Background()
	if err := m.client.RemoveObject(ctx, m.bucket, bigKey, minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	objects := make(chan minio.ObjectInfo)
	go func() {
		defer close(objects)
		for obj := range m.client.ListObjects(ctx, m.bucket, minio.ListObjectsOptions{Recursive: true}) {
			objects <- obj
		}
	}()
	for e := range m.client.RemoveObjects(ctx, m.bucket, objects, minio.RemoveObjectsOptions{}) {
		t.Errorf("RemoveObjects %s: %v", e.ObjectName, e.Err)
	}
	if err := m.client.RemoveBucket(ctx, m.bucket); err != nil {
		t.Fatalf("RemoveBucket (every object removed): %v", err)
	}
}

// expectObject GETs key and compares its SHA-256.
func (m minioMatrix) expectObject(t *testing.T, key, sum string) {
	t.Helper()
	obj, err := m.client.GetObject(context.Background(), m.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer obj.Close()
	if got := sha256Reader(t, obj); got != sum {
		t.Errorf("GetObject %s: SHA-256 %s, want %s", key, got, sum)
	}
}
