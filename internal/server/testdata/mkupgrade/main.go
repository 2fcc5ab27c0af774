// Command mkupgrade writes testdata/upgrade-048fa84.tar.gz and its
// manifest: it runs a Cairn binary built from an older commit on a fresh
// data directory, fills it over S3, SNS, PubSub and the admin API, stops
// it with SIGINT and tars the directory. TestUpgradeOpensPreTenantData
// opens the result with today's server.
//
//	go build -o /tmp/cairn-old ./cmd/cairn   # in a checkout of the old commit
//	go run ./internal/server/testdata/mkupgrade -binary /tmp/cairn-old -commit 048fa84
//
// It lives under testdata so that ./... patterns leave it alone.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

// Manifest records what the fixture holds, for the test to check.
type Manifest struct {
	Commit        string         `json:"commit"`
	Root          User           `json:"root"`
	Users         []User         `json:"users"`
	Buckets       []Bucket       `json:"buckets"`
	Objects       []Object       `json:"objects"`
	Topics        []Topic        `json:"topics"`
	Notifications []Notification `json:"notifications"`
	Subscriptions []Subscription `json:"subscriptions"`
}

type User struct {
	UID       string `json:"uid"`
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

type Bucket struct {
	Name       string `json:"name"`
	Owner      string `json:"owner"`
	Versioning string `json:"versioning"`
}

// Object is one version; DeleteMarker versions have no body.
type Object struct {
	Bucket       string `json:"bucket"`
	Key          string `json:"key"`
	VersionID    string `json:"version_id"`
	Latest       bool   `json:"latest"`
	DeleteMarker bool   `json:"delete_marker"`
	Size         int64  `json:"size"`
	SHA256       string `json:"sha256"`
	ETag         string `json:"etag"`
}

type Topic struct {
	Owner string `json:"owner"`
	Name  string `json:"name"`
	ARN   string `json:"arn"`
}

type Notification struct {
	Bucket   string `json:"bucket"`
	ID       string `json:"id"`
	TopicARN string `json:"topic_arn"`
}

// Subscription lists the unacked events' object keys, oldest first.
type Subscription struct {
	Owner string   `json:"owner"`
	Name  string   `json:"name"`
	Keys  []string `json:"keys"`
}

const (
	rootAK = "UPGRADEROOTKEY000000"
	rootSK = "upgrade-root-secret-key-00000000000000000"
)

func main() {
	binary := flag.String("binary", "", "old cairn binary")
	commit := flag.String("commit", "", "commit the binary was built from")
	addr := flag.String("address", "127.0.0.1:18631", "loopback address for the old server")
	out := flag.String("out", "internal/server/testdata", "directory for the tarball and manifest")
	flag.Parse()
	if *binary == "" || *commit == "" {
		log.Fatal("-binary and -commit are required")
	}
	dir, err := os.MkdirTemp("", "mkupgrade")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	data := filepath.Join(dir, "data")
	cmd := exec.Command(*binary, "server", "--data", data, "--address", *addr, "--pubsub",
		"--ballast-size", "0", "--scrub-interval", "0")
	cmd.Env = append(os.Environ(), "CAIRN_ROOT_ACCESS_KEY="+rootAK, "CAIRN_ROOT_SECRET_KEY="+rootSK)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		log.Fatal(err)
	}
	f := &filler{endpoint: "http://" + *addr, m: Manifest{Commit: *commit, Root: User{"root", rootAK, rootSK}}}
	fillErr := f.waitUp()
	if fillErr == nil {
		fillErr = f.fill(context.Background())
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		log.Fatalf("old server: %v", err)
	}
	if fillErr != nil {
		log.Fatal(fillErr)
	}
	name := "upgrade-" + *commit
	if err := writeTarGz(data, filepath.Join(*out, name+".tar.gz")); err != nil {
		log.Fatal(err)
	}
	raw, _ := json.MarshalIndent(f.m, "", "  ")
	if err := os.WriteFile(filepath.Join(*out, name+".json"), append(raw, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
}

type filler struct {
	endpoint string
	m        Manifest
}

func (f *filler) waitUp() error {
	for range 100 {
		if resp, err := http.Get(f.endpoint + "/"); err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("old server did not start at %s", f.endpoint)
}

func (f *filler) s3(u User) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(f.endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(u.AccessKey, u.SecretKey, ""), RetryMaxAttempts: 1})
}

// call sends a SigV4-signed request outside S3 (admin, PubSub).
func (f *filler) call(ctx context.Context, u User, method, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, f.endpoint+path, nil)
	if err != nil {
		return nil, err
	}
	empty := sha256.Sum256(nil)
	req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(empty[:]))
	creds := aws.Credentials{AccessKeyID: u.AccessKey, SecretAccessKey: u.SecretKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(empty[:]), "s3", "us-east-1", time.Now()); err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, body)
	}
	return body, nil
}

