package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// natsAdapterScript is a postrequest script doing what Ceph's
// examples/rgw/lua/nats_adapter.lua does, with the same calls: it maps the
// op to an S3 event name, builds an S3-notification-like record from the
// Request table and publishes it, JSON-encoded with lunajson, through the
// lua-nats client. %q are the bucket, the NATS host and the subject, %d
// the NATS port.
const natsAdapterScript = `
local json = require("lunajson")
local nats = require("nats")

local settings = {bucket = %q, host = %q, port = %d, subject = %q,
  id = "lua-nats-e2e", opaque = "opaque-from-lua"}

local events = {put_obj = "ObjectCreated:Put", post_obj = "ObjectCreated:Post",
  copy_obj = "ObjectCreated:Copy", delete_obj = "ObjectRemoved:Delete"}

local function record(event)
  local owner = ""
  if Request.Bucket.User then owner = Request.Bucket.User.Id end
  local principal = ""
  if Request.User then principal = Request.User.Id end
  return {Records = {{
    eventVersion = "2.1", eventSource = "ceph:s3", awsRegion = Request.ZoneGroup.Name,
    eventTime = Request.Time, eventName = event,
    userIdentity = {principalId = principal},
    requestParameters = {sourceIPAddress = ""},
    responseElements = {["x-amz-request-id"] = Request.Id, ["x-amz-id-2"] = Request.RGWId},
    s3 = {
      s3SchemaVersion = "1.0", configurationId = settings.id,
      bucket = {name = Request.Bucket.Name, ownerIdentity = {principalId = owner},
        arn = "arn:aws:s3:" .. Request.ZoneGroup.Name .. "::" .. Request.Bucket.Name, id = Request.Bucket.Id},
      object = {key = Request.Object.Name, size = Request.Object.Size, eTag = "",
        versionId = Request.Object.Instance, sequencer = string.format("%%X", os.time()),
        metadata = json.encode(Request.HTTP.Metadata), tags = json.encode(Request.Tags)},
    },
    eventId = "", opaqueData = settings.opaque,
  }}}
end

if Request.Bucket.Name ~= settings.bucket then return end
local event = events[Request.RGWOp]
if not event then return end
local client = nats.connect({host = settings.host, port = settings.port})
client:connect()
client:publish(settings.subject, json.encode(record(event)))
RGWDebugLog("published " .. event .. " of " .. Request.Object.Name .. " to " .. settings.subject)
`

// natsRecord is the part of the script's record the test checks.
type natsRecord struct {
	Records []natsRecordEntry
}

type natsRecordEntry struct {
	EventSource  string `json:"eventSource"`
	AWSRegion    string `json:"awsRegion"`
	EventTime    string `json:"eventTime"`
	EventName    string `json:"eventName"`
	UserIdentity struct {
		PrincipalID string `json:"principalId"`
	} `json:"userIdentity"`
	ResponseElements map[string]string `json:"responseElements"`
	S3               struct {
		ConfigurationID string `json:"configurationId"`
		Bucket          struct {
			Name          string `json:"name"`
			OwnerIdentity struct {
				PrincipalID string `json:"principalId"`
			} `json:"ownerIdentity"`
		} `json:"bucket"`
		Object struct {
			Key       string `json:"key"`
			Size      int64  `json:"size"`
			VersionID string `json:"versionId"`
			Metadata  string `json:"metadata"`
			Tags      string `json:"tags"`
		} `json:"object"`
	} `json:"s3"`
	OpaqueData string `json:"opaqueData"`
}

