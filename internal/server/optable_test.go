package server_test

// The operation table's guard: every row of the S3 adapter's table (S3, the
// SNS topic API, the mounted PubSub API) and of the admin API's table is
// sent, against the real server on loopback, by a second user without
// permission on the first user's private resources and by an anonymous
// caller, and must be refused. The test walks the tables themselves, so a
// row added without authorization fails it.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/cairn-s3/cairn/internal/adminapi"
	"github.com/cairn-s3/cairn/internal/optable"
	"github.com/cairn-s3/cairn/internal/s3api"
	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// The first user's (root's) resources the rows are aimed at.
const (
	ownerBucket   = "alice-bkt"
	ownerKey      = "alice-key"
	ownerTopic    = "alice-topic"   // SNS
	ownerPSTopic  = "alice-pstopic" // PubSub
	ownerSub      = "alice-sub"
	snsTopicARN   = "arn:aws:sns:default::" + ownerTopic
	ownerPayload  = "alice's private bytes"
	secondUserUID = "bob"
)

// exceptions are the rows answered without authorization, and why.
var exceptions = map[optable.Op]string{
	s3api.OpPreflight: "CORS preflight (OPTIONS) carries no credentials",
}

// tableEnv is the running server with both users' credentials.
type tableEnv struct {
	url          string
	owner, other aws.Credentials
}

func TestEveryRowIsAuthorized(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{PubSub: servertestPubSub()})
	e := &tableEnv{url: srv.URL, owner: rootCreds(srv)}
	e.other = e.createUser(t, secondUserUID)
	e.ownerFixture(t)
	rows := s3api.Table()
	rows = append(rows, adminapi.Table()...)
	for _, row := range rows {
		name := fmt.Sprintf("%s_%s_%s%s", row.Op, row.Match.Method, row.Match.Mount+row.Match.Path, row.Match.Query)
		t.Run(name, func(t *testing.T) {
			if why, ok := exceptions[row.Op]; ok {
				t.Skipf("listed exception: %s", why)
			}
			if row.Access == optable.AccessNone {
				t.Fatalf("row %s has no access rule and is not a listed exception", row.Op)
			}
			status, code, body := e.do(t, row, &e.other)
			checkOther(t, row, status, code, body)
			status, code, _ = e.do(t, row, nil)
			checkAnonymous(t, row, status, code)
		})
	}
	e.ownerIntact(t)
}

// checkOther: the second user is refused on the first user's resources.
// Rows over the caller's own namespace (listings, PubSub subscriptions)
// may answer, but never with the first user's resources; rows that create
// a resource are refused another user's name by a conflict.
func checkOther(t *testing.T, row optable.Row, status int, code string, body []byte) {
	t.Helper()
	switch {
	case row.Scope == optable.ScopeService:
		if status != http.StatusOK {
			t.Errorf("second user: %d %s, want 200 with their own resources only", status, code)
		}
		for _, name := range []string{ownerBucket, ownerTopic, ownerPSTopic} {
			if bytes.Contains(body, []byte(name)) {
				t.Errorf("second user's listing shows %s: %s", name, body)
			}
		}
	case row.Scope == optable.ScopeSubscription:
		// Each user has their own subscriptions: the first user's are not
		// addressable by name (checked intact at the end).
		if status >= 500 {
			t.Errorf("second user: %d %s", status, code)
		}
	case row.Op == s3api.OpCreateBucket:
		if status != http.StatusConflict || code != "BucketAlreadyExists" {
			t.Errorf("second user: %d %s, want 409 BucketAlreadyExists", status, code)
		}
	case row.Op == s3api.OpPSGetTopic:
		// A PubSub user sees only their own topics: another's is missing.
		if status != http.StatusNotFound {
			t.Errorf("second user: %d %s, want 404", status, code)
		}
	default:
		if status != http.StatusForbidden || !refusalCode(row, code) {
			t.Errorf("second user: %d %s, want 403 AccessDenied", status, code)
		}
	}
}

// refusalCode reports whether code is AccessDenied; HEAD answers carry no
// body, hence no code.
func refusalCode(row optable.Row, code string) bool {
	return code == "AccessDenied" || row.Match.Method == http.MethodHead && code == ""
}