// body is a deterministic, compressible body of n bytes.
func body(seed, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i*7 + seed) % 251)
	}
	return b
}

func (f *filler) fill(ctx context.Context) error {
	alice := User{"alice", "UPGRADEALICEKEY00000", "upgrade-alice-secret-key-0000000000000000"}
	bob := User{"bob", "UPGRADEBOBKEY0000000", "upgrade-bob-secret-key-00000000000000000"}
	for _, u := range []User{alice, bob} {
		q := url.Values{"uid": {u.UID}, "display-name": {u.UID}, "access-key": {u.AccessKey}, "secret-key": {u.SecretKey}}
		if _, err := f.call(ctx, f.m.Root, http.MethodPut, "/admin/user?"+q.Encode()); err != nil {
			return err
		}
		f.m.Users = append(f.m.Users, u)
	}
	as, bs := f.s3(alice), f.s3(bob)
	for _, b := range []struct {
		c          *s3.Client
		name, user string
		versioned  bool
	}{{as, "plain", "alice", false}, {as, "versioned", "alice", true}, {bs, "bobs", "bob", false}} {
		if _, err := b.c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b.name)}); err != nil {
			return fmt.Errorf("create %s: %w", b.name, err)
		}
		v := ""
		if b.versioned {
			v = "Enabled"
			if _, err := b.c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b.name),
				VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
				return err
			}
		}
		f.m.Buckets = append(f.m.Buckets, Bucket{b.name, b.user, v})
	}
	if err := f.events(ctx, alice, as); err != nil {
		return err
	}
	if err := f.objects(ctx, as, bs); err != nil {
		return err
	}
	return f.recordSubscriptions(ctx, alice)
}

// events makes alice's topics: alice-topic with the notification n1 of
// bucket plain (which, with --pubsub, also makes subscription "n1");
// alice-pull, bound to plain through the PubSub API, with subscription
// "sub1"; alice-queue, persistent with an unreachable endpoint, bound to
// bucket versioned for removals only (n2), so its queue exists but stays
// empty.
func (f *filler) events(ctx context.Context, alice User, as *s3.Client) error {
	sc := sns.New(sns.Options{Region: "default", BaseEndpoint: aws.String(f.endpoint), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(alice.AccessKey, alice.SecretKey, "")})
	for _, t := range []struct {
		name  string
		attrs map[string]string
	}{
		{"alice-topic", map[string]string{"OpaqueData": "from-048fa84"}},
		{"alice-queue", map[string]string{"push-endpoint": "http://127.0.0.1:9/", "persistent": "true"}},
		{"alice-pull", nil},
	} {
		out, err := sc.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(t.name), Attributes: t.attrs})
		if err != nil {
			return fmt.Errorf("topic %s: %w", t.name, err)
		}
		f.m.Topics = append(f.m.Topics, Topic{"alice", t.name, aws.ToString(out.TopicArn)})
	}
	for _, n := range []struct {
		bucket, id, arn, event string
	}{{"plain", "n1", f.m.Topics[0].ARN, "s3:ObjectCreated:*"}, {"versioned", "n2", f.m.Topics[1].ARN, "s3:ObjectRemoved:*"}} {
		if _, err := as.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket: aws.String(n.bucket), NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{{
				Id: aws.String(n.id), TopicArn: aws.String(n.arn), Events: []s3types.Event{s3types.Event(n.event)},
			}}},
		}); err != nil {
			return fmt.Errorf("notification %s: %w", n.id, err)
		}
		f.m.Notifications = append(f.m.Notifications, Notification{n.bucket, n.id, n.arn})
	}
	if _, err := f.call(ctx, alice, http.MethodPut, "/notifications/bucket/plain?topic=alice-pull"); err != nil {
		return err
	}
	_, err := f.call(ctx, alice, http.MethodPut, "/subscriptions/sub1?topic=alice-pull")
	return err
}

