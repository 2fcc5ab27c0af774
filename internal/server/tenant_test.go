package server_test

// Tenants (issue 11): two tenants t1 and t2, each with a user "alice", and
// the same bucket names in both: the real server on loopback, users made
// through the admin API, aws-sdk-go-v2 path-style clients (a bucket named
// "t2:bkt" reaches tenant t2's b), raw signed requests and boto3.

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// tenantDomain is the virtual-hosted domain of the tenant tests' server.
const tenantDomain = "s3.tenant.test"

// tenantEnv is a server with the users of the tenant tests.
type tenantEnv struct {
	srv *servertest.Running
	// users by "tenant$uid": t1$alice, t2$alice, t2$bob and the default
	// tenant's alice.
	users map[string]*tenantUser
	anon  *s3.Client
}

// startTenants starts a server and creates t1$alice, t2$alice, t2$bob and
// the default tenant's alice, each with an email address of its own.
func startTenants(t *testing.T) *tenantEnv {
	t.Helper()
	srv := servertest.Start(t, servertest.Options{Domain: tenantDomain})
	e := &tenantEnv{srv: srv, users: map[string]*tenantUser{}}
	for _, u := range []struct{ tenant, uid string }{{"t1", "alice"}, {"t2", "alice"}, {"t2", "bob"}, {"", "alice"}} {
		e.addUser(t, u.tenant, u.uid)
	}
	e.anon = tenantClient(srv, aws.AnonymousCredentials{})
	return e
}

// addUser creates the user uid of tenant through the admin API.
func (e *tenantEnv) addUser(t *testing.T, tenant, uid string) *tenantUser {
	t.Helper()
	id := uid
	if tenant != "" {
		id = tenant + "$" + uid
	}
	key := strings.ToUpper(tenant+uid) + "KEY"
	secret := tenant + uid + "-secret"
	q := url.Values{"format": {"json"}, "uid": {uid}, "display-name": {id}, "access-key": {key},
		"secret-key": {secret}, "email": {tenant + uid + "@example.com"}}
	if tenant != "" {
		q.Set("tenant", tenant)
	}
	if resp, body := send(t, rootCreds(e.srv), newRequest(t, "PUT", e.srv.URL+"/admin/user?"+q.Encode(), nil)); resp.StatusCode != http.StatusOK {
		t.Fatalf("create user %s: %d %s", id, resp.StatusCode, body)
	}
	u := &tenantUser{id: id, creds: aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, srv: e.srv,
		s3: tenantClient(e.srv, credentials.NewStaticCredentialsProvider(key, secret, ""))}
	e.users[id] = u
	return u
}

func tenantClient(srv *servertest.Running, cp aws.CredentialsProvider) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: cp, RetryMaxAttempts: 1})
}

// getBody reads an object, returning its body or the error.
func getBody(c *s3.Client, bucket, key string) (string, error) {
	out, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return "", err
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	return string(b), err
}

func putBody(c *s3.Client, bucket, key, body string) error {
	_, err := c.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader(body)})
	return err
}

// wantCode fails unless err is an S3 error with the code.
func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: success, want %s", what, code)
	}
	if got := apiCode(err); got != code {
		t.Fatalf("%s: %v, want %s", what, err, code)
	}
}

func ok(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func setPolicy(t *testing.T, u *tenantUser, bucket, doc string) {
	t.Helper()
	_, err := u.s3.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc)})
	ok(t, u.id+": PutBucketPolicy "+bucket, err)
}

