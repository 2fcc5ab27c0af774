package s3api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cairn-s3/cairn/internal/lua"
	"github.com/cairn-s3/cairn/internal/notify"
)

// fieldsScript writes Request's fields, one "name=value" a line.
const fieldsScript = `
local f = assert(io.open("fields.txt", "w"))
local function w(k, v) f:write(k, "=", tostring(v), "\n") end
local function ty(k, v) w(k .. ":type", math.type(v) or type(v)) end
w("RGWOp", Request.RGWOp)
w("DecodedURI", Request.DecodedURI)
w("ContentLength", Request.ContentLength) ty("ContentLength", Request.ContentLength)
w("Response.HTTPStatusCode", Request.Response.HTTPStatusCode) ty("Response.HTTPStatusCode", Request.Response.HTTPStatusCode)
w("Response.HTTPStatus", Request.Response.HTTPStatus)
w("Response.RGWCode", Request.Response.RGWCode)
w("SwiftAccountName", Request.SwiftAccountName)
w("Bucket.Name", Request.Bucket.Name)
w("bucket.name", Request.bucket.name)
w("Bucket.Tenant", Request.Bucket.Tenant)
w("Bucket.Id", Request.Bucket.Id)
w("Bucket.Marker", Request.Bucket.Marker)
w("Bucket.ZoneGroupId", Request.Bucket.ZoneGroupId)
w("Bucket.CreationTime", Request.Bucket.CreationTime)
w("Bucket.MTime", Request.Bucket.MTime)
w("Bucket.Quota.MaxSize", Request.Bucket.Quota.MaxSize)
w("Bucket.Quota.MaxObjects", Request.Bucket.Quota.MaxObjects)
w("Bucket.Quota.Enabled", Request.Bucket.Quota.Enabled)
w("Bucket.Quota.Rounded", Request.Bucket.Quota.Rounded)
w("Bucket.Count", Request.Bucket.Count)
w("Bucket.PlacementRule.Name", Request.Bucket.PlacementRule.Name)
w("Bucket.User.Id", Request.Bucket.User.Id)
w("Bucket.User.Tenant", Request.Bucket.User.Tenant)
w("Object.Name", Request.Object.Name)
w("Object.Id", Request.Object.Id)
w("Object.Size", Request.Object.Size) ty("Object.Size", Request.Object.Size)
w("Object.Instance", Request.Object.Instance)
w("Object.MTime", Request.Object.MTime)
w("CopyFrom", Request.CopyFrom)
w("ObjectOwner.User", Request.ObjectOwner.User)
w("ObjectOwner.DisplayName", Request.ObjectOwner.DisplayName)
w("ZoneGroup.Name", Request.ZoneGroup.Name)
w("UserACL.Owner.User", Request.UserACL.Owner.User)
w("BucketACL", type(Request.BucketACL))
w("ObjectACL", type(Request.ObjectACL))
w("Environment.aws:SourceIp", Request.Environment["aws:SourceIp"])
local n = 0 for k, v in pairs(Request.Environment) do n = n + 1 end
w("Environment.pairs", n == #Request.Environment and n > 0)
w("Policy", Request.Policy)
w("UserPolicies", #Request.UserPolicies)
for k, v in pairs(Request.UserPolicies) do w("UserPolicies.pairs", k) end
w("UserPolicies.writable", (pcall(function() Request.UserPolicies[0] = 1 end)))
w("RGWId", Request.RGWId)
w("HTTP.Parameters.x-id", Request.HTTP.Parameters["x-id"])
w("HTTP.Resources", #Request.HTTP.Resources)
w("HTTP.Metadata.x-amz-meta-color", Request.HTTP.Metadata["x-amz-meta-color"])
local keys = {} for k, v in pairs(Request.HTTP.Metadata) do keys[#keys + 1] = k .. ":" .. v end
w("HTTP.Metadata.pairs", table.concat(keys, ","))
w("HTTP.StorageClass", Request.HTTP.StorageClass)
w("HTTP.Host", Request.HTTP.Host)
w("HTTP.Method", Request.HTTP.Method)
w("HTTP.URI", Request.HTTP.URI)
w("HTTP.QueryString", Request.HTTP.QueryString)
w("HTTP.Domain", Request.HTTP.Domain)
w("Time", Request.Time)
w("Dialect", Request.Dialect)
w("Id", Request.Id)
w("TransactionId", Request.TransactionId)
w("Tags.project", Request.Tags.project)
w("Tags.len", #Request.Tags)
w("User.Id", Request.User.Id)
w("User.Tenant", Request.User.Tenant)
w("Trace.Enable", Request.Trace.Enable)
Request.Trace.SetAttribute("k", 1)
w("Log", Request.Log())
w("GenericAttributes", #Request.GenericAttributes)
for k, v in pairs(Request.GenericAttributes) do w("GenericAttributes." .. k, v) end
local ok, err = pcall(function() return Request.NoSuchField end)
w("unknown", not ok and tostring(err):find("unknown field name") ~= nil)
f:close()
`

