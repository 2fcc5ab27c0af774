package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/cairn-s3/cairn/internal/adminapi"
	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// userEnv points the S3 client commands at srv as the given key.
func userEnv(srv *servertest.Running, accessKey, secret string) map[string]string {
	vars := s3Env(srv)
	vars["AWS_ACCESS_KEY_ID"], vars["AWS_SECRET_ACCESS_KEY"] = accessKey, secret
	return vars
}

// TestAdminTenantUsers: every admin command that takes --uid takes
// --tenant, as radosgw-admin does, and names "tenant$uid", never the
// default tenant's user of the same uid.
func TestAdminTenantUsers(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{PubSub: server.PubSubConfig{Enabled: true}})
	vars := adminEnv(srv)
	var u adminapi.UserInfo
	decode(t, ok(t, vars, "admin", "user", "create", "--tenant", "acme", "--uid", "bob", "--display-name", "Acme Bob",
		"--access-key", "ACMEBOB", "--secret", "acmesecret"), &u)
	if u.UserID != "acme$bob" || len(u.Keys) != 1 || u.Keys[0].User != "acme$bob" {
		t.Fatalf("create --tenant: %+v", u)
	}
	ok(t, vars, "admin", "user", "create", "--uid", "bob", "--display-name", "Bob", "--access-key", "BOB", "--secret", "bobsecret")
	for _, args := range [][]string{{"--tenant", "acme", "--uid", "bob"}, {"--uid", "acme$bob"}} {
		decode(t, ok(t, vars, append([]string{"admin", "user", "info"}, args...)...), &u)
		if u.UserID != "acme$bob" || u.DisplayName != "Acme Bob" {
			t.Errorf("info %v: %+v", args, u)
		}
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"acme$bob", "bob", "root"}},
		{[]string{"--tenant", "acme"}, []string{"acme$bob"}},
		{[]string{"--tenant", ""}, []string{"bob", "root"}},
	} {
		var ids []string
		decode(t, ok(t, vars, append([]string{"admin", "user", "list"}, c.args...)...), &ids)
		if !slices.Equal(ids, c.want) {
			t.Errorf("user list %v: %v, want %v", c.args, ids, c.want)
		}
	}

	decode(t, ok(t, vars, "admin", "user", "modify", "--tenant", "acme", "--uid", "bob", "--display-name", "Renamed"), &u)
	if u.UserID != "acme$bob" || u.DisplayName != "Renamed" {
		t.Errorf("modify --tenant: %+v", u)
	}
	decode(t, ok(t, vars, "admin", "user", "suspend", "--tenant", "acme", "--uid", "bob"), &u)
	if u.UserID != "acme$bob" || u.Suspended != 1 {
		t.Errorf("suspend --tenant: %+v", u)
	}
	decode(t, ok(t, vars, "admin", "user", "enable", "--tenant", "acme", "--uid", "bob"), &u)
	if u.Suspended != 0 {
		t.Errorf("enable --tenant: %+v", u)
	}
	decode(t, ok(t, vars, "admin", "key", "create", "--tenant", "acme", "--uid", "bob", "--access-key", "ACME2", "--secret", "s2"), &u)
	if u.UserID != "acme$bob" || len(u.Keys) != 2 {
		t.Errorf("key create --tenant: %+v", u)
	}
	fails(t, vars, "InvalidAccessKeyId", "admin", "key", "rm", "--tenant", "acme", "--uid", "bob", "--access-key", "BOB")
	decode(t, ok(t, vars, "admin", "key", "rm", "--tenant", "acme", "--uid", "bob", "--access-key", "ACME2"), &u)
	if u.UserID != "acme$bob" || len(u.Keys) != 1 {
		t.Errorf("key rm --tenant: %+v", u)
	}
	decode(t, ok(t, vars, "admin", "caps", "add", "--tenant", "acme", "--uid", "bob", "--caps", "buckets=read;users=*"), &u)
	if u.UserID != "acme$bob" || len(u.Caps) != 2 {
		t.Errorf("caps add --tenant: %+v", u)
	}
	decode(t, ok(t, vars, "admin", "caps", "rm", "--tenant", "acme", "--uid", "bob", "--caps", "users=*"), &u)
	if u.UserID != "acme$bob" || len(u.Caps) != 1 || u.Caps[0] != (adminapi.CapInfo{Type: "buckets", Perm: "read"}) {
		t.Errorf("caps rm --tenant: %+v", u)
	}
	// The default tenant's bob was never touched.
	decode(t, ok(t, vars, "admin", "user", "info", "--uid", "bob"), &u)
	if u.DisplayName != "Bob" || u.Suspended != 0 || len(u.Keys) != 1 || u.Keys[0].AccessKey != "BOB" || len(u.Caps) != 0 {
		t.Errorf("default bob changed: %+v", u)
	}

	checkTenantTopics(t, srv, vars)
	if code := exitCode(t, vars, "admin", "subscription", "get", "--tenant", "acme", "--uid", "bob", "--subscription", "none"); code != 2 {
		t.Errorf("subscription get --tenant of a missing subscription exited %d, want 2", code)
	}

	ok(t, vars, "admin", "user", "rm", "--tenant", "acme", "--uid", "bob")
	fails(t, vars, "NoSuchUser", "admin", "user", "info", "--uid", "acme$bob")
	ok(t, vars, "admin", "user", "info", "--uid", "bob")
}

