package adminapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cairn-s3/cairn/internal/account"
	"github.com/cairn-s3/cairn/internal/adminapi"
	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// env is an admin API on real HTTP over a real local store, with three
// users: root (admin), ops (caps users=read) and bob (no caps).
type env struct {
	t   *testing.T
	url string
}

var (
	rootKey = aws.Credentials{AccessKeyID: "ROOTKEY", SecretAccessKey: "rootsecret"}
	opsKey  = aws.Credentials{AccessKeyID: "OPSKEY", SecretAccessKey: "opssecret"}
	bobKey  = aws.Credentials{AccessKeyID: "BOBKEY", SecretAccessKey: "bobsecret"}
)

func newEnv(t *testing.T) *env {
	t.Helper()
	e, _ := newEnvWith(t, func(*local.Store) adminapi.Config { return adminapi.Config{} })
	return e
}

// newEnvWith is newEnv with the configuration cfg returns for the store.
func newEnvWith(t *testing.T, cfg func(*local.Store) adminapi.Config) (*env, *local.Store) {
	t.Helper()
	st, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	accts := account.New(st.KV(), account.Options{})
	ctx := context.Background()
	readCaps, _ := account.ParseCaps("users=read")
	for _, spec := range []account.CreateSpec{
		{ID: "root", DisplayName: "Root", Admin: true, Key: &account.KeySpec{AccessKey: rootKey.AccessKeyID, SecretKey: rootKey.SecretAccessKey}},
		{ID: "ops", DisplayName: "Ops", Caps: readCaps, Key: &account.KeySpec{AccessKey: opsKey.AccessKeyID, SecretKey: opsKey.SecretAccessKey}},
		{ID: "bob", DisplayName: "Bob", Key: &account.KeySpec{AccessKey: bobKey.AccessKeyID, SecretKey: bobKey.SecretAccessKey}},
	} {
		if _, err := accts.Create(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	api := adminapi.New(accts, auth.New(accts, auth.Options{}), cfg(st))
	srv := httptest.NewServer(api) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return &env{t: t, url: srv.URL}, st
}

// do sends a request signed like go-ceph's rgw/admin client does: SigV4,
// service "s3", region "default", UNSIGNED-PAYLOAD. target is the path and
// raw query, e.g. "/admin/user?key&uid=u".
func (e *env) do(creds aws.Credentials, method, target string) (int, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+target, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if creds.AccessKeyID != "" {
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, "UNSIGNED-PAYLOAD", "s3", "default", time.Now()); err != nil {
			e.t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, body
}

// ok sends a request as root and decodes a 200 answer into v (if not nil).
func (e *env) ok(method, target string, v any) {
	e.t.Helper()
	status, body := e.do(rootKey, method, target)
	if status != http.StatusOK {
		e.t.Fatalf("%s %s: got %d %s, want 200", method, target, status, body)
	}
	if v != nil {
		if err := json.Unmarshal(body, v); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, target, body, err)
		}
	}
}

// fails sends a request and checks the RGW-style error answer.
func (e *env) fails(creds aws.Credentials, method, target string, wantStatus int, wantCode string) {
	e.t.Helper()
	status, body := e.do(creds, method, target)
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		e.t.Fatalf("%s %s: error body %q is not JSON: %v", method, target, body, err)
	}
	if status != wantStatus || doc["Code"] != wantCode {
		e.t.Errorf("%s %s: got %d %v, want %d %s", method, target, status, doc["Code"], wantStatus, wantCode)
	}
	if id, _ := doc["RequestId"].(string); id == "" {
		e.t.Errorf("%s %s: error has no RequestId: %s", method, target, body)
	}
	if _, ok := doc["HostId"]; !ok {
		e.t.Errorf("%s %s: error has no HostId: %s", method, target, body)
	}
}