// TestLuaNATSAdapter is the acceptance flow of Ceph's NATS example: the
// packages allowlisted and the script uploaded with `cairn admin`, a PUT
// made with s3cmd delivers its record to a real NATS server.
func TestLuaNATSAdapter(t *testing.T) {
	s3cmd := requireTool(t, debianS3cmd, "s3cmd")
	ns := startNATS(t)
	msgs := subscribeNATS(t, ns, "Bucket_Notification")
	srv := startServer(t, t.TempDir())
	s3 := s3cmdFor(t, srv, s3cmd)
	s3("mb", "s3://luabucket")
	s3("mb", "s3://otherbucket")

	for _, pkg := range []string{"nats", "lunajson", "lua-cjson 2.1.0-1"} {
		srv.admin(t, "script-package", "add", "--package", pkg, "--allow-compilation")
	}
	host, port := natsHostPort(t, ns)
	script := fmt.Sprintf(natsAdapterScript, "luabucket", host, port, "Bucket_Notification")
	srv.admin(t, "script", "put", "--infile", writeFile(t, "nats_adapter.lua", script), "--context", "postRequest")
	if got := srv.admin(t, "script", "get", "--context", "postrequest"); got != script+"\n" {
		t.Fatalf("script get returned another script:\n%s", got)
	}
	awaitScript(t, func(i int) bool {
		srv.putSDK(t, "luabucket", fmt.Sprintf("probe-%d", i), "p")
		return receiveWithin(msgs, 300*time.Millisecond) != ""
	}, func() string { return "no NATS record; server log:\n" + srv.log() })

	// The PUT under test, by s3cmd, with user metadata.
	dir := t.TempDir()
	file := filepath.Join(dir, "photo.jpg")
	body := randomBytes(t, 12345)
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(-2 * time.Second)
	out := s3("--debug", "--add-header=x-amz-meta-color:blue", "put", file, "s3://luabucket/dir/photo.jpg")
	ids := regexp.MustCompile(`'x-amz-request-id': '([^']+)'`).FindAllStringSubmatch(out, -1)
	if len(ids) == 0 {
		t.Fatalf("s3cmd --debug printed no request id:\n%s", out)
	}
	putID := ids[len(ids)-1][1]
	r, msg := nextRecord(t, srv, msgs)
	want := map[string][2]string{
		"eventName":          {r.EventName, "ObjectCreated:Put"},
		"eventSource":        {r.EventSource, "ceph:s3"},
		"awsRegion":          {r.AWSRegion, "us-east-1"},
		"principalId":        {r.UserIdentity.PrincipalID, "root"},
		"x-amz-request-id":   {r.ResponseElements["x-amz-request-id"], putID},
		"bucket.name":        {r.S3.Bucket.Name, "luabucket"},
		"bucket.owner":       {r.S3.Bucket.OwnerIdentity.PrincipalID, "root"},
		"object.key":         {r.S3.Object.Key, "dir/photo.jpg"},
		"object.size":        {fmt.Sprint(r.S3.Object.Size), fmt.Sprint(len(body))},
		"object.versionId":   {r.S3.Object.VersionID, ""},
		"configurationId":    {r.S3.ConfigurationID, "lua-nats-e2e"},
		"opaqueData":         {r.OpaqueData, "opaque-from-lua"},
		"metadata has color": {fmt.Sprint(strings.Contains(r.S3.Object.Metadata, `"x-amz-meta-color":"blue"`)), "true"},
	}
	for field, gw := range want {
		if gw[0] != gw[1] {
			t.Errorf("%s = %q, want %q (record %s)", field, gw[0], gw[1], msg)
		}
	}
	if r.ResponseElements["x-amz-id-2"] == "" {
		t.Errorf("x-amz-id-2 (Request.RGWId) is empty: %s", msg)
	}
	if ts, err := time.ParseInLocation(time.DateTime, r.EventTime, time.Local); err != nil || ts.Before(start) || ts.After(time.Now().Add(time.Second)) {
		t.Errorf("eventTime %q is not the PUT's time (%v)", r.EventTime, err)
	}

	// Other buckets and ops not in the map publish nothing: a GET of the
	// object and a PUT to another bucket, then a DELETE that does.
	s3("get", "--force", "s3://luabucket/dir/photo.jpg", filepath.Join(dir, "got.jpg"))
	s3("put", file, "s3://otherbucket/x.jpg")
	s3("del", "s3://luabucket/dir/photo.jpg")
	if r, msg := nextRecord(t, srv, msgs); r.EventName != "ObjectRemoved:Delete" || r.S3.Object.Key != "dir/photo.jpg" {
		t.Errorf("after a GET, a PUT elsewhere and a DELETE, the next record is %s, want the DELETE's", msg)
	}
}