// checkTenantTopics: acme$bob and bob each own a topic "t1";
// `topic list --tenant acme --uid bob` lists acme's, `--uid bob` the
// default tenant's.
func checkTenantTopics(t *testing.T, srv *servertest.Running, vars map[string]string) {
	t.Helper()
	for _, key := range [][2]string{{"ACMEBOB", "acmesecret"}, {"BOB", "bobsecret"}} {
		c := sns.New(sns.Options{Region: "default", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(key[0], key[1], "")})
		if _, err := c.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String("t1")}); err != nil {
			t.Fatalf("CreateTopic as %s: %v", key[0], err)
		}
	}
	for _, c := range []struct {
		args  []string
		owner string
	}{
		{[]string{"--tenant", "acme"}, "acme$bob"},
		{[]string{"--tenant", "acme", "--uid", "bob"}, "acme$bob"},
		{[]string{"--uid", "acme$bob"}, "acme$bob"},
		{[]string{"--uid", "bob"}, "bob"},
	} {
		var out struct{ Topics []topicOut }
		decode(t, ok(t, vars, append([]string{"admin", "topic", "list"}, c.args...)...), &out)
		if len(out.Topics) != 1 || out.Topics[0].Owner != c.owner || out.Topics[0].Name != "t1" {
			t.Errorf("topic list %v: %+v, want t1 of %s", c.args, out.Topics, c.owner)
		}
	}
}

// bucketStatsOut is the part of radosgw-admin's bucket stats the tests read.
type bucketStatsOut struct {
	Bucket string `json:"bucket"`
	Tenant string `json:"tenant"`
	Owner  string `json:"owner"`
	Usage  map[string]struct {
		Size       int64 `json:"size"`
		NumObjects int64 `json:"num_objects"`
	} `json:"usage"`
}

// TestAdminBucketListAndStats: bucket list and bucket stats of the
// default tenant's buckets, made over S3.
func TestAdminBucketListAndStats(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := adminEnv(srv)
	ok(t, vars, "admin", "user", "create", "--uid", "bob", "--display-name", "Bob", "--access-key", "BOB", "--secret", "bobsecret")
	bob := userEnv(srv, "BOB", "bobsecret")
	ok(t, bob, "mb", "s3://shared")
	ok(t, s3Env(srv), "mb", "s3://roots")
	src := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(src, []byte("twelve bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	ok(t, bob, "cp", src, "s3://shared/a")
	ok(t, bob, "cp", src, "s3://shared/b")

	for _, c := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"roots", "shared"}},
		{[]string{"--uid", "bob"}, []string{"shared"}},
		{[]string{"--tenant", ""}, []string{"roots", "shared"}},
		{[]string{"--tenant", "acme"}, []string{}},
	} {
		var names []string
		decode(t, ok(t, vars, append([]string{"admin", "bucket", "list"}, c.args...)...), &names)
		if !slices.Equal(names, c.want) {
			t.Errorf("bucket list %v: %v, want %v", c.args, names, c.want)
		}
	}
	var st bucketStatsOut
	decode(t, ok(t, vars, "admin", "bucket", "stats", "--bucket", "shared"), &st)
	if st.Bucket != "shared" || st.Tenant != "" || st.Owner != "bob" || st.Usage["rgw.main"].NumObjects != 2 || st.Usage["rgw.main"].Size != 24 {
		t.Errorf("bucket stats: %+v", st)
	}
	var us struct {
		Stats struct {
			Size       int64 `json:"size"`
			NumObjects int64 `json:"num_objects"`
		} `json:"stats"`
	}
	decode(t, ok(t, vars, "admin", "user", "stats", "--uid", "bob"), &us)
	if us.Stats.NumObjects != 2 || us.Stats.Size != 24 {
		t.Errorf("user stats: %+v", us)
	}
	var all []bucketStatsOut
	decode(t, ok(t, vars, "admin", "bucket", "stats", "--uid", "bob"), &all)
	if len(all) != 1 || all[0].Bucket != "shared" {
		t.Errorf("bucket stats --uid bob: %+v", all)
	}
	if code := exitCode(t, vars, "admin", "bucket", "stats", "--bucket", "nope"); code != 2 {
		t.Errorf("stats of a missing bucket exited %d, want 2", code)
	}
	if code := exitCode(t, vars, "admin", "bucket", "stats", "--bucket", "shared", "--tenant", "acme"); code != 2 {
		t.Errorf("stats of shared in tenant acme exited %d, want 2", code)
	}
}

