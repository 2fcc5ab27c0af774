package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// upgradeManifest is what testdata/mkupgrade recorded about the data
// directory it made with the old binary.
type upgradeManifest struct {
	Commit string
	Root   upgradeUser
	Users  []upgradeUser
	// Buckets' owners and versioning states.
	Buckets []struct {
		Name, Owner, Versioning string
	}
	Objects []struct {
		Bucket, Key  string
		VersionID    string `json:"version_id"`
		Latest       bool
		DeleteMarker bool `json:"delete_marker"`
		Size         int64
		SHA256, ETag string
	}
	Topics []struct {
		Owner, Name, ARN string
	}
	Notifications []struct {
		Bucket, ID string
		TopicARN   string `json:"topic_arn"`
	}
	Subscriptions []struct {
		Owner, Name string
		Keys        []string
	}
}

type upgradeUser struct {
	UID       string
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

func (u upgradeUser) creds() aws.Credentials {
	return aws.Credentials{AccessKeyID: u.AccessKey, SecretAccessKey: u.SecretKey}
}

// upgradeEnv is today's server running on the old data directory.
type upgradeEnv struct {
	srv   *servertest.Running
	m     upgradeManifest
	users map[string]upgradeUser
}

func (e *upgradeEnv) s3(uid string) *s3.Client {
	u := e.users[uid]
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.srv.URL), UsePathStyle: true, RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(u.AccessKey, u.SecretKey, "")})
}