func parseFields(s string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		k, v, _ := strings.Cut(line, "=")
		m[k] = v
	}
	return m
}

func TestLuaRequestFieldsPostRequest(t *testing.T) {
	ss := newScriptServer(t, lua.Config{})
	ctx := context.Background()
	if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("fields")}); err != nil {
		t.Fatal(err)
	}
	ss.Scripts.Put("postRequest", "", fieldsScript)
	start := time.Now().Add(-time.Second)
	body := []byte("hello lua")
	out, err := ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("fields"), Key: aws.String("dir/a b.txt"),
		Body: bytes.NewReader(body), Metadata: map[string]string{"color": "blue"}, Tagging: aws.String("project=cairn&x=y"),
		StorageClass: types.StorageClassStandardIa, ContentType: aws.String("text/plain"), CacheControl: aws.String("no-cache"),
		ContentLanguage: aws.String("fr")})
	if err != nil {
		t.Fatal(err)
	}
	_ = out
	b, err := ss.Store.GetBucket(ctx, "fields")
	if err != nil {
		t.Fatal(err)
	}
	bucketID := notify.BucketID(&b)
	got := parseFields(ss.file(t, "fields.txt"))
	host := strings.TrimPrefix(ss.URL, "http://")
	want := map[string]string{
		"RGWOp": "put_obj", "DecodedURI": "/fields/dir/a b.txt", "ContentLength": "9", "ContentLength:type": "integer",
		"Response.HTTPStatusCode": "200", "Response.HTTPStatusCode:type": "integer", "Response.HTTPStatus": "", "Response.RGWCode": "0",
		"SwiftAccountName": "nil", "Bucket.Name": "fields", "bucket.name": "fields", "Bucket.Tenant": "",
		"Bucket.Id": bucketID, "Bucket.Marker": bucketID, "Bucket.ZoneGroupId": testRegion, "Bucket.Quota.MaxSize": "-1",
		"Bucket.Quota.MaxObjects": "-1", "Bucket.Quota.Enabled": "false", "Bucket.Quota.Rounded": "true", "Bucket.Count": "nil",
		"Bucket.PlacementRule.Name": "default-placement", "Bucket.User.Id": "root", "Bucket.User.Tenant": "",
		"Object.Name": "dir/a b.txt", "Object.Id": "dir/a b.txt", "Object.Size": "9", "Object.Size:type": "integer",
		"Object.Instance": "", "CopyFrom": "nil", "ObjectOwner.User": "root", "ObjectOwner.DisplayName": "root",
		"ZoneGroup.Name": testRegion, "UserACL.Owner.User": "", "BucketACL": "table", "ObjectACL": "table",
		"Environment.aws:SourceIp": "127.0.0.1", "Environment.pairs": "true", "Policy": "nil", "UserPolicies": "0", "UserPolicies.pairs": "", "UserPolicies.writable": "false",
		"RGWId": "cairn-test-default-default", "HTTP.Parameters.x-id": "PutObject", "HTTP.Resources": "0",
		"HTTP.Metadata.x-amz-meta-color": "blue", "HTTP.Metadata.pairs": "x-amz-meta-color:blue",
		"HTTP.StorageClass": "STANDARD_IA", "HTTP.Host": host, "HTTP.Method": "PUT", "HTTP.URI": "/fields/dir/a%20b.txt",
		"HTTP.QueryString": "x-id=PutObject", "HTTP.Domain": "", "Dialect": "s3", "Tags.project": "cairn", "Tags.len": "2",
		"User.Id": "root", "User.Tenant": "", "Trace.Enable": "false", "Log": "0", "unknown": "true",
		// RGW's generic attributes: the headers it stores as attributes.
		"GenericAttributes": "3", "GenericAttributes.user.rgw.content_type": "text/plain",
		"GenericAttributes.user.rgw.cache_control": "no-cache", "GenericAttributes.user.rgw.content_language": "fr",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"Time", "Bucket.CreationTime", "Bucket.MTime", "Object.MTime"} {
		ts, err := time.ParseInLocation(time.DateTime, got[k], time.Local)
		if err != nil || ts.Before(start) || ts.After(time.Now().Add(time.Second)) {
			t.Errorf("%s = %q: not the request's time (%v)", k, got[k], err)
		}
	}
	if got["Id"] == "" || got["Id"] != got["TransactionId"] {
		t.Errorf("Id %q, TransactionId %q", got["Id"], got["TransactionId"])
	}
	if ok, fail := ss.counters(); fail != 0 || ok == 0 {
		t.Fatalf("ok %d fail %d\n%s", ok, fail, ss.Log.String())
	}
}