// TestLuaStorageClass is RGW's storage-class example: a prerequest script
// sets Request.HTTP.StorageClass by the request's ContentLength, and the
// object is stored with that class.
func TestLuaStorageClass(t *testing.T) {
	s3cmd := requireTool(t, debianS3cmd, "s3cmd")
	srv := startServer(t, t.TempDir())
	s3 := s3cmdFor(t, srv, s3cmd)
	s3("mb", "s3://classes")
	const script = `
if Request.RGWOp == "put_obj" and Request.ContentLength > 1024 * 1024 then
  Request.HTTP.StorageClass = "STANDARD_IA"
end
`
	srv.admin(t, "script", "put", "--infile", writeFile(t, "storage_class.lua", script), "--context", "preRequest")
	big := randomBytes(t, 2<<20)
	awaitScript(t, func(int) bool {
		srv.putSDK(t, "classes", "probe", string(big))
		return srv.storageClass(t, "classes", "probe") == s3types.StorageClassStandardIa
	}, func() string { return "a 2 MiB PUT is stored as " + string(srv.storageClass(t, "classes", "probe")) })

	dir := t.TempDir()
	bigFile, smallFile := filepath.Join(dir, "big.bin"), filepath.Join(dir, "small.txt")
	if err := os.WriteFile(bigFile, big, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(smallFile, []byte("small"), 0o644); err != nil {
		t.Fatal(err)
	}
	s3("put", bigFile, "s3://classes/big.bin")
	s3("put", smallFile, "s3://classes/small.txt")
	if got := srv.storageClass(t, "classes", "big.bin"); got != s3types.StorageClassStandardIa {
		t.Errorf("2 MiB object: storage class %q, want STANDARD_IA", got)
	}
	if got := srv.storageClass(t, "classes", "small.txt"); got != "" {
		t.Errorf("5-byte object: storage class %q, want none (STANDARD)", got)
	}
	if ls := s3("ls", "--list-md5", "s3://classes/"); !strings.Contains(ls, "big.bin") {
		t.Errorf("s3cmd ls: %s", ls)
	}
}

// admin runs `cairn admin ARGS` against the server as root.
func (s *server) admin(t *testing.T, args ...string) string {
	t.Helper()
	env := []string{"CAIRN_ENDPOINT=" + s.URL(), "CAIRN_ROOT_ACCESS_KEY=" + rootAccessKey, "CAIRN_ROOT_SECRET_KEY=" + rootSecretKey}
	return mustRun(t, env, cairnBin, append([]string{"admin"}, args...)...)
}

func (s *server) putSDK(t *testing.T, bucket, key, body string) {
	t.Helper()
	if _, err := s.s3Client().PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

func (s *server) storageClass(t *testing.T, bucket, key string) s3types.StorageClass {
	t.Helper()
	h, err := s.s3Client().HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatal(err)
	}
	return h.StorageClass
}

// s3cmdFor writes an s3cmd configuration for the server (root, SigV4,
// path style) and returns a runner failing the test on errors.
func s3cmdFor(t *testing.T, srv *server, s3cmd string) func(args ...string) string {
	t.Helper()
	host := strings.TrimPrefix(srv.URL(), "http://")
	cfg := writeFile(t, "s3cfg", "[default]\naccess_key = "+rootAccessKey+"\nsecret_key = "+rootSecretKey+
		"\nhost_base = "+host+"\nhost_bucket = "+host+"\nuse_https = False\nbucket_location = us-east-1\n")
	return func(args ...string) string {
		t.Helper()
		return mustRun(t, nil, s3cmd, append([]string{"-c", cfg}, args...)...)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// awaitScript calls seen until it reports that the gateway runs the new
// script (it polls the script store about every second), at most 40
// times; what describes the last state seen when it never does.
func awaitScript(t *testing.T, seen func(i int) bool, what func() string) {
	t.Helper()
	for i := range 40 {
		if seen(i) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the gateway did not pick up the script: %s", what())
}

// startNATS runs an in-process nats-server on a free loopback port.
func startNATS(t *testing.T) *natsserver.Server {
	t.Helper()
	s, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	if !s.ReadyForConnections(5 * time.Second) {
		s.Shutdown()
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}

func natsHostPort(t *testing.T, s *natsserver.Server) (string, int) {
	t.Helper()
	host, port, ok := strings.Cut(s.Addr().String(), ":")
	var p int
	if _, err := fmt.Sscan(port, &p); !ok || err != nil {
		t.Fatalf("nats address %s", s.Addr())
	}
	return host, p
}

// subscribeNATS returns the payloads published on subject.
func subscribeNATS(t *testing.T, s *natsserver.Server, subject string) <-chan string {
	t.Helper()
	nc, err := nats.Connect("nats://" + s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	ch := make(chan string, 64)
	if _, err := nc.Subscribe(subject, func(m *nats.Msg) {
		select {
		case ch <- string(m.Data):
		default:
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	return ch
}

// receiveWithin returns the next payload, "" when none came in time.
func receiveWithin(ch <-chan string, d time.Duration) string {
	select {
	case m := <-ch:
		return m
	case <-time.After(d):
		return ""
	}
}

// nextRecord returns the next record of the NATS script but the probes'
// (awaitScript's PUTs), and its JSON.
func nextRecord(t *testing.T, srv *server, msgs <-chan string) (natsRecordEntry, string) {
	t.Helper()
	for range 100 {
		msg := receiveWithin(msgs, 10*time.Second)
		if msg == "" {
			t.Fatalf("no NATS record; server log:\n%s", srv.log())
		}
		var rec natsRecord
		if err := json.Unmarshal([]byte(msg), &rec); err != nil || len(rec.Records) != 1 {
			t.Fatalf("record %s: %v", msg, err)
		}
		if !strings.HasPrefix(rec.Records[0].S3.Object.Key, "probe-") {
			return rec.Records[0], msg
		}
	}
	t.Fatal("only probe records")
	return natsRecordEntry{}, ""
}

// TestLuaNamedScripts: the request contexts run the unnamed script, then
// the named ones (`script put --script-name`) in name order, all seeing
// one Request; a named script's RGW_ABORT_REQUEST denies the request.
func TestLuaNamedScripts(t *testing.T) {
	srv := startServer(t, t.TempDir())
	client := srv.s3Client()
	ctx := context.Background()
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("named")}); err != nil {
		t.Fatal(err)
	}
	// Each script appends its name to the metadata the PUT stores.
	appendName := func(name string) string {
		return fmt.Sprintf(`local m = Request.HTTP.Metadata["x-amz-meta-order"]
Request.HTTP.Metadata["x-amz-meta-order"] = (m and m .. "," or "") .. %q`, name)
	}
	put := func(name, src string) {
		args := []string{"script", "put", "--infile", writeFile(t, "s.lua", src), "--context", "preRequest"}
		if name != "" {
			args = append(args, "--script-name", name)
		}
		srv.admin(t, args...)
	}
	put("zz-deny", `if Request.Object and Request.Object.Name == "denied" then return RGW_ABORT_REQUEST end`)
	put("b", appendName("b"))
	put("", appendName("unnamed"))
	put("a", appendName("a"))
	if got := srv.admin(t, "script", "list", "--context", "prerequest"); got != "a\nb\nzz-deny\n" {
		t.Errorf("script list: %q", got)
	}
	order := func(key string) string {
		h, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("named"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return h.Metadata["order"]
	}
	var last string
	awaitScript(t, func(i int) bool {
		key := fmt.Sprint("probe-", i)
		srv.putSDK(t, "named", key, "p")
		last = order(key)
		return last == "unnamed,a,b"
	}, func() string { return fmt.Sprintf("scripts ran in order %q, want \"unnamed,a,b\"", last) })
	_, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("named"), Key: aws.String("denied"), Body: strings.NewReader("x")})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Errorf("PUT aborted by a named prerequest script: %v", err)
	}
	// Removing a named script takes it out of the chain.
	srv.admin(t, "script", "rm", "--context", "prerequest", "--script-name", "a")
	awaitScript(t, func(i int) bool {
		key := fmt.Sprint("after-rm-", i)
		srv.putSDK(t, "named", key, "p")
		last = order(key)
		return last == "unnamed,b"
	}, func() string { return fmt.Sprintf("after rm of a: order %q, want \"unnamed,b\"", last) })
}