func TestCreateUserShape(t *testing.T) {
	e := newEnv(t)
	var raw map[string]any
	e.ok("PUT", "/admin/user?format=json&uid=alice&display-name=Alice+A&email=alice%40example.com&access-key=AK1&secret-key=SK1&max-buckets=7", &raw)
	want := map[string]any{
		"user_id":      "alice",
		"display_name": "Alice A",
		"email":        "alice@example.com",
		"suspended":    float64(0),
		"max_buckets":  float64(7),
		"op_mask":      "read, write, delete",
		"type":         "rgw",
	}
	for k, v := range want {
		if raw[k] != v {
			t.Errorf("%s: got %#v, want %#v", k, raw[k], v)
		}
	}
	for _, k := range []string{"subusers", "swift_keys", "caps", "placement_tags", "temp_url_keys", "mfa_ids"} {
		if arr, ok := raw[k].([]any); !ok || len(arr) != 0 {
			t.Errorf("%s: got %#v, want []", k, raw[k])
		}
	}
	keys, _ := raw["keys"].([]any)
	if len(keys) != 1 {
		t.Fatalf("keys: got %#v", raw["keys"])
	}
	if k := keys[0].(map[string]any); k["user"] != "alice" || k["access_key"] != "AK1" || k["secret_key"] != "SK1" {
		t.Errorf("keys[0] = %#v", k)
	}
	if q, _ := raw["user_quota"].(map[string]any); q["enabled"] != false || q["max_objects"] != float64(-1) {
		t.Errorf("user_quota = %#v", raw["user_quota"])
	}

	// Info by uid and by access key answer the same document.
	var byUID, byKey adminapi.UserInfo
	e.ok("GET", "/admin/user?format=json&uid=alice", &byUID)
	e.ok("GET", "/admin/user?format=json&access-key=AK1", &byKey)
	if byUID.UserID != "alice" || byKey.UserID != "alice" || byUID.Email != "alice@example.com" {
		t.Errorf("info: by uid %+v, by key %+v", byUID, byKey)
	}

	e.fails(rootKey, "PUT", "/admin/user?format=json&uid=alice&display-name=Again", http.StatusConflict, "UserAlreadyExists")
	e.fails(rootKey, "PUT", "/admin/user?format=json&uid=carol&display-name=C&access-key=AK1", http.StatusConflict, "KeyExists")
	e.fails(rootKey, "PUT", "/admin/user?format=json&uid=carol&display-name=C&email=alice%40example.com", http.StatusConflict, "EmailExists")
	e.fails(rootKey, "PUT", "/admin/user?format=json&uid=carol", http.StatusBadRequest, "InvalidArgument")
	e.fails(rootKey, "GET", "/admin/user?format=json&uid=nobody", http.StatusNotFound, "NoSuchUser")
	e.fails(rootKey, "GET", "/admin/user?format=json&access-key=NOPE", http.StatusNotFound, "NoSuchUser")
	e.fails(rootKey, "PUT", "/admin/user?format=json&uid=carol&display-name=C&key-type=swift", http.StatusBadRequest, "InvalidKeyType")
}

func TestCreateGeneratesKeyByDefault(t *testing.T) {
	e := newEnv(t)
	var u adminapi.UserInfo
	e.ok("PUT", "/admin/user?format=json&uid=gen&display-name=G", &u)
	if len(u.Keys) != 1 || len(u.Keys[0].AccessKey) != 20 || len(u.Keys[0].SecretKey) != 40 {
		t.Errorf("generated keys: %+v", u.Keys)
	}
	e.ok("PUT", "/admin/user?format=json&uid=nokey&display-name=N&generate-key=false", &u)
	if len(u.Keys) != 0 {
		t.Errorf("generate-key=false: got keys %+v", u.Keys)
	}
}

func TestListUsers(t *testing.T) {
	e := newEnv(t)
	var ids []string
	e.ok("GET", "/admin/metadata/user?format=json", &ids)
	if !slices.Equal(ids, []string{"bob", "ops", "root"}) {
		t.Errorf("metadata/user = %v", ids)
	}
	var list struct {
		Keys      []string `json:"keys"`
		Truncated bool     `json:"truncated"`
		Count     int      `json:"count"`
	}
	e.ok("GET", "/admin/user?list&format=json", &list)
	if !slices.Equal(list.Keys, ids) || list.Count != 3 || list.Truncated {
		t.Errorf("user?list = %+v", list)
	}
}