// TestLuaEveryContextRuns checks that each request context runs once per
// request, in order, and sees the request's state at its stage.
func TestLuaEveryContextRuns(t *testing.T) {
	ss := newScriptServer(t, lua.Config{})
	ctx := context.Background()
	if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("ctx")}); err != nil {
		t.Fatal(err)
	}
	logLine := func(stage string) string {
		return `local f = assert(io.open("stages.txt", "a"))
f:write("` + stage + ` ", Request.RGWOp, " ", tostring(Request.User and Request.User.Id), " ",
  tostring(Request.Bucket.Id), " ", Request.Response.HTTPStatusCode, " ", Request.Response.RGWCode, "\n")
f:close()`
	}
	for _, c := range []string{"preRequest", "postAuth", "postRequest"} {
		ss.Scripts.Put(c, "", logLine(strings.ToLower(c)))
	}
	if _, err := ss.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ctx"), Key: aws.String("missing")}); err == nil {
		t.Fatal("GET of a missing key succeeded")
	}
	b, err := ss.Store.GetBucket(ctx, "ctx")
	if err != nil {
		t.Fatal(err)
	}
	id := notify.BucketID(&b)
	// RGWCode: RGW's -ENOENT behind NoSuchKey.
	want := "prerequest get_obj nil nil 0 0\npostauth get_obj root " + id + " 0 0\npostrequest get_obj root " + id + " 404 -2\n"
	if got := ss.file(t, "stages.txt"); got != want {
		t.Fatalf("stages:\n%s\nwant:\n%s\nlog:\n%s", got, want, ss.Log.String())
	}
}

func TestLuaPreRequestAbortDenies(t *testing.T) {
	ss := newScriptServer(t, lua.Config{})
	ctx := context.Background()
	if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("deny")}); err != nil {
		t.Fatal(err)
	}
	ss.Scripts.Put("prerequest", "", `
if Request.RGWOp == "put_obj" and Request.Object.Name == "forbidden" then
  Request.Response.HTTPStatusCode = 409
  Request.Response.HTTPStatus = "PolicyConflict"
  Request.Response.Message = "scripts say no"
  return RGW_ABORT_REQUEST
end
if Request.RGWOp == "put_obj" and Request.Object.Name == "plain" then
  return RGW_ABORT_REQUEST
end
return 0`)
	_, err := ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("deny"), Key: aws.String("forbidden"), Body: strings.NewReader("x")})
	assertAPIError(t, err, 409, "PolicyConflict", "scripts say no")
	_, err = ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("deny"), Key: aws.String("plain"), Body: strings.NewReader("x")})
	assertAPIError(t, err, 403, "AccessDenied", "")
	if _, err := ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("deny"), Key: aws.String("allowed"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	list, err := ss.Root.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("deny")})
	if err != nil || len(list.Contents) != 1 || *list.Contents[0].Key != "allowed" {
		t.Fatalf("denied PUTs changed the bucket: %v %+v", err, list)
	}
}

