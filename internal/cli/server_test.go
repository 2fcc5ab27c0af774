package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/syncbuf"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
)

var (
	endpointRE  = regexp.MustCompile(`S3 endpoint: (http://127\.0\.0\.1:\d+)`)
	accessKeyRE = regexp.MustCompile(`Access key:  ([A-Z0-9]{20})\n`)
	secretKeyRE = regexp.MustCompile(`Secret key:  ([A-Za-z0-9]{40})\n`)
)

// startServer runs `cairn server` in-process until the returned stop is
// called; it waits for the banner and returns it.
func startServer(t *testing.T, vars map[string]string, args ...string) (banner string, stop func() result) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"server", "--address", "127.0.0.1:0", "--console-address", "127.0.0.1:0"}, args...), env{
			stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
			lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
		})
	}()
	stop = func() result {
		cancel()
		select {
		case code := <-done:
			return result{code, stdout.String(), stderr.String()}
		case <-time.After(20 * time.Second):
			t.Fatal("server did not stop")
			return result{}
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stdout.String(), "Data dir:") {
		select {
		case code := <-done:
			t.Fatalf("server exited with %d before printing its banner; stderr:\n%s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatal("no banner")
		}
	}
	return stdout.String(), stop
}

func TestServerFirstStartPrintsSecretOnce(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{EnvData: dir}

	banner, stop := startServer(t, vars)
	endpoint := endpointRE.FindStringSubmatch(banner)
	ak := accessKeyRE.FindStringSubmatch(banner)
	sk := secretKeyRE.FindStringSubmatch(banner)
	if endpoint == nil || ak == nil || sk == nil || !strings.Contains(banner, "Data dir:    "+dir) {
		t.Fatalf("first-start banner lacks endpoint, keys or data dir:\n%s", banner)
	}
	// The printed credentials work.
	out := ok(t, map[string]string{EnvEndpoint: endpoint[1], EnvRootAccessKey: ak[1], EnvRootSecretKey: sk[1]},
		"admin", "user", "info", "--uid", "root")
	if !strings.Contains(out, `"user_id": "root"`) {
		t.Errorf("root info: %s", out)
	}
	if r := stop(); r.code != 0 {
		t.Fatalf("server exit %d; stderr:\n%s", r.code, r.stderr)
	}

	banner, stop = startServer(t, vars, "--log-format", "json")
	if secretKeyRE.MatchString(banner) || strings.Contains(banner, sk[1]) {
		t.Errorf("second start printed the secret again:\n%s", banner)
	}
	if !strings.Contains(banner, "Access key:  "+ak[1]) || !strings.Contains(banner, "not shown again") {
		t.Errorf("second-start banner:\n%s", banner)
	}
	r := stop()
	if r.code != 0 || !strings.Contains(r.stderr, `"msg":"stopped"`) {
		t.Errorf("server exit %d; stderr (want JSON logs):\n%s", r.code, r.stderr)
	}
}

func TestServerKeysFromEnv(t *testing.T) {
	vars := map[string]string{EnvData: t.TempDir(), EnvRootAccessKey: "ENVROOT", EnvRootSecretKey: "envrootsecret"}
	banner, stop := startServer(t, vars)
	defer stop()
	if !strings.Contains(banner, "Access key:  ENVROOT\n") || !strings.Contains(banner, "(from "+EnvRootSecretKey+")") || strings.Contains(banner, "envrootsecret") {
		t.Errorf("banner with env keys:\n%s", banner)
	}
	endpoint := endpointRE.FindStringSubmatch(banner)
	if endpoint == nil {
		t.Fatalf("no endpoint in banner:\n%s", banner)
	}
	vars[EnvEndpoint] = endpoint[1]
	ok(t, vars, "admin", "user", "list")
}

func TestServerBadFlags(t *testing.T) {
	fails(t, nil, "--log-format", "server", "--log-format", "xml")
	fails(t, nil, "--log-level", "server", "--log-level", "loud")
	fails(t, map[string]string{EnvData: t.TempDir()}, "address", "server", "--address", "nonsense")
	fails(t, map[string]string{EnvData: t.TempDir(), EnvRootAccessKey: "only-half"}, "together", "server", "--address", "127.0.0.1:0")
	fails(t, nil, "--body-idle-timeout", "server", "--body-idle-timeout", "soon")
	fails(t, nil, "--body-idle-timeout", "server", "--body-idle-timeout", "0s")
	fails(t, map[string]string{EnvMaxAnonymousBodies: "-1"}, "--max-anonymous-bodies", "server")
	fails(t, map[string]string{EnvData: t.TempDir()}, "work window", "server", "--address", "127.0.0.1:0", "--lc-work-window", "9-5")
	fails(t, nil, "--lc-debug-interval", "server", "--lc-debug-interval", "-1")
	fails(t, map[string]string{EnvLCDebugInterval: "soon"}, EnvLCDebugInterval, "server")
	fails(t, map[string]string{EnvData: t.TempDir()}, "lifecycle rate", "server", "--address", "127.0.0.1:0", "--lc-rate", "-2")
	fails(t, nil, "--ceph-mon-timeout", "server", "--ceph-mon-timeout", "500ms")
	fails(t, map[string]string{EnvOSDTimeout: "forever"}, "--ceph-osd-timeout", "server")
}

// TestServerBodyIdleTimeoutEnv: the body idle timeout from the
// environment reaches the server: a request stalled in its headers is
// disconnected after 1s (the connection's own 15s bound only tells it
// from the 20s default).
func TestServerBodyIdleTimeoutEnv(t *testing.T) {
	vars := map[string]string{EnvData: t.TempDir(), EnvRootAccessKey: "ENVROOT", EnvRootSecretKey: "envrootsecret",
		EnvBodyIdleTimeout: "1s", EnvMaxAnonymousBodies: "3"}
	banner, stop := startServer(t, vars)
	defer stop()
	endpoint := endpointRE.FindStringSubmatch(banner)
	conn, err := net.Dial("tcp", strings.TrimPrefix(endpoint[1], "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.WriteString(conn, "PUT /b/k HTTP/1.1\r\nHost: x\r\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, conn); err != nil {
		t.Fatalf("stalled connection not closed by the server: %v", err)
	}
}

// TestServerNotificationSecretsFlag: topics with credentials are refused
// over plain HTTP unless --allow-notification-secrets-in-cleartext (or its
// environment variable) is given.
func TestServerNotificationSecretsFlag(t *testing.T) {
	createSecretTopic := func(t *testing.T, banner string, vars map[string]string) error {
		t.Helper()
		endpoint := endpointRE.FindStringSubmatch(banner)
		if endpoint == nil {
			t.Fatalf("no endpoint in banner:\n%s", banner)
		}
		cp := credentials.NewStaticCredentialsProvider(vars[EnvRootAccessKey], vars[EnvRootSecretKey], "")
		c := sns.New(sns.Options{Region: "default", BaseEndpoint: aws.String(endpoint[1]), Credentials: cp, RetryMaxAttempts: 1})
		_, err := c.CreateTopic(context.Background(), &sns.CreateTopicInput{Name: aws.String("secret"),
			Attributes: map[string]string{"push-endpoint": "amqp://user:pw@127.0.0.1:5672", "amqp-exchange": "ex"}})
		return err
	}
	forBoolSwitch(t, "--allow-notification-secrets-in-cleartext", EnvAllowNotificationSecretsInCleartext,
		func(t *testing.T, banner string, vars map[string]string, allow bool) {
			if err := createSecretTopic(t, banner, vars); (err == nil) != allow {
				t.Errorf("CreateTopic with credentials over HTTP: %v, want allowed=%v", err, allow)
			}
		})
}

// forBoolSwitch starts the server three times, with a boolean switch off,
// on by its flag and on by its environment variable, and has check judge
// each run.
func forBoolSwitch(t *testing.T, flag, envName string, check func(t *testing.T, banner string, vars map[string]string, on bool)) {
	for _, c := range []struct {
		name string
		env  string
		args []string
		on   bool
	}{
		{"default", "", nil, false},
		{"flag", "", []string{flag}, true},
		{"env", "true", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			vars := map[string]string{EnvData: t.TempDir(), EnvRootAccessKey: "ENVROOT", EnvRootSecretKey: "envrootsecret", envName: c.env}
			banner, stop := startServer(t, vars, c.args...)
			defer stop()
			check(t, banner, vars, c.on)
		})
	}
}

// TestServerTopicPublishFlag: --topic-publish-without-policy (and its
// variable) let another user's bucket notification use a topic without a
// Policy; by default that is AccessDenied.
func TestServerTopicPublishFlag(t *testing.T) {
	bindRootsTopic := func(t *testing.T, banner string, vars map[string]string) error {
		t.Helper()
		endpoint := endpointRE.FindStringSubmatch(banner)
		if endpoint == nil {
			t.Fatalf("no endpoint in banner:\n%s", banner)
		}
		ok(t, map[string]string{EnvEndpoint: endpoint[1], EnvRootAccessKey: vars[EnvRootAccessKey], EnvRootSecretKey: vars[EnvRootSecretKey]},
			"admin", "user", "create", "--uid", "bob", "--display-name", "Bob", "--access-key", "BOBKEY", "--secret", "bobsecret")
		ctx := context.Background()
		root := sns.New(sns.Options{Region: "default", BaseEndpoint: aws.String(endpoint[1]), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(vars[EnvRootAccessKey], vars[EnvRootSecretKey], "")})
		topic, err := root.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("roots"),
			Attributes: map[string]string{"push-endpoint": "http://127.0.0.1:1/"}})
		if err != nil {
			t.Fatal(err)
		}
		bob := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint[1]), UsePathStyle: true, RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("BOBKEY", "bobsecret", "")})
		if _, err := bob.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bobs")}); err != nil {
			t.Fatal(err)
		}
		_, err = bob.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{Bucket: aws.String("bobs"),
			NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{{
				Id: aws.String("n"), TopicArn: topic.TopicArn, Events: []s3types.Event{"s3:ObjectCreated:*"}}}}})
		return err
	}
	forBoolSwitch(t, "--topic-publish-without-policy", EnvTopicPublishWithoutPolicy,
		func(t *testing.T, banner string, vars map[string]string, allow bool) {
			err := bindRootsTopic(t, banner, vars)
			if (err == nil) != allow || (err != nil && !strings.Contains(err.Error(), "AccessDenied")) {
				t.Errorf("bob binds root's topic: %v, want allowed=%v", err, allow)
			}
		})
}