func TestModifySuspendRemove(t *testing.T) {
	e := newEnv(t)
	e.ok("PUT", "/admin/user?format=json&uid=dave&display-name=D&access-key=DK&secret-key=DS", nil)
	dave := aws.Credentials{AccessKeyID: "DK", SecretAccessKey: "DS"}

	var u adminapi.UserInfo
	e.ok("POST", "/admin/user?format=json&uid=dave&display-name=Dave&max-buckets=3&suspended=1", &u)
	if u.DisplayName != "Dave" || u.MaxBuckets != 3 || u.Suspended != 1 {
		t.Errorf("modify: %+v", u)
	}
	// A suspended user's key no longer authenticates.
	e.fails(dave, "GET", "/admin/user?format=json&uid=dave", http.StatusForbidden, "InvalidAccessKeyId")
	e.ok("POST", "/admin/user?format=json&uid=dave&suspended=0", &u)
	if u.Suspended != 0 || u.DisplayName != "Dave" {
		t.Errorf("unsuspend: %+v", u)
	}
	// Now it authenticates (and is refused for lack of caps).
	e.fails(dave, "GET", "/admin/user?format=json&uid=dave", http.StatusForbidden, "AccessDenied")

	e.fails(rootKey, "POST", "/admin/user?format=json&uid=nobody&display-name=X", http.StatusNotFound, "NoSuchUser")
	e.ok("DELETE", "/admin/user?format=json&uid=dave&purge-data=1", nil)
	e.fails(rootKey, "GET", "/admin/user?format=json&uid=dave", http.StatusNotFound, "NoSuchUser")
	e.fails(rootKey, "DELETE", "/admin/user?format=json&uid=dave", http.StatusNotFound, "NoSuchUser")
	e.fails(dave, "GET", "/admin/user?format=json&uid=root", http.StatusForbidden, "InvalidAccessKeyId")
}

func TestKeys(t *testing.T) {
	e := newEnv(t)
	e.ok("PUT", "/admin/user?format=json&uid=erin&display-name=E&generate-key=false", nil)

	var keys []adminapi.KeyInfo
	e.ok("PUT", "/admin/user?key&format=json&uid=erin&access-key=EK1&secret-key=ES1", &keys)
	if len(keys) != 1 || keys[0] != (adminapi.KeyInfo{User: "erin", AccessKey: "EK1", SecretKey: "ES1"}) {
		t.Errorf("key create: %+v", keys)
	}
	e.ok("PUT", "/admin/user?key&format=json&uid=erin&generate-key=true", &keys)
	if len(keys) != 2 || len(keys[1].AccessKey) != 20 {
		t.Errorf("generated key: %+v", keys)
	}
	erin := aws.Credentials{AccessKeyID: "EK1", SecretAccessKey: "ES1"}
	e.fails(erin, "GET", "/admin/user?format=json&uid=erin", http.StatusForbidden, "AccessDenied") // authenticated

	e.fails(rootKey, "PUT", "/admin/user?key&format=json&uid=erin&access-key=BOBKEY", http.StatusConflict, "KeyExists")
	e.fails(rootKey, "PUT", "/admin/user?key&format=json&uid=nobody", http.StatusNotFound, "NoSuchUser")

	e.ok("DELETE", "/admin/user?key&format=json&uid=erin&access-key=EK1", nil)
	e.fails(erin, "GET", "/admin/user?format=json&uid=erin", http.StatusForbidden, "InvalidAccessKeyId")
	e.fails(rootKey, "DELETE", "/admin/user?key&format=json&uid=erin&access-key=EK1", http.StatusForbidden, "InvalidAccessKeyId")

	var u adminapi.UserInfo
	e.ok("GET", "/admin/user?format=json&uid=erin", &u)
	if len(u.Keys) != 1 || u.Keys[0].AccessKey != keys[1].AccessKey {
		t.Errorf("after key rm: %+v", u.Keys)
	}
}

func TestCaps(t *testing.T) {
	e := newEnv(t)
	var caps []adminapi.CapInfo
	e.ok("PUT", "/admin/user?caps&format=json&uid=bob&user-caps="+url.QueryEscape("users=read;buckets=write"), &caps)
	if !slices.Equal(caps, []adminapi.CapInfo{{Type: "users", Perm: "read"}, {Type: "buckets", Perm: "write"}}) {
		t.Errorf("add caps: %+v", caps)
	}
	e.ok("PUT", "/admin/user?caps&format=json&uid=bob&user-caps=users%3Dwrite", &caps)
	e.ok("DELETE", "/admin/user?caps&format=json&uid=bob&user-caps=buckets%3Dwrite", &caps)
	if !slices.Equal(caps, []adminapi.CapInfo{{Type: "users", Perm: "*"}}) {
		t.Errorf("after changes: %+v", caps)
	}
	// bob may now manage users.
	if status, body := e.do(bobKey, "GET", "/admin/user?format=json&uid=root"); status != http.StatusOK {
		t.Errorf("bob with users=*: got %d %s", status, body)
	}
	e.fails(rootKey, "PUT", "/admin/user?caps&format=json&uid=bob&user-caps=users%3Dall", http.StatusBadRequest, "InvalidCapability")
}