func assertAPIError(t *testing.T, err error, status int, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || (msg != "" && ae.ErrorMessage() != msg) {
		t.Fatalf("error %v, want %s %q", err, code, msg)
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("status %d, want %d", re.HTTPStatusCode(), status)
	}
}

// TestLuaPreRequestWritesReachTheOp: metadata, storage class and the
// bucket name set by a prerequest script are what the PUT stores.
func TestLuaPreRequestWritesReachTheOp(t *testing.T) {
	ss := newScriptServer(t, lua.Config{})
	ctx := context.Background()
	for _, b := range []string{"small", "big", "alias", "target"} {
		if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	// Ceph's storage-class example: steer by the object's size.
	ss.Scripts.Put("prerequest", "", `
if Request.RGWOp == "put_obj" then
  if Request.ContentLength > 10 then Request.HTTP.StorageClass = "STANDARD_IA" end
  Request.HTTP.Metadata["x-amz-meta-added"] = "by-lua"
  Request.HTTP.Metadata["x-amz-meta-color"] = "red"
  if Request.Bucket.Name == "alias" then Request.Bucket.Name = "target" end
end`)
	put := func(bucket, key, body string) {
		t.Helper()
		if _, err := ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: strings.NewReader(body), Metadata: map[string]string{"color": "blue"}}); err != nil {
			t.Fatalf("put %s/%s: %v\n%s", bucket, key, err, ss.Log.String())
		}
	}
	put("small", "k", "tiny")
	put("big", "k", "more than ten bytes")
	put("alias", "moved", "x")
	for _, tc := range []struct{ bucket, class string }{{"small", ""}, {"big", "STANDARD_IA"}} {
		h, err := ss.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(tc.bucket), Key: aws.String("k")})
		if err != nil {
			t.Fatal(err)
		}
		if string(h.StorageClass) != tc.class || h.Metadata["added"] != "by-lua" || h.Metadata["color"] != "red" {
			t.Errorf("%s: storage class %q metadata %v", tc.bucket, h.StorageClass, h.Metadata)
		}
	}
	if _, err := ss.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("target"), Key: aws.String("moved")}); err != nil {
		t.Errorf("Bucket.Name redirect: %v", err)
	}
	if _, err := ss.Root.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("alias"), Key: aws.String("moved")}); err == nil {
		t.Errorf("Bucket.Name redirect: object landed in the original bucket")
	}
}

// TestLuaReadOnlyFields: writing a read-only field (or Bucket.Name after
// prerequest) is a script error, counted, and the request still succeeds.
func TestLuaReadOnlyFields(t *testing.T) {
	ss := newScriptServer(t, lua.Config{})
	ctx := context.Background()
	if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("read-only")}); err != nil {
		t.Fatal(err)
	}
	for i, src := range []string{`Request.RGWOp = "x"`, `Request.Bucket.Name = "other"`, `Request.HTTP.Method = "GET"`,
		`Request.Object.Size = 1`, `Request.Id = "x"`, `Request.Response.HTTPStatusCode = "text"`} {
		ss.Scripts.Put("postrequest", "", src)
		_, fail := ss.counters()
		if _, err := ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("read-only"), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
			t.Fatalf("%s: request failed: %v", src, err)
		}
		if _, f := ss.counters(); f != fail+1 {
			t.Errorf("script %d %q: not a script error\n%s", i, src, ss.Log.String())
		}
	}
	if !strings.Contains(ss.Log.String(), "read-only") {
		t.Errorf("log lacks read-only error:\n%s", ss.Log.String())
	}
	ss.Scripts.Put("postrequest", "", `Request.Response.Message = "changed"; Request.Response.HTTPStatusCode = 299`)
	_, fail := ss.counters()
	if _, err := ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("read-only"), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, f := ss.counters(); f != fail {
		t.Errorf("writing Response fields failed: %s", ss.Log.String())
	}
}