// TestTenantsSameBucketNames: both alices create the same bucket names;
// each sees only their own objects, listings, uploads and buckets, and
// responses show the S3 name.
func TestTenantsSameBucketNames(t *testing.T) {
	e := startTenants(t)
	ctx := context.Background()
	a1, a2, a0 := e.users["t1$alice"], e.users["t2$alice"], e.users["alice"]
	for _, u := range []*tenantUser{a1, a2, a0} {
		u.mkbucket(t, "shared")
		ok(t, u.id+": put", putBody(u.s3, "shared", "k", "from "+u.id))
	}
	a1.mkbucket(t, "only-t1")
	_, err := a2.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("shared")})
	if err != nil { // RGW: re-creating one's own bucket answers 200
		t.Fatalf("t2$alice re-creates her shared: %v", err)
	}

	for _, u := range []*tenantUser{a1, a2, a0} {
		got, err := getBody(u.s3, "shared", "k")
		ok(t, u.id+": get", err)
		if got != "from "+u.id {
			t.Errorf("%s reads %q from her shared/k", u.id, got)
		}
		out, err := u.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
		ok(t, u.id+": ListBuckets", err)
		var names []string
		for _, b := range out.Buckets {
			names = append(names, aws.ToString(b.Name))
		}
		want := "shared"
		if u == a1 {
			want = "only-t1 shared"
		}
		if strings.Join(names, " ") != want {
			t.Errorf("%s: ListBuckets = %v, want %s", u.id, names, want)
		}
	}
	_, err = a2.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("only-t1")})
	if err == nil || errStatusOf(err) != http.StatusNotFound {
		t.Errorf("t2$alice HeadBucket only-t1 (t1's): %v, want 404", err)
	}

	// Listings name the bucket by its S3 name, not "t1:shared".
	v1, err := a1.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("shared")})
	ok(t, "ListObjects", err)
	v2, err := a1.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("shared")})
	ok(t, "ListObjectsV2", err)
	vs, err := a1.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String("shared")})
	ok(t, "ListObjectVersions", err)
	for what, name := range map[string]*string{"ListObjects": v1.Name, "ListObjectsV2": v2.Name, "ListObjectVersions": vs.Name} {
		if aws.ToString(name) != "shared" {
			t.Errorf("%s Name = %q, want shared", what, aws.ToString(name))
		}
	}
	if len(v2.Contents) != 1 || aws.ToString(v2.Contents[0].Key) != "k" {
		t.Errorf("t1$alice lists %v", v2.Contents)
	}

	// Deleting t1's bucket leaves t2's of the same name.
	ok(t, "delete only-t1", deleteBucket(a1.s3, "only-t1"))
	if _, err := getBody(a2.s3, "shared", "k"); err != nil {
		t.Errorf("t2$alice's shared after t1 deleted a bucket: %v", err)
	}
}

// TestTenantsMultipart: uploads live in their tenant's bucket, and the
// documents show the S3 name.
func TestTenantsMultipart(t *testing.T) {
	e := startTenants(t)
	ctx := context.Background()
	a1, a2 := e.users["t1$alice"], e.users["t2$alice"]
	a1.mkbucket(t, "shared")
	a2.mkbucket(t, "shared")
	up, err := a1.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("shared"), Key: aws.String("mp")})
	ok(t, "CreateMultipartUpload", err)
	if aws.ToString(up.Bucket) != "shared" {
		t.Errorf("Initiate Bucket = %q", aws.ToString(up.Bucket))
	}
	for u, want := range map[*tenantUser]int{a1: 1, a2: 0} {
		lu, err := u.s3.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String("shared")})
		ok(t, u.id+": ListMultipartUploads", err)
		if len(lu.Uploads) != want || aws.ToString(lu.Bucket) != "shared" {
			t.Errorf("%s: ListMultipartUploads = %d uploads in %q, want %d in shared", u.id, len(lu.Uploads), aws.ToString(lu.Bucket), want)
		}
	}
	_, err = a2.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("shared"), Key: aws.String("mp"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	wantCode(t, "t2$alice uploads a part to t1's upload through her own shared", err, "NoSuchUpload")
	_, err = a2.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("t1:shared"), Key: aws.String("mp"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("x")})
	wantCode(t, "t2$alice uploads a part to t1:shared", err, "AccessDenied")
	part, err := a1.s3.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("shared"), Key: aws.String("mp"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
	ok(t, "UploadPart", err)
	parts, err := a1.s3.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("shared"), Key: aws.String("mp"), UploadId: up.UploadId})
	ok(t, "ListParts", err)
	if aws.ToString(parts.Bucket) != "shared" {
		t.Errorf("ListParts Bucket = %q", aws.ToString(parts.Bucket))
	}
	done, err := a1.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("shared"), Key: aws.String("mp"),
		UploadId: up.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}})
	ok(t, "CompleteMultipartUpload", err)
	if aws.ToString(done.Bucket) != "shared" || !strings.HasSuffix(aws.ToString(done.Location), "/shared/mp") {
		t.Errorf("Complete Bucket = %q, Location = %q", aws.ToString(done.Bucket), aws.ToString(done.Location))
	}
	if _, err := getBody(a2.s3, "shared", "mp"); apiCode(err) != "NoSuchKey" {
		t.Errorf("t2$alice reads mp from her shared: %v, want NoSuchKey", err)
	}

}