// checkAnonymous: an anonymous caller is refused (the topic API answers
// 400 InvalidRequest there, as RGW does: notifications.md §2.2).
func checkAnonymous(t *testing.T, row optable.Row, status int, code string) {
	t.Helper()
	if row.Match.Form != "" {
		if status != http.StatusBadRequest || code != "InvalidRequest" {
			t.Errorf("anonymous: %d %s, want 400 InvalidRequest", status, code)
		}
		return
	}
	if status != http.StatusForbidden || !refusalCode(row, code) {
		t.Errorf("anonymous: %d %s, want 403 AccessDenied", status, code)
	}
}

// TestPolicyGrantsAnonymousRead: the rows that read a bucket or object are
// refused to anonymous callers only for want of a grant: a bucket policy
// allowing the row's action to everyone lets them in.
func TestPolicyGrantsAnonymousRead(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	e := &tableEnv{url: srv.URL, owner: rootCreds(srv)}
	e.ok(t, "PUT", "/"+ownerBucket, nil)
	e.ok(t, "PUT", "/"+ownerBucket+"/"+ownerKey, []byte(ownerPayload))
	for _, row := range s3api.Table() {
		reads := row.Access == optable.AccessRead || row.Access == optable.AccessObjectRead ||
			row.Access == optable.AccessReadACP || row.Access == optable.AccessObjectReadACP
		if !reads || (row.Match.Method != "GET" && row.Match.Method != "HEAD") {
			continue
		}
		t.Run(string(row.Op)+"_"+row.Match.Query, func(t *testing.T) {
			if status, code, _ := e.do(t, row, nil); status != http.StatusForbidden {
				t.Fatalf("anonymous before the grant: %d %s, want 403", status, code)
			}
			doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"` + row.Action.Plain +
				`","Resource":["arn:aws:s3:::` + ownerBucket + `","arn:aws:s3:::` + ownerBucket + `/*"]}]}`
			e.ok(t, "PUT", "/"+ownerBucket+"?policy", []byte(doc))
			defer e.ok(t, "DELETE", "/"+ownerBucket+"?policy", nil)
			if status, code, _ := e.do(t, row, nil); status == http.StatusForbidden || status >= 500 {
				t.Errorf("anonymous with %s granted: %d %s", row.Action.Plain, status, code)
			}
		})
	}
}

// do sends the request a row matches, aimed at the owner's resources, as
// the given user (nil: anonymous). It returns the status and error code.
func (e *tableEnv) do(t *testing.T, row optable.Row, as *aws.Credentials) (int, string, []byte) {
	t.Helper()
	method := row.Match.Method
	if method == "" {
		method = http.MethodGet
	}
	target := rowPath(row)
	if q := row.Match.Query; q != "" {
		target += "?" + q
		if row.Match.Value != "" {
			target += "=" + row.Match.Value
		}
	}
	var body []byte
	header := http.Header{}
	switch {
	case row.Match.Form != "":
		body = []byte("Action=" + row.Match.Form + "&Name=" + ownerTopic + "&TopicArn=" + snsTopicARN +
			"&AttributeName=push-endpoint&AttributeValue=http://127.0.0.1:1")
		header.Set("Content-Type", "application/x-www-form-urlencoded")
	case row.FormAuth:
		body, header = postForm(t)
	}
	if row.Match.Header != "" {
		header.Set(row.Match.Header, "/"+ownerBucket+"/"+ownerKey)
	}
	status, respBody := e.send(t, method, target, body, header, as)
	return status, errorCode(respBody), respBody
}

// rowPath is the path of a row's request: the owner's bucket, object,
// topic or subscription at the row's level and mount, or an admin path.
func rowPath(row optable.Row) string {
	m := row.Match
	switch {
	case m.Path != "":
		return m.Path
	case m.Mount != "" && m.Level == optable.LevelBucket:
		return "/" + m.Mount
	case m.Mount == "topics":
		return "/topics/" + ownerPSTopic
	case m.Mount == "subscriptions":
		return "/subscriptions/" + ownerSub
	case m.Mount == "notifications":
		return "/notifications/bucket/" + ownerBucket
	case m.Level == optable.LevelBucket:
		return "/" + ownerBucket
	case m.Level == optable.LevelObject:
		return "/" + ownerBucket + "/" + ownerKey
	}
	return "/"
}

// postForm is a browser upload form without a policy (so its caller is
// whoever signed the request, or anonymous).
func postForm(t *testing.T) ([]byte, http.Header) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if err := w.WriteField("key", "posted"); err != nil {
		t.Fatal(err)
	}
	f, err := w.CreateFormFile("file", "posted.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write([]byte("posted"))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("Content-Type", w.FormDataContentType())
	return buf.Bytes(), h
}