// TestLuaScriptsPerTenant: a tenant's script runs only for its buckets.
func TestLuaScriptsPerTenant(t *testing.T) {
	ss := newScriptServer(t, lua.Config{})
	ctx := context.Background()
	tc := ss.Client(userTenant)
	for _, c := range []*s3.Client{ss.Root, tc} {
		if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("same")}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tn := range []string{"", "t1"} {
		for _, c := range []string{"prerequest", "postrequest"} {
			ss.Scripts.Put(c, tn, `local f = assert(io.open("tenant.txt", "a")) f:write("`+c+` `+tn+`:", Request.Bucket.Tenant or "nil", "\n") f:close()`)
		}
	}
	if _, err := tc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("same"), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("same"), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	want := "prerequest t1:t1\npostrequest t1:t1\nprerequest :nil\npostrequest :\n"
	if got := ss.file(t, "tenant.txt"); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestLuaDataOnPutAndGet(t *testing.T) {
	// The script keeps every byte of a chunk as a string of its own: it
	// needs more than the default limits (the race detector is slow).
	ss := newScriptServer(t, lua.Config{MaxMemory: 64 << 20, MaxRuntime: time.Minute})
	ctx := context.Background()
	if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("data")}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"putdata", "getdata"} {
		ss.Scripts.Put(c, "", `
local f = assert(io.open("`+c+`.bin", "a"))
local parts = {}
for i, b in pairs(Data) do parts[i] = b end
assert(#parts == #Data and Data[1] == string.sub(table.concat(parts), 1, 1))
f:write(table.concat(parts))
f:close()
RGW.increment("`+c+`_bytes", #Data)
assert(Offset == RGW["`+c+`_off"] or (Offset == 0 and RGW["`+c+`_off"] == nil))
RGW["`+c+`_off"] = Offset + #Data
local ok = pcall(function() Data[1] = "x" end)
assert(not ok, "Data is writable")`)
	}
	body := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320 KB: several chunks
	if _, err := ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("k"), Body: bytes.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
	out, err := ss.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("GET changed the body: %v", err)
	}
	for _, c := range []string{"putdata", "getdata"} {
		if seen := ss.file(t, c+".bin"); seen != string(body) {
			t.Errorf("%s saw %d bytes, want the %d of the body", c, len(seen), len(body))
		}
	}
	if ok, fail := ss.counters(); fail != 0 || ok < 4 {
		t.Fatalf("ok %d fail %d\n%s", ok, fail, ss.Log.String())
	}
}

// TestLuaLimitsNeverFailRequests: a looping, memory-hungry or forbidden
// script is stopped with a clear error and counted; the request succeeds.
func TestLuaLimitsNeverFailRequests(t *testing.T) {
	ss := newScriptServer(t, lua.Config{MaxRuntime: 300 * time.Millisecond})
	ctx := context.Background()
	if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("lim")}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ ctx, src, want string }{
		{"prerequest", "while true do end", "time limit of 300 exceeded"},
		{"postrequest", "local s = 'x' while true do s = s .. s end", "memory limit of 128000 exceeded"},
		{"postauth", "os.execute('id')", "os.execute is not allowed"},
	} {
		ss.Scripts.Put(tc.ctx, "", tc.src)
		_, fail := ss.counters()
		start := time.Now()
		if _, err := ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("lim"), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
			t.Fatalf("%s: request failed: %v", tc.ctx, err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("%s: request took %v", tc.ctx, d)
		}
		if _, f := ss.counters(); f != fail+1 {
			t.Errorf("%s: failure not counted", tc.ctx)
		}
		if !strings.Contains(ss.Log.String(), tc.want) || !strings.Contains(ss.Log.String(), "context="+tc.ctx) {
			t.Errorf("log lacks %q for %s:\n%s", tc.want, tc.ctx, ss.Log.String())
		}
		ss.Scripts.Put(tc.ctx, "", "")
	}
	if n := ss.Engine.Errors()[lua.PreRequest]; n != 1 {
		t.Errorf("errors{prerequest} = %d", n)
	}
}

func TestLuaPreRequestFailClosed(t *testing.T) {
	ss := newScriptServer(t, lua.Config{FailClosed: true})
	ctx := context.Background()
	if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("closed")}); err != nil {
		t.Fatal(err)
	}
	ss.Scripts.Put("prerequest", "", `error("broken")`)
	_, err := ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("closed"), Key: aws.String("k"), Body: strings.NewReader("x")})
	assertAPIError(t, err, http.StatusForbidden, "AccessDenied", "")
}