func TestAccessControl(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		creds      aws.Credentials
		method     string
		target     string
		wantStatus int
		wantCode   string
	}{
		{"plain user reads", bobKey, "GET", "/admin/user?format=json&uid=bob", http.StatusForbidden, "AccessDenied"},
		{"plain user lists", bobKey, "GET", "/admin/metadata/user?format=json", http.StatusForbidden, "AccessDenied"},
		{"plain user creates", bobKey, "PUT", "/admin/user?format=json&uid=x&display-name=x", http.StatusForbidden, "AccessDenied"},
		{"read cap writes", opsKey, "PUT", "/admin/user?format=json&uid=x&display-name=x", http.StatusForbidden, "AccessDenied"},
		{"read cap removes key", opsKey, "DELETE", "/admin/user?key&format=json&uid=bob&access-key=BOBKEY", http.StatusForbidden, "AccessDenied"},
		{"anonymous", aws.Credentials{}, "GET", "/admin/user?format=json&uid=root", http.StatusForbidden, "AccessDenied"},
		{"unknown key", aws.Credentials{AccessKeyID: "NOPE", SecretAccessKey: "x"}, "GET", "/admin/user?format=json&uid=root", http.StatusForbidden, "InvalidAccessKeyId"},
		{"wrong secret", aws.Credentials{AccessKeyID: "ROOTKEY", SecretAccessKey: "wrong"}, "GET", "/admin/user?format=json&uid=root", http.StatusForbidden, "SignatureDoesNotMatch"},
		{"unknown op", rootKey, "GET", "/admin/log?format=json", http.StatusNotImplemented, "NotImplemented"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t
			e.fails(tt.creds, tt.method, tt.target, tt.wantStatus, tt.wantCode)
		})
	}
	e.t = t
	// The read capability is enough to read.
	if status, body := e.do(opsKey, "GET", "/admin/user?format=json&uid=bob"); status != http.StatusOK || !strings.Contains(string(body), `"user_id":"bob"`) {
		t.Errorf("ops reading bob: got %d %s", status, body)
	}
}

// TestNotificationRoutesWithoutNotifications: without Config.Notifications
// the topic and notification operations answer NotImplemented, after
// authorization (non-admins without the buckets capability are denied).
func TestNotificationRoutesWithoutNotifications(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		creds  aws.Credentials
		method string
		target string
		status int
	}{
		{rootKey, http.MethodGet, "/admin/topic", http.StatusNotImplemented},
		{rootKey, http.MethodGet, "/admin/topic?stats&topic=t", http.StatusNotImplemented},
		{rootKey, http.MethodPost, "/admin/topic?replay&topic=t", http.StatusNotImplemented},
		{rootKey, http.MethodDelete, "/admin/notification?bucket=b", http.StatusNotImplemented},
		{rootKey, http.MethodGet, "/admin/notification/stats", http.StatusNotImplemented},
		{opsKey, http.MethodGet, "/admin/topic", http.StatusForbidden},
		{bobKey, http.MethodDelete, "/admin/topic?topic=t", http.StatusForbidden},
		{rootKey, http.MethodPut, "/admin/topic?topic=t", http.StatusNotImplemented},
	} {
		if status, body := e.do(c.creds, c.method, c.target); status != c.status {
			t.Errorf("%s %s as %s: %d %s, want %d", c.method, c.target, c.creds.AccessKeyID, status, body, c.status)
		}
	}
}

// send sends a prepared request and returns the status and body.
func (e *env) send(req *http.Request) (int, []byte) {
	e.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, body
}

// jsonCode reports whether body is a JSON error document with code.
func jsonCode(body []byte, code string) bool {
	var doc map[string]any
	return json.Unmarshal(body, &doc) == nil && doc["Code"] == code
}