// TestAdminBucketTenants: the same bucket name made over S3 by users of
// two tenants is listed per tenant and its stats are the tenant's. It
// needs the S3 adapter's tenant bucket names (the "core" part of issue 11).
func TestAdminBucketTenants(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	vars := adminEnv(srv)
	src := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(src, []byte("twelve bytes"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, tenant := range []string{"", "acme"} {
		key := []string{"BOB", "ACMEBOB"}[i]
		ok(t, vars, "admin", "user", "create", "--tenant", tenant, "--uid", "bob", "--display-name", "B", "--access-key", key, "--secret", "s")
		ok(t, userEnv(srv, key, "s"), "mb", "s3://shared")
		for _, obj := range []string{"a", "b", "c"}[:i+1] {
			ok(t, userEnv(srv, key, "s"), "cp", src, "s3://shared/"+obj)
		}
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"acme/shared", "shared"}},
		{[]string{"--tenant", "acme"}, []string{"shared"}},
		{[]string{"--tenant", ""}, []string{"shared"}},
		{[]string{"--tenant", "acme", "--uid", "bob"}, []string{"shared"}},
	} {
		var names []string
		decode(t, ok(t, vars, append([]string{"admin", "bucket", "list"}, c.args...)...), &names)
		if !slices.Equal(names, c.want) {
			t.Errorf("bucket list %v: %v, want %v", c.args, names, c.want)
		}
	}
	for _, c := range []struct {
		args          []string
		tenant, owner string
		objects       int64
	}{
		{[]string{"--bucket", "shared"}, "", "bob", 1},
		{[]string{"--bucket", "shared", "--tenant", "acme"}, "acme", "acme$bob", 2},
		{[]string{"--bucket", "acme/shared"}, "acme", "acme$bob", 2},
	} {
		var st bucketStatsOut
		decode(t, ok(t, vars, append([]string{"admin", "bucket", "stats"}, c.args...)...), &st)
		if st.Bucket != "shared" || st.Tenant != c.tenant || st.Owner != c.owner || st.Usage["rgw.main"].NumObjects != c.objects {
			t.Errorf("bucket stats %v: %+v", c.args, st)
		}
	}
	var us struct {
		Stats struct {
			NumObjects int64 `json:"num_objects"`
		} `json:"stats"`
	}
	decode(t, ok(t, vars, "admin", "user", "stats", "--tenant", "acme", "--uid", "bob"), &us)
	if us.Stats.NumObjects != 2 {
		t.Errorf("user stats --tenant acme: %+v", us)
	}
	checkTenantNotifications(t, srv, vars)
}

// checkTenantNotifications: each bob puts a notification on his own
// "shared"; `notification list|rm --bucket shared --tenant acme` reach
// acme's only.
func checkTenantNotifications(t *testing.T, srv *servertest.Running, vars map[string]string) {
	t.Helper()
	ctx := context.Background()
	for _, u := range []struct{ key, id string }{{"BOB", "nb"}, {"ACMEBOB", "na"}} {
		cp := credentials.NewStaticCredentialsProvider(u.key, "s", "")
		topic, err := sns.New(sns.Options{Region: "default", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1, Credentials: cp}).
			CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("t")})
		if err != nil {
			t.Fatalf("CreateTopic as %s: %v", u.key, err)
		}
		s3c := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, RetryMaxAttempts: 1, Credentials: cp})
		if _, err := s3c.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket: aws.String("shared"), NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{{
				Id: aws.String(u.id), TopicArn: topic.TopicArn, Events: []s3types.Event{"s3:ObjectCreated:*"},
			}}},
		}); err != nil {
			t.Fatalf("PutBucketNotificationConfiguration as %s: %v", u.key, err)
		}
	}
	ids := func(args ...string) []string {
		var nl struct {
			Notifications []struct{ Id string }
		}
		decode(t, ok(t, vars, append([]string{"admin", "notification", "list", "--bucket", "shared"}, args...)...), &nl)
		var out []string
		for _, n := range nl.Notifications {
			out = append(out, n.Id)
		}
		return out
	}
	if got := ids("--tenant", "acme"); !slices.Equal(got, []string{"na"}) {
		t.Errorf("notification list --tenant acme: %v", got)
	}
	ok(t, vars, "admin", "notification", "rm", "--bucket", "shared", "--tenant", "acme")
	if got := ids("--tenant", "acme"); len(got) != 0 {
		t.Errorf("after rm --tenant acme: %v", got)
	}
	if got := ids(); !slices.Equal(got, []string{"nb"}) {
		t.Errorf("default tenant's notifications after acme's rm: %v", got)
	}
}