// objects writes: in plain an inline object, a data-file object and a
// multipart object; in versioned two versions of doc.txt then a delete
// marker over them, and keep.txt; in bobs one object.
func (f *filler) objects(ctx context.Context, as, bs *s3.Client) error {
	put := func(c *s3.Client, bucket, key string, b []byte) (*s3.PutObjectOutput, error) {
		out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(b)})
		if err != nil {
			return nil, fmt.Errorf("put %s/%s: %w", bucket, key, err)
		}
		f.record(bucket, key, aws.ToString(out.VersionId), aws.ToString(out.ETag), b)
		return out, nil
	}
	if _, err := put(as, "plain", "small.txt", []byte("hello from the pre-tenant cairn\n")); err != nil {
		return err
	}
	if _, err := put(as, "plain", "dir/big.bin", body(3, 3<<19)); err != nil { // 1.5 MiB: a data file
		return err
	}
	if err := f.multipart(ctx, as, "plain", "mp.bin"); err != nil {
		return err
	}
	for _, b := range [][]byte{[]byte("version one\n"), []byte("version two, longer\n")} {
		if _, err := put(as, "versioned", "doc.txt", b); err != nil {
			return err
		}
	}
	del, err := as.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("versioned"), Key: aws.String("doc.txt")})
	if err != nil {
		return err
	}
	f.m.Objects = append(f.m.Objects, Object{Bucket: "versioned", Key: "doc.txt", VersionID: aws.ToString(del.VersionId), DeleteMarker: true})
	if _, err := put(as, "versioned", "keep.txt", body(5, 100<<10)); err != nil {
		return err
	}
	_, err = put(bs, "bobs", "hello.txt", []byte("bob was here\n"))
	f.markLatest()
	return err
}

func (f *filler) multipart(ctx context.Context, c *s3.Client, bucket, key string) error {
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return err
	}
	parts := [][]byte{body(11, 5<<20), body(13, 1000)}
	var done []s3types.CompletedPart
	for i, p := range parts {
		n := int32(i + 1)
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), Body: bytes.NewReader(p)})
		if err != nil {
			return err
		}
		done = append(done, s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag})
	}
	out, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: done}})
	if err != nil {
		return err
	}
	f.record(bucket, key, aws.ToString(out.VersionId), aws.ToString(out.ETag), bytes.Join(parts, nil))
	return nil
}

func (f *filler) record(bucket, key, version, etag string, b []byte) {
	sum := sha256.Sum256(b)
	if etag == "" {
		m := md5.Sum(b)
		etag = hex.EncodeToString(m[:])
	}
	f.m.Objects = append(f.m.Objects, Object{Bucket: bucket, Key: key, VersionID: version, Size: int64(len(b)),
		SHA256: hex.EncodeToString(sum[:]), ETag: strings.Trim(etag, `"`)})
}

// markLatest flags the last version recorded of each key.
func (f *filler) markLatest() {
	seen := map[string]bool{}
	for i := len(f.m.Objects) - 1; i >= 0; i-- {
		o := &f.m.Objects[i]
		if id := o.Bucket + "/" + o.Key; !seen[id] {
			seen[id], o.Latest = true, true
		}
	}
}

// recordSubscriptions pulls (as admin: no delivery is counted, nothing is
// acked) each subscription's events and records their keys.
func (f *filler) recordSubscriptions(ctx context.Context, alice User) error {
	for _, name := range []string{"n1", "sub1"} {
		raw, err := f.call(ctx, f.m.Root, http.MethodGet, "/admin/subscription?events&uid=alice&subscription="+name)
		if err != nil {
			return err
		}
		keys, err := eventKeys(raw)
		if err != nil {
			return fmt.Errorf("subscription %s: %w: %s", name, err, raw)
		}
		f.m.Subscriptions = append(f.m.Subscriptions, Subscription{alice.UID, name, keys})
	}
	return nil
}

// eventKeys reads the object keys of a pull answer, whose events come as
// "events" (PubSub subscriptions) or "Records" (made by S3 notifications).
func eventKeys(raw []byte) ([]string, error) {
	var page struct {
		Events  []json.RawMessage `json:"events"`
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(raw, &page); err != nil {
		return nil, err
	}
	var keys []string
	for _, ev := range append(page.Events, page.Records...) {
		var e struct {
			S3 struct {
				Object struct {
					Key string `json:"key"`
				} `json:"object"`
			} `json:"s3"`
			Info struct {
				Key struct {
					Name string `json:"name"`
				} `json:"key"`
			} `json:"info"`
		}
		if err := json.Unmarshal(ev, &e); err != nil {
			return nil, err
		}
		keys = append(keys, e.S3.Object.Key+e.Info.Key.Name)
	}
	return keys, nil
}

// writeTarGz tars dir's contents (paths relative to dir).
func writeTarGz(dir, path string) error {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		h, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h.Name, h.ModTime, h.Uname, h.Gname, h.Uid, h.Gid = filepath.ToSlash(rel), time.Unix(0, 0), "", "", 0, 0
		if d.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if d.Type().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			_, err = tw.Write(b)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}