// TestServerMetricsAndAccessLogFlags: --metrics-address serves /metrics on
// its own listener and --access-log json logs S3 requests on stderr.
func TestServerMetricsAndAccessLogFlags(t *testing.T) {
	vars := map[string]string{EnvData: t.TempDir(), EnvRootAccessKey: "ENVROOT", EnvRootSecretKey: "envrootsecret",
		EnvAccessLog: "json"}
	banner, stop := startServer(t, vars, "--metrics-address", "127.0.0.1:0")
	m := regexp.MustCompile(`\n {15}(http://127\.0\.0\.1:\d+/metrics)\n`).FindStringSubmatch(banner)
	if m == nil {
		stop()
		t.Fatalf("no metrics listener in banner:\n%s", banner)
	}
	resp, err := http.Get(m[1])
	if err != nil {
		stop()
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "go_goroutines") {
		t.Errorf("metrics listener body lacks go_goroutines")
	}
	endpoint := endpointRE.FindStringSubmatch(banner)
	if resp, err := http.Get(endpoint[1] + "/"); err == nil { // anonymous ListBuckets: AccessDenied
		resp.Body.Close()
	}
	r := stop()
	if !strings.Contains(r.stderr, `"log":"access"`) || !strings.Contains(r.stderr, `"op":"ListBuckets"`) {
		t.Errorf("no access log line on stderr:\n%s", r.stderr)
	}
	fails(t, nil, "--access-log", "server", "--access-log", "xml")
}