// send sends one request, SigV4-signed as the user (UNSIGNED-PAYLOAD) or
// unsigned, and returns its status and body.
func (e *tableEnv) send(t *testing.T, method, target string, body []byte, header http.Header, as *aws.Credentials) (int, []byte) {
	t.Helper()
	req := newRequest(t, method, e.url+target, bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	for k, v := range header {
		req.Header[k] = v
	}
	if as != nil {
		req.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")
		if err := v4.NewSigner().SignHTTP(req.Context(), *as, req, "UNSIGNED-PAYLOAD", "s3", "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// errorCode is the Code of an S3 XML or admin JSON error document.
func errorCode(body []byte) string {
	var x struct{ Code string }
	if xml.Unmarshal(body, &x) == nil && x.Code != "" {
		return x.Code
	}
	if json.Unmarshal(body, &x) == nil {
		return x.Code
	}
	return ""
}

// ok sends a request as the owner and fails the test unless it succeeds.
func (e *tableEnv) ok(t *testing.T, method, target string, body []byte) []byte {
	t.Helper()
	status, b := e.send(t, method, target, body, nil, &e.owner)
	if status/100 != 2 {
		t.Fatalf("%s %s as the owner: %d %s", method, target, status, b)
	}
	return b
}

// createUser creates a user with a key through the admin API.
func (e *tableEnv) createUser(t *testing.T, uid string) aws.Credentials {
	t.Helper()
	body := e.ok(t, "PUT", "/admin/user?format=json&uid="+uid+"&display-name="+uid, nil)
	var doc struct {
		Keys []struct {
			AccessKey string `json:"access_key"`
			SecretKey string `json:"secret_key"`
		} `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || len(doc.Keys) == 0 {
		t.Fatalf("create user %s: %s (%v)", uid, body, err)
	}
	return aws.Credentials{AccessKeyID: doc.Keys[0].AccessKey, SecretAccessKey: doc.Keys[0].SecretKey}
}

// ownerFixture creates the owner's private bucket, object, SNS topic,
// PubSub topic, subscription and bucket notification.
func (e *tableEnv) ownerFixture(t *testing.T) {
	t.Helper()
	e.ok(t, "PUT", "/"+ownerBucket, nil)
	e.ok(t, "PUT", "/"+ownerBucket+"/"+ownerKey, []byte(ownerPayload))
	status, b := e.send(t, "POST", "/", []byte("Action=CreateTopic&Name="+ownerTopic),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, &e.owner)
	if status != http.StatusOK {
		t.Fatalf("create SNS topic: %d %s", status, b)
	}
	e.ok(t, "PUT", "/topics/"+ownerPSTopic, nil)
	e.ok(t, "PUT", "/subscriptions/"+ownerSub+"?topic="+ownerPSTopic, nil)
	e.ok(t, "PUT", "/notifications/bucket/"+ownerBucket+"?topic="+ownerPSTopic, nil)
}

// ownerIntact checks that nothing the other callers sent changed the
// owner's resources.
func (e *tableEnv) ownerIntact(t *testing.T) {
	t.Helper()
	if got := e.ok(t, "GET", "/"+ownerBucket+"/"+ownerKey, nil); string(got) != ownerPayload {
		t.Errorf("owner's object now holds %q", got)
	}
	if acl := e.ok(t, "GET", "/"+ownerBucket+"?acl", nil); strings.Contains(string(acl), "AllUsers") {
		t.Errorf("owner's bucket ACL changed: %s", acl)
	}
	if list := e.ok(t, "GET", "/"+ownerBucket, nil); strings.Contains(string(list), "posted") {
		t.Errorf("an upload reached the owner's bucket: %s", list)
	}
	status, b := e.send(t, "POST", "/", []byte("Action=GetTopicAttributes&TopicArn="+snsTopicARN),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, &e.owner)
	if status != http.StatusOK || strings.Contains(string(b), "127.0.0.1:1") {
		t.Errorf("owner's SNS topic: %d %s", status, b)
	}
	e.ok(t, "GET", "/topics/"+ownerPSTopic, nil)
	e.ok(t, "GET", "/subscriptions/"+ownerSub, nil)
	if n := e.ok(t, "GET", "/notifications/bucket/"+ownerBucket, nil); !strings.Contains(string(n), ownerPSTopic) {
		t.Errorf("owner's PubSub notification is gone: %s", n)
	}
}

// servertestPubSub enables the PubSub API, so its mounted rows are served.
func servertestPubSub() server.PubSubConfig { return server.PubSubConfig{Enabled: true} }