// call sends a signed request as uid and wants 200; it returns the body.
func (e *upgradeEnv) call(t *testing.T, uid, method, path string) []byte {
	t.Helper()
	resp, body := send(t, e.users[uid].creds(), newRequest(t, method, e.srv.URL+path, nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s as %s: %d %s", method, path, uid, resp.StatusCode, body)
	}
	return body
}

// startUpgrade extracts the fixture made by the commit before tenants and
// starts today's server on it.
func startUpgrade(t *testing.T, name string) *upgradeEnv {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	e := &upgradeEnv{users: map[string]upgradeUser{}}
	if err := json.Unmarshal(raw, &e.m); err != nil {
		t.Fatal(err)
	}
	for _, u := range append([]upgradeUser{e.m.Root}, e.m.Users...) {
		e.users[u.UID] = u
	}
	dir := t.TempDir()
	extractTarGz(t, filepath.Join("testdata", name+".tar.gz"), dir)
	e.srv = servertest.Start(t, servertest.Options{DataDir: dir, RootAccessKey: e.m.Root.AccessKey, RootSecretKey: e.m.Root.SecretKey,
		PubSub: server.PubSubConfig{Enabled: true}, BallastSize: -1})
	return e
}

// TestUpgradeOpensPreTenantData opens a data directory written by the last
// binary before tenants (testdata/upgrade-048fa84.*, see
// testdata/README.md) and checks over S3, SNS, PubSub and the admin API
// that users, buckets, objects, versions, topics, notifications and
// pull subscriptions are all there, in the default tenant, and that it
// takes new writes.
func TestUpgradeOpensPreTenantData(t *testing.T) {
	e := startUpgrade(t, "upgrade-048fa84")
	// Subscriptions first: they must hold only the old binary's events.
	t.Run("subscriptions", func(t *testing.T) { checkUpgradeSubscriptions(t, e) })
	t.Run("users", func(t *testing.T) { checkUpgradeUsers(t, e) })
	t.Run("buckets", func(t *testing.T) { checkUpgradeBuckets(t, e) })
	t.Run("objects", func(t *testing.T) { checkUpgradeObjects(t, e) })
	t.Run("versions", func(t *testing.T) { checkUpgradeVersions(t, e) })
	t.Run("topics", func(t *testing.T) { checkUpgradeTopics(t, e) })
	t.Run("admin", func(t *testing.T) { checkUpgradeAdmin(t, e) })
}

// checkUpgradeAdmin: the old buckets are the default tenant's in
// radosgw-admin's bucket list and stats, and their notifications are
// listed by the admin API.
func checkUpgradeAdmin(t *testing.T, e *upgradeEnv) {
	var want []string
	for _, b := range e.m.Buckets {
		want = append(want, b.Name)
	}
	slices.Sort(want)
	for _, q := range []string{"", "?tenant="} {
		var names []string
		if err := json.Unmarshal(e.call(t, "root", http.MethodGet, "/admin/bucket"+q), &names); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(names, want) {
			t.Errorf("admin bucket list%s: %v, want %v", q, names, want)
		}
	}
	var versions int64
	for _, o := range e.m.Objects {
		if o.Bucket == "versioned" && !o.DeleteMarker {
			versions++
		}
	}
	var st struct {
		Bucket, Tenant, Owner string
		Versioned             bool
		Usage                 map[string]struct {
			NumObjects int64 `json:"num_objects"`
		}
	}
	if err := json.Unmarshal(e.call(t, "root", http.MethodGet, "/admin/bucket?bucket=versioned"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Bucket != "versioned" || st.Tenant != "" || st.Owner != "alice" || !st.Versioned || st.Usage["rgw.main"].NumObjects != versions {
		t.Errorf("admin bucket stats of versioned: %+v, want %d objects", st, versions)
	}
	for _, n := range e.m.Notifications {
		body := e.call(t, "root", http.MethodGet, "/admin/notification?bucket="+n.Bucket)
		if !strings.Contains(string(body), `"Id":"`+n.ID+`"`) || !strings.Contains(string(body), n.TopicARN) {
			t.Errorf("admin notification list of %s: %s", n.Bucket, body)
		}
	}
}

func checkUpgradeUsers(t *testing.T, e *upgradeEnv) {
	var ids []string
	if err := json.Unmarshal(e.call(t, "root", http.MethodGet, "/admin/metadata/user"), &ids); err != nil {
		t.Fatal(err)
	}
	for _, u := range e.m.Users {
		if !slices.Contains(ids, u.UID) {
			t.Errorf("user list %v lacks %s", ids, u.UID)
		}
		var info struct {
			UserID string `json:"user_id"`
			Keys   []struct {
				AccessKey string `json:"access_key"`
			} `json:"keys"`
		}
		if err := json.Unmarshal(e.call(t, "root", http.MethodGet, "/admin/user?uid="+u.UID), &info); err != nil {
			t.Fatal(err)
		}
		if info.UserID != u.UID || len(info.Keys) != 1 || info.Keys[0].AccessKey != u.AccessKey {
			t.Errorf("user %s: %+v", u.UID, info)
		}
	}
}

func checkUpgradeBuckets(t *testing.T, e *upgradeEnv) {
	ctx := t.Context()
	owned := map[string][]string{}
	for _, b := range e.m.Buckets {
		owned[b.Owner] = append(owned[b.Owner], b.Name)
		v, err := e.s3(b.Owner).GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b.Name)})
		if err != nil || string(v.Status) != b.Versioning {
			t.Errorf("versioning of %s: %v %v, want %q", b.Name, v, err, b.Versioning)
		}
	}
	for owner, want := range owned {
		out, err := e.s3(owner).ListBuckets(ctx, &s3.ListBucketsInput{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, b := range out.Buckets {
			got = append(got, aws.ToString(b.Name))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s lists buckets %v, want %v", owner, got, want)
		}
	}
	for _, n := range e.m.Notifications {
		out, err := e.s3("alice").GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(n.Bucket)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(out.TopicConfigurations, func(c s3types.TopicConfiguration) bool {
			return aws.ToString(c.Id) == n.ID && aws.ToString(c.TopicArn) == n.TopicARN
		}) {
			t.Errorf("notification %s of %s missing: %+v", n.ID, n.Bucket, out.TopicConfigurations)
		}
	}
}

// ownerOf is the owner of a bucket in the manifest.
func (e *upgradeEnv) ownerOf(bucket string) string {
	for _, b := range e.m.Buckets {
		if b.Name == bucket {
			return b.Owner
		}
	}
	return ""
}

func checkUpgradeObjects(t *testing.T, e *upgradeEnv) {
	ctx := t.Context()
	for _, o := range e.m.Objects {
		if o.DeleteMarker {
			continue
		}
		in := &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(o.Key)}
		if !o.Latest {
			in.VersionId = aws.String(o.VersionID)
		}
		out, err := e.s3(e.ownerOf(o.Bucket)).GetObject(ctx, in)
		if err != nil {
			t.Errorf("GET %s/%s (%s): %v", o.Bucket, o.Key, o.VersionID, err)
			continue
		}
		h := sha256.New()
		n, err := io.Copy(h, out.Body)
		out.Body.Close()
		if err != nil || n != o.Size || hex.EncodeToString(h.Sum(nil)) != o.SHA256 || strings.Trim(aws.ToString(out.ETag), `"`) != o.ETag {
			t.Errorf("GET %s/%s (%s): %d bytes, etag %s, err %v", o.Bucket, o.Key, o.VersionID, n, aws.ToString(out.ETag), err)
		}
	}
	// The multipart object still serves its parts.
	out, err := e.s3("alice").HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("plain"), Key: aws.String("mp.bin"), PartNumber: aws.Int32(2)})
	if err != nil || aws.ToInt64(out.ContentLength) != 1000 || aws.ToInt32(out.PartsCount) != 2 {
		t.Errorf("HEAD part 2 of mp.bin: %+v %v", out, err)
	}
	// The delete marker hides doc.txt.
	if _, err := e.s3("alice").GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("versioned"), Key: aws.String("doc.txt")}); err == nil ||
		!strings.Contains(err.Error(), "NoSuchKey") {
		t.Errorf("GET of a key under a delete marker: %v", err)
	}
	// New writes work, next to the old objects.
	body := strings.NewReader("written after the upgrade")
	if _, err := e.s3("alice").PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("plain"), Key: aws.String("new.txt"), Body: body}); err != nil {
		t.Fatalf("PUT after upgrade: %v", err)
	}
	list, err := e.s3("alice").ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("plain")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	for _, want := range []string{"dir/big.bin", "mp.bin", "new.txt", "small.txt"} {
		if !slices.Contains(keys, want) {
			t.Errorf("plain lists %v, without %s", keys, want)
		}
	}
}

