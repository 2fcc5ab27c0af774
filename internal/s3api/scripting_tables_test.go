package s3api

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/lua"
)

// aclScript writes an ACL table: its owner, its grant count, the grants
// pairs() shows and the group grants (key "").
const aclScript = `
local function grant(g)
  return g.Type .. ":" .. g.Permission .. ":" .. tostring(g.User) .. ":" .. tostring(g.GroupType) .. ":" .. tostring(g.Referer)
end
local function acl(f, name, a)
  f:write(name, ".Owner=", a.Owner.User, "|", a.Owner.DisplayName, "\n")
  f:write(name, ".len=", #a.Grants, "\n")
  local keys = {}
  for k, g in pairs(a.Grants) do keys[#keys + 1] = k .. "=" .. grant(g) end
  table.sort(keys)
  f:write(name, ".pairs=", table.concat(keys, ","), "\n")
  if a.Grants[""] then f:write(name, ".group=", grant(a.Grants[""]), "\n") end
  local ok = pcall(function() a.Grants["x"] = 1 end)
  f:write(name, ".writable=", tostring(ok), "\n")
end
`

// TestLuaACLTables checks UserACL, BucketACL and ObjectACL against the
// ACLs stored for a real bucket and object: RGW's numbers for grantee
// types, permissions and groups, groups hidden from pairs(), the empty
// policies RGW shows before loading (prerequest) and for S3 users.
func TestLuaACLTables(t *testing.T) {
	ss := newScriptServer(t, lua.Config{})
	ctx := context.Background()
	if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("acls"),
		ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("acls"), Key: aws.String("k"),
		Body: strings.NewReader("x"), GrantRead: aws.String(`id="alt", uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"`),
		GrantFullControl: aws.String(`id="root"`)}); err != nil {
		t.Fatal(err)
	}
	body := aclScript + `
local f = assert(io.open(%q, "w"))
acl(f, "User", Request.UserACL)
acl(f, "Bucket", Request.BucketACL)
acl(f, "Object", Request.ObjectACL)
f:close()`
	ss.Scripts.Put("prerequest", "", strings.Replace(body, "%q", `"pre.txt"`, 1))
	ss.Scripts.Put("postrequest", "", strings.Replace(body, "%q", `"post.txt"`, 1))
	if _, err := ss.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("acls"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	empty := func(name string) map[string]string {
		return map[string]string{name + ".Owner": "|", name + ".len": "0", name + ".pairs": "", name + ".writable": "false"}
	}
	check := func(file string, want map[string]string) {
		t.Helper()
		got := parseFields(ss.file(t, file))
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s: %s = %q, want %q", file, k, got[k], v)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: got %v, want %v", file, got, want)
		}
	}
	pre := empty("User")
	for _, m := range []map[string]string{empty("Bucket"), empty("Object")} {
		for k, v := range m {
			pre[k] = v
		}
	}
	check("pre.txt", pre)
	post := empty("User")
	for k, v := range map[string]string{
		// public-read: the owner's FULL_CONTROL (15), AllUsers (group 1) READ (1).
		"Bucket.Owner": "root|root-name", "Bucket.len": "2", "Bucket.pairs": "root=0:15:root:nil:nil",
		"Bucket.group": "2:1:nil:1:nil", "Bucket.writable": "false",
		// x-amz-grant-*: alt READ, AuthenticatedUsers (group 2) READ, root FULL_CONTROL.
		"Object.Owner": "root|root-name", "Object.len": "3", "Object.pairs": "alt=0:1:alt:nil:nil,root=0:15:root:nil:nil",
		"Object.group": "2:1:nil:2:nil", "Object.writable": "false",
	} {
		post[k] = v
	}
	check("post.txt", post)
	if ok, fail := ss.counters(); fail != 0 || ok == 0 {
		t.Fatalf("ok %d fail %d\n%s", ok, fail, ss.Log.String())
	}
}

// TestLuaResponseRGWCode checks Request.Response.RGWCode in postrequest:
// RGW's negated internal code of each answer (set_req_state_err), 0 for
// a plain success.
func TestLuaResponseRGWCode(t *testing.T) {
	ss := newScriptServer(t, lua.Config{})
	ctx := context.Background()
	if _, err := ss.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("codes")}); err != nil {
		t.Fatal(err)
	}
	ss.Scripts.Put("postrequest", "", `
local f = assert(io.open("codes.txt", "a"))
f:write(Request.RGWOp, " ", Request.Response.HTTPStatusCode, " ", Request.Response.HTTPStatus, " ", Request.Response.RGWCode, "\n")
f:close()`)
	if _, err := ss.Root.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("codes"), Key: aws.String("k"),
		Body: strings.NewReader("hello")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("codes"), Key: aws.String("k"),
		Range: aws.String("bytes=0-1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ss.Root.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("codes"), Key: aws.String("k")}); err != nil {
		t.Fatal(err)
	}
	_, err := ss.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("nosuch"), Key: aws.String("k")})
	assertAPIError(t, err, 404, "NoSuchBucket", "")
	_, err = ss.Alt.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("codes")})
	assertAPIError(t, err, 403, "AccessDenied", "")
	want := "put_obj 200  0\nget_obj 206  -1903\ndelete_obj 204  -1902\nget_obj 404 NoSuchBucket -2002\n" +
		"delete_bucket 403 AccessDenied -13\n"
	if got := ss.file(t, "codes.txt"); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
}