func deleteBucket(c *s3.Client, name string) error {
	_, err := c.DeleteBucket(context.Background(), &s3.DeleteBucketInput{Bucket: aws.String(name)})
	return err
}

func errStatusOf(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// apiCode is the S3 error code of an SDK error ("" if none).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// TestTenantsExplicitNames: "t2:b" and ":b" name another tenant's bucket;
// without a policy or ACL that is AccessDenied; a bucket cannot be created
// in another tenant; errors show the S3 name; bad tenants are
// InvalidBucketName.
func TestTenantsExplicitNames(t *testing.T) {
	e := startTenants(t)
	ctx := context.Background()
	a1, a2, a0 := e.users["t1$alice"], e.users["t2$alice"], e.users["alice"]
	a1.mkbucket(t, "bkt")
	ok(t, "put", putBody(a1.s3, "bkt", "k", "t1 data"))

	// Explicit own tenant works like the plain name.
	got, err := getBody(a1.s3, "t1:bkt", "k")
	if err != nil || got != "t1 data" {
		t.Fatalf("t1$alice GET t1:bkt/k = %q, %v", got, err)
	}
	for _, u := range []*tenantUser{a2, a0} {
		_, err := getBody(u.s3, "t1:bkt", "k")
		wantCode(t, u.id+" GET t1:bkt/k", err, "AccessDenied")
		_, err = u.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("t1:bkt")})
		wantCode(t, u.id+" lists t1:bkt", err, "AccessDenied")
		wantCode(t, u.id+" PUT t1:bkt/x", putBody(u.s3, "t1:bkt", "x", "y"), "AccessDenied")
		wantCode(t, u.id+" GET bkt/k (own tenant, no such bucket)", func() error { _, err := getBody(u.s3, "bkt", "k"); return err }(), "NoSuchBucket")
	}

	// CreateBucket in another tenant, or in the default one, is refused.
	for _, name := range []string{"t2:newb", ":newb"} {
		_, err := a1.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
		wantCode(t, "t1$alice creates "+name, err, "AccessDenied")
	}
	_, err = a0.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("t1:newb")})
	wantCode(t, "default alice creates t1:newb", err, "AccessDenied")
	_, err = a1.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("t1:mine")})
	ok(t, "t1$alice creates t1:mine", err)
	if _, err := a1.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("mine")}); err != nil {
		t.Errorf("t1:mine is not t1's mine: %v", err)
	}

	// Errors name the bucket as S3 does; bad tenant names are refused.
	resp, body := send(t, a1.creds, newRequest(t, "GET", e.srv.URL+"/t1:nosuch/x", nil))
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "<BucketName>nosuch</BucketName>") {
		t.Errorf("GET t1:nosuch/x: %d %s", resp.StatusCode, body)
	}
	for _, path := range []string{"/t-1:bkt/k", "/t1:/k", "/t1:bkt:c/k"} {
		resp, body := send(t, a1.creds, newRequest(t, "GET", e.srv.URL+path, nil))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<Code>InvalidBucketName</Code>") {
			t.Errorf("GET %s: %d %s, want 400 InvalidBucketName", path, resp.StatusCode, body)
		}
	}
}