func checkUpgradeVersions(t *testing.T, e *upgradeEnv) {
	out, err := e.s3("alice").ListObjectVersions(t.Context(), &s3.ListObjectVersionsInput{Bucket: aws.String("versioned")})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{} // "key version latest marker"
	for _, v := range out.Versions {
		got[strings.Join([]string{aws.ToString(v.Key), aws.ToString(v.VersionId), boolStr(aws.ToBool(v.IsLatest)), "false"}, " ")] = true
	}
	for _, d := range out.DeleteMarkers {
		got[strings.Join([]string{aws.ToString(d.Key), aws.ToString(d.VersionId), boolStr(aws.ToBool(d.IsLatest)), "true"}, " ")] = true
	}
	want := map[string]bool{}
	for _, o := range e.m.Objects {
		if o.Bucket == "versioned" {
			want[strings.Join([]string{o.Key, o.VersionID, boolStr(o.Latest), boolStr(o.DeleteMarker)}, " ")] = true
		}
	}
	if len(got) != len(want) {
		t.Errorf("versions %v, want %v", got, want)
	}
	for k := range want {
		if !got[k] {
			t.Errorf("version %q missing from %v", k, got)
		}
	}
}

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func checkUpgradeTopics(t *testing.T, e *upgradeEnv) {
	u := e.users["alice"]
	c := sns.New(sns.Options{Region: "default", BaseEndpoint: aws.String(e.srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(u.AccessKey, u.SecretKey, "")})
	out, err := c.ListTopics(t.Context(), &sns.ListTopicsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, tp := range out.Topics {
		arns = append(arns, aws.ToString(tp.TopicArn))
	}
	var admin struct {
		Topics []struct {
			Owner, Name, ARN string
		}
	}
	if err := json.Unmarshal(e.call(t, "root", http.MethodGet, "/admin/topic"), &admin); err != nil {
		t.Fatal(err)
	}
	for _, tp := range e.m.Topics {
		if !slices.Contains(arns, tp.ARN) {
			t.Errorf("SNS ListTopics %v lacks %s", arns, tp.ARN)
		}
		if !slices.ContainsFunc(admin.Topics, func(a struct{ Owner, Name, ARN string }) bool {
			return a.Owner == tp.Owner && a.Name == tp.Name && a.ARN == tp.ARN
		}) {
			t.Errorf("admin topic list %+v lacks %+v", admin.Topics, tp)
		}
	}
}

// checkUpgradeSubscriptions pulls the events stored by the old binary,
// acks them, and sees a new write arrive.
func checkUpgradeSubscriptions(t *testing.T, e *upgradeEnv) {
	for _, s := range e.m.Subscriptions {
		ids, keys := pullKeys(t, e, s.Owner, s.Name)
		if !slices.Equal(keys, s.Keys) {
			t.Fatalf("subscription %s holds %v, want %v", s.Name, keys, s.Keys)
		}
		q := url.Values{"event-id": ids}
		e.call(t, s.Owner, http.MethodPost, "/subscriptions/"+s.Name+"?ack&"+q.Encode())
	}
	if _, err := e.s3("alice").PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("plain"),
		Key: aws.String("after-upgrade"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	for _, s := range e.m.Subscriptions {
		if _, keys := pullKeys(t, e, s.Owner, s.Name); !slices.Equal(keys, []string{"after-upgrade"}) {
			t.Errorf("subscription %s after ack and a new PUT: %v", s.Name, keys)
		}
	}
}

// pullKeys pulls a subscription's events as its owner: their ids and
// object keys.
func pullKeys(t *testing.T, e *upgradeEnv, owner, name string) (ids, keys []string) {
	t.Helper()
	var page struct {
		Events  []json.RawMessage `json:"events"`
		Records []json.RawMessage `json:"Records"`
	}
	if err := json.Unmarshal(e.call(t, owner, http.MethodGet, "/subscriptions/"+name+"?events&max-entries=100"), &page); err != nil {
		t.Fatal(err)
	}
	for _, raw := range append(page.Events, page.Records...) {
		var ev struct {
			ID      string `json:"id"`
			EventID string `json:"eventId"`
			S3      struct {
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
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, ev.ID+ev.EventID)
		keys = append(keys, ev.S3.Object.Key+ev.Info.Key.Name)
	}
	return ids, keys
}