func TestLuaBackground(t *testing.T) {
	ss := newScriptServer(t, lua.Config{BackgroundInterval: 10 * time.Millisecond})
	ss.Scripts.Put("background", "", `RGW.increment("ticks") assert(Request == nil)`)
	ss.Engine.Start()
	ctx := context.Background()
	if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("background")}); err != nil {
		t.Fatal(err)
	}
	ss.Scripts.Put("postrequest", "", `local f = assert(io.open("ticks.txt", "w")) f:write(tostring(RGW.ticks)) f:close()`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := ss.Root.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("background")}); err != nil {
			t.Fatal(err)
		}
		if got := ss.file(t, "ticks.txt"); got != "nil" && got >= "3" || len(got) > 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("background script did not run 3 times: %s", ss.Log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := ss.Engine.Close(); err != nil {
		t.Fatal(err)
	}
	if _, fail := ss.counters(); fail != 0 {
		t.Fatalf("failures: %s", ss.Log.String())
	}
}

// TestLuaDataOfFormsPartsAndRanges: putdata sees a POST form's file (not
// the form) and a part's body; getdata's Offset of a range GET is the
// range's place in the object.
func TestLuaDataOfFormsPartsAndRanges(t *testing.T) {
	ss := newScriptServer(t, lua.Config{})
	ctx := context.Background()
	if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("forms"), ACL: types.BucketCannedACLPublicReadWrite}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"putdata", "getdata"} {
		ss.Scripts.Put(c, "", `
local f = assert(io.open("`+c+`.txt", "a"))
local s = ""
for i = 1, #Data do s = s .. Data[i] end
f:write(Request.RGWOp, " ", Offset, " ", s, "\n")
f:close()`)
	}
	resp, body := postRaw(t, ss.URL+"/forms", "key", "form", "file", "form-payload")
	wantPostStatus(t, resp, body, http.StatusNoContent, "")
	up, err := ss.Root.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("forms"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Root.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("forms"), Key: aws.String("mp"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("part-one")}); err != nil {
		t.Fatal(err)
	}
	out, err := ss.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("forms"), Key: aws.String("form"), Range: aws.String("bytes=5-8")})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(got) != "payl" {
		t.Fatalf("range body %q", got)
	}
	if got, want := ss.file(t, "putdata.txt"), "post_obj 0 form-payload\nput_obj 0 part-one\n"; got != want {
		t.Errorf("putdata saw\n%s\nwant\n%s", got, want)
	}
	if got, want := ss.file(t, "getdata.txt"), "get_obj 5 payl\n"; got != want {
		t.Errorf("getdata saw\n%s\nwant\n%s", got, want)
	}
}

// TestLuaCopyFromAndPolicy: CopyFrom names a copy's source; Policy is the
// bucket policy of the bucket accessed.
func TestLuaCopyFromAndPolicy(t *testing.T) {
	ss := newScriptServer(t, lua.Config{})
	ctx := context.Background()
	if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("copies")}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::copies/*"}]}`
	if _, err := ss.Root.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("copies"), Policy: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("copies"), Key: aws.String("src"), Body: strings.NewReader("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Root.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: aws.String("copies"),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("team"), Value: aws.String("storage")}}}}); err != nil {
		t.Fatal(err)
	}
	ss.Scripts.Put("postrequest", "", `
assert(Request.Bucket.Tags.team == "storage" and #Request.Bucket.Tags == 1)
if Request.RGWOp ~= "copy_obj" then return end
local f = assert(io.open("copy.txt", "w"))
f:write(Request.CopyFrom.Tenant, "|", Request.CopyFrom.Bucket, "|", Request.CopyFrom.Object.Name, "|",
  Request.Object.Name, "|", Request.Policy.Text)
f:close()`)
	if _, err := ss.Root.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("copies"), Key: aws.String("dst"),
		CopySource: aws.String("copies/src")}); err != nil {
		t.Fatal(err)
	}
	if got, want := ss.file(t, "copy.txt"), "|copies|src|dst|"+policy; got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}