// TestTenantsPolicyCrossAccess: another tenant's user reaches "t1:bkt" only
// through an explicit policy naming them (arn:aws:iam::t2:user/alice);
// a principal of the default tenant with the same uid is someone else; a
// policy cannot name another tenant's resources.
func TestTenantsPolicyCrossAccess(t *testing.T) {
	e := startTenants(t)
	ctx := context.Background()
	a1, a2, b2, a0 := e.users["t1$alice"], e.users["t2$alice"], e.users["t2$bob"], e.users["alice"]
	a1.mkbucket(t, "bkt")
	a2.mkbucket(t, "bkt")
	ok(t, "put t1", putBody(a1.s3, "bkt", "k", "t1 data"))
	ok(t, "put t2", putBody(a2.s3, "bkt", "k", "t2 data"))

	policy := func(principal string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},` +
			`"Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::bkt","arn:aws:s3:::bkt/*"]}]}`
	}
	// The default tenant's alice is not t2's.
	setPolicy(t, a1, "bkt", policy("arn:aws:iam:::user/alice"))
	if _, err := getBody(a2.s3, "t1:bkt", "k"); apiCode(err) != "AccessDenied" {
		t.Errorf("t2$alice under a policy for the default tenant's alice: %v", err)
	}
	if got, err := getBody(a0.s3, "t1:bkt", "k"); err != nil || got != "t1 data" {
		t.Errorf("default alice under her policy: %q %v", got, err)
	}

	setPolicy(t, a1, "bkt", policy("arn:aws:iam::t2:user/alice"))
	if got, err := getBody(a2.s3, "t1:bkt", "k"); err != nil || got != "t1 data" {
		t.Fatalf("t2$alice GET t1:bkt/k under the policy = %q, %v", got, err)
	}
	out, err := a2.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("t1:bkt")})
	if err != nil || aws.ToString(out.Name) != "bkt" || len(out.Contents) != 1 {
		t.Errorf("t2$alice lists t1:b: %v %v", out, err)
	}
	if got, _ := getBody(a2.s3, "bkt", "k"); got != "t2 data" {
		t.Errorf("t2$alice's plain b/k = %q, want her own", got)
	}
	wantCode(t, "t2$alice PUT t1:b (policy grants reads only)", putBody(a2.s3, "t1:bkt", "x", "y"), "AccessDenied")
	for _, u := range []*tenantUser{b2, a0} {
		_, err := getBody(u.s3, "t1:bkt", "k")
		wantCode(t, u.id+" GET t1:bkt/k (not in the policy)", err, "AccessDenied")
	}
	// The policy on t1's b says nothing about t2's b.
	_, err = getBody(a1.s3, "t2:bkt", "k")
	wantCode(t, "t1$alice GET t2:bkt/k", err, "AccessDenied")

	// A policy of t1's bucket cannot name a resource of t2.
	_, err = a1.s3.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("bkt"), Policy: aws.String(
		`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3::t2:bkt/*"}]}`)})
	wantCode(t, "policy naming t2's resource", err, "MalformedPolicy")
	setPolicy(t, a1, "bkt", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3::t1:bkt/*"}]}`)
	if _, err := getBody(b2.s3, "t1:bkt", "k"); err != nil {
		t.Errorf("t2$bob under a public policy naming t1 explicitly: %v", err)
	}
}

// TestTenantsCopySource: CopyObject and UploadPartCopy sources resolve like
// paths ("t1:bkt/k" explicit, "bkt/k" in the caller's tenant), and reading
// another tenant's source needs its policy.
func TestTenantsCopySource(t *testing.T) {
	e := startTenants(t)
	ctx := context.Background()
	a1, a2, b2 := e.users["t1$alice"], e.users["t2$alice"], e.users["t2$bob"]
	a1.mkbucket(t, "bkt")
	a2.mkbucket(t, "bkt")
	ok(t, "put t1", putBody(a1.s3, "bkt", "k", "t1 data"))
	ok(t, "put t2", putBody(a2.s3, "bkt", "k", "t2 data"))
	_, err := a2.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("copied"), CopySource: aws.String("t1:bkt/k")})
	wantCode(t, "t2$alice copies t1:bkt/k without a policy", err, "AccessDenied")
	setPolicy(t, a1, "bkt", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::t2:user/alice"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}]}`)
	_, err = a2.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("copied"), CopySource: aws.String("t1:bkt/k")})
	ok(t, "t2$alice copies t1:bkt/k", err)
	if got, _ := getBody(a2.s3, "bkt", "copied"); got != "t1 data" {
		t.Errorf("copy of t1:bkt/k = %q", got)
	}
	_, err = a2.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("own"), CopySource: aws.String("bkt/k")})
	ok(t, "t2$alice copies b/k", err)
	if got, _ := getBody(a2.s3, "bkt", "own"); got != "t2 data" {
		t.Errorf("copy of b/k = %q, want her own", got)
	}
	_, err = b2.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("t2:bkt"), Key: aws.String("x"), CopySource: aws.String("t1:bkt/k")})
	wantCode(t, "t2$bob copies from t1:bkt", err, "AccessDenied")
	up, err := a2.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("mp")})
	ok(t, "CreateMultipartUpload", err)
	_, err = a2.s3.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("bkt"), Key: aws.String("mp"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), CopySource: aws.String("t1:bkt/k")})
	ok(t, "UploadPartCopy from t1:bkt/k", err)

}

// TestTenantsDefaultTenantAndAnonymous: ":b" is the default tenant's b for
// a tenanted user; an anonymous request reaches "t1:bkt" only when public,
// and a plain name is the default tenant's.
func TestTenantsDefaultTenantAndAnonymous(t *testing.T) {
	e := startTenants(t)
	ctx := context.Background()
	a1, a0 := e.users["t1$alice"], e.users["alice"]
	a0.mkbucket(t, "pub")
	ok(t, "put", putBody(a0.s3, "pub", "k", "default data"))
	a1.mkbucket(t, "pub")
	ok(t, "put", putBody(a1.s3, "pub", "k", "t1 data"))

	_, err := a1.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(":pub")})
	wantCode(t, "t1$alice lists :pub without a policy", err, "AccessDenied")
	setPolicy(t, a0, "pub", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::pub"}]}`)
	out, err := a1.s3.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String(":pub")})
	if err != nil || aws.ToString(out.Name) != "pub" || len(out.Contents) != 1 {
		t.Fatalf("t1$alice lists :pub under a public policy: %v %v", out, err)
	}
	// The default tenant's policy says nothing about t1's pub.
	_, err = e.anon.ListObjects(ctx, &s3.ListObjectsInput{Bucket: aws.String("t1:pub")})
	wantCode(t, "anonymous lists t1:pub", err, "AccessDenied")

	// Anonymous: t1:pub/k private, then public-read.
	_, err = getBody(e.anon, "t1:pub", "k")
	wantCode(t, "anonymous GET private t1:pub/k", err, "AccessDenied")
	_, err = a1.s3.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("pub"), Key: aws.String("k"), ACL: s3types.ObjectCannedACLPublicRead})
	ok(t, "PutObjectAcl public-read", err)
	if got, err := getBody(e.anon, "t1:pub", "k"); err != nil || got != "t1 data" {
		t.Errorf("anonymous GET public t1:pub/k = %q %v", got, err)
	}
	if _, err := getBody(e.anon, "pub", "k"); apiCode(err) != "AccessDenied" {
		t.Errorf("anonymous GET pub/k (the default tenant's, private): %v", err)
	}
	wantCode(t, "anonymous PUT t1:pub/x", putBody(e.anon, "t1:pub", "x", "y"), "AccessDenied")
}

// TestTenantsACLGrants: ACL grants by canonical id "t2$alice" and by email
// (emails are global) admit exactly that user of that tenant.
func TestTenantsACLGrants(t *testing.T) {
	e := startTenants(t)
	ctx := context.Background()
	a1, a2, b2, a0 := e.users["t1$alice"], e.users["t2$alice"], e.users["t2$bob"], e.users["alice"]
	a1.mkbucket(t, "bkt")
	ok(t, "put", putBody(a1.s3, "bkt", "byid", "by id"))
	ok(t, "put", putBody(a1.s3, "bkt", "bymail", "by mail"))
	_, err := a1.s3.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("bkt"), Key: aws.String("byid"), GrantRead: aws.String(`id="t2$alice"`)})
	ok(t, "grant by id", err)
	_, err = a1.s3.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("bkt"), Key: aws.String("bymail"),
		GrantRead: aws.String(`emailAddress="t2alice@example.com"`)})
	ok(t, "grant by email", err)
	acl, err := a1.s3.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("bkt"), Key: aws.String("bymail")})
	ok(t, "GetObjectAcl", err)
	found := false
	for _, g := range acl.Grants {
		if g.Grantee != nil && aws.ToString(g.Grantee.ID) == "t2$alice" {
			found = true
		}
	}
	if !found {
		t.Errorf("the email grant does not name t2$alice: %+v", acl.Grants)
	}
	for _, key := range []string{"byid", "bymail"} {
		if _, err := getBody(a2.s3, "t1:bkt", key); err != nil {
			t.Errorf("t2$alice GET t1:bkt/%s granted to her: %v", key, err)
		}
		for _, u := range []*tenantUser{b2, a0} {
			_, err := getBody(u.s3, "t1:bkt", key)
			wantCode(t, u.id+" GET t1:bkt/"+key, err, "AccessDenied")
		}
	}

	// A bucket grant lets t2$alice list t1's bucket.
	_, err = a1.s3.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("bkt"), GrantRead: aws.String(`id="t2$alice"`)})
	ok(t, "bucket grant", err)
	if _, err := a2.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("t1:bkt")}); err != nil {
		t.Errorf("t2$alice lists t1:b with a READ grant: %v", err)
	}
	_, err = a0.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("t1:bkt")})
	wantCode(t, "default alice lists t1:bkt", err, "AccessDenied")
}

// TestTenantsVirtualHosted: a virtual-hosted bucket is the caller's
// tenant's.
func TestTenantsVirtualHosted(t *testing.T) {
	e := startTenants(t)
	a1, a2 := e.users["t1$alice"], e.users["t2$alice"]
	for _, u := range []*tenantUser{a1, a2} {
		u.mkbucket(t, "vbk")
		ok(t, "put", putBody(u.s3, "vbk", "k", u.id))
	}
	for _, u := range []*tenantUser{a1, a2} {
		req := newRequest(t, "GET", e.srv.URL+"/k", nil)
		req.Host = "vbk." + tenantDomain
		resp, body := send(t, u.creds, req)
		if resp.StatusCode != http.StatusOK || string(body) != u.id {
			t.Errorf("%s GET vb.%s/k: %d %q", u.id, tenantDomain, resp.StatusCode, body)
		}
		req = newRequest(t, "GET", e.srv.URL+"/?list-type=2", nil)
		req.Host = "vbk." + tenantDomain
		resp, body = send(t, u.creds, req)
		var res struct {
			Name string `xml:"Name"`
		}
		if resp.StatusCode != http.StatusOK || xml.Unmarshal(body, &res) != nil || res.Name != "vbk" {
			t.Errorf("%s lists vb virtual-hosted: %d %s", u.id, resp.StatusCode, body)
		}
	}
}

// tenantBoto3Script is s3-tests' way to reach another tenant's bucket with
// boto3: a "tenant:bucket" name, with the client's bucket name check
// turned off.
const tenantBoto3Script = `
import sys, boto3
from botocore.handlers import validate_bucket_name
endpoint, ak, sk, bucket = sys.argv[1:5]
s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id=ak, aws_secret_access_key=sk, region_name="us-east-1")
s3.meta.events.unregister("before-parameter-build.s3", validate_bucket_name)
names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
assert names == ["own"], names
keys = [o["Key"] for o in s3.list_objects(Bucket=bucket)["Contents"]]
assert keys == ["k"], keys
assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"t1 data"
print("ALL OK")
`

// TestTenantsBoto3 reaches t1's bucket from t2 and from the default tenant
// with boto3, under a public read policy.
func TestTenantsBoto3(t *testing.T) {
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil || exec.Command(py, "-c", "import boto3").Run() != nil {
		if required() {
			t.Fatal("python3-boto3 is missing")
		}
		t.Skip("python3-boto3 is missing (apt-get install python3-boto3)")
	}
	e := startTenants(t)
	a1 := e.users["t1$alice"]
	a1.mkbucket(t, "bkt")
	ok(t, "put", putBody(a1.s3, "bkt", "k", "t1 data"))
	setPolicy(t, a1, "bkt", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:ListBucket","s3:GetObject"],"Resource":["arn:aws:s3:::bkt","arn:aws:s3:::bkt/*"]}]}`)
	for _, id := range []string{"t2$alice", "alice"} {
		u := e.users[id]
		u.mkbucket(t, "own")
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		out, err := exec.CommandContext(ctx, py, "-c", tenantBoto3Script, e.srv.URL, u.creds.AccessKeyID, u.creds.SecretAccessKey, "t1:bkt").CombinedOutput()
		cancel()
		if err != nil || !bytes.Contains(out, []byte("ALL OK")) {
			t.Errorf("boto3 as %s: %v\n%s", id, err, out)
		}
	}
}

// TestTenantsPresignedPreflight: the CORS preflight of a presigned URL of a
// tenant's bucket (which a browser sends with the URL's credential but no
// valid signature) answers from that tenant's bucket, as in RGW.
func TestTenantsPresignedPreflight(t *testing.T) {
	e := startTenants(t)
	ctx := context.Background()
	a1, a0 := e.users["t1$alice"], e.users["alice"]
	a1.mkbucket(t, "cors")
	ok(t, "put", putBody(a1.s3, "cors", "k", "x"))
	_, err := a1.s3.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("cors"), CORSConfiguration: &s3types.CORSConfiguration{
		CORSRules: []s3types.CORSRule{{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"example"}}}}})
	ok(t, "PutBucketCors", err)
	a0.mkbucket(t, "cors") // the default tenant's, without CORS
	for _, tc := range []struct {
		u    *tenantUser
		want int
	}{{a1, http.StatusOK}, {a0, http.StatusForbidden}} {
		p, err := s3.NewPresignClient(tc.u.s3).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cors"), Key: aws.String("k")})
		ok(t, "presign", err)
		req := newRequest(t, "OPTIONS", p.URL, nil)
		req.Header.Set("Origin", "example")
		req.Header.Set("Access-Control-Request-Method", "GET")
		resp, err := http.DefaultClient.Do(req)
		ok(t, "OPTIONS", err)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: preflight of a presigned URL of cors: %d, want %d", tc.u.id, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusOK && resp.Header.Get("Access-Control-Allow-Origin") != "example" {
			t.Errorf("%s: Access-Control-Allow-Origin = %q", tc.u.id, resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	// Without a credential only the explicit form names t1's bucket.
	req := newRequest(t, "OPTIONS", e.srv.URL+"/t1:cors/k", nil)
	req.Header.Set("Origin", "example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	resp, err := http.DefaultClient.Do(req)
	ok(t, "OPTIONS t1:cors", err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("preflight of t1:cors/k: %d", resp.StatusCode)
	}
}
