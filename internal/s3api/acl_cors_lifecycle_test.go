package s3api

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestACLGrants sets explicit grants through documents and x-amz-grant-*
// headers and checks that they are listed and enforced.
func TestACLGrants(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "grants")
	ts.PutObject(t, ts.Root, "grants", "o", []byte("x"))
	owner := &types.Owner{ID: aws.String(userRoot.ID)}
	user := func(id string, p types.Permission) types.Grant {
		return types.Grant{Grantee: &types.Grantee{Type: types.TypeCanonicalUser, ID: aws.String(id)}, Permission: p}
	}

	// Alt may list but not read the private object, nor read the ACL.
	if _, err := ts.Root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("grants"), AccessControlPolicy: &types.AccessControlPolicy{
		Owner: owner, Grants: []types.Grant{user(userRoot.ID, types.PermissionFullControl), user(userAlt.ID, types.PermissionRead)},
	}}); err != nil {
		t.Fatal(err)
	}
	acl, err := ts.Root.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("grants")})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(grantsOf(acl.Grants), ","); got != "root:FULL_CONTROL,alt:READ" {
		t.Fatalf("grants = %s", got)
	}
	if aws.ToString(acl.Owner.DisplayName) != "root-name" || aws.ToString(acl.Grants[1].Grantee.DisplayName) != "alt-name" {
		t.Fatalf("display names: owner %q, grantee %q", aws.ToString(acl.Owner.DisplayName), aws.ToString(acl.Grants[1].Grantee.DisplayName))
	}
	if _, err := ts.Alt.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("grants")}); err != nil {
		t.Fatalf("alt lists: %v", err)
	}
	_, err = ts.Alt.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("grants"), Key: aws.String("o")})
	wantErr(t, err, "AccessDenied", 403)
	_, err = ts.Alt.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("grants")})
	wantErr(t, err, "AccessDenied", 403)
	_, err = ts.Alt.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("grants"), Key: aws.String("n"), Body: strings.NewReader("y")})
	wantErr(t, err, "AccessDenied", 403)

	// READ_ACP and WRITE through headers, with the email grantee resolved.
	resp := ts.Do(t, userRoot, http.MethodPut, "/grants?acl", nil, http.Header{
		"X-Amz-Grant-Read-Acp": {`emailAddress="` + altEmail + `"`},
		"X-Amz-Grant-Write":    {`id="` + userAlt.ID + `"`},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("put acl by headers: %d %s", resp.StatusCode, readAll(t, resp.Body))
	}
	acl, err = ts.Alt.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("grants")})
	if err != nil {
		t.Fatalf("alt reads ACL: %v", err)
	}
	if got := strings.Join(grantsOf(acl.Grants), ","); got != "alt:WRITE,alt:READ_ACP" || acl.Grants[0].Grantee.Type != types.TypeCanonicalUser {
		t.Fatalf("header grants = %s (%s)", got, acl.Grants[0].Grantee.Type)
	}
	if _, err := ts.Alt.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("grants"), Key: aws.String("n"), Body: strings.NewReader("y")}); err != nil {
		t.Fatalf("alt writes: %v", err)
	}
	_, err = ts.Alt.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("grants"), ACL: types.BucketCannedACLPublicRead})
	wantErr(t, err, "AccessDenied", 403)

	// Object grants: FULL_CONTROL for alt lets alt read and change the ACL.
	if _, err := ts.Root.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("grants"), Key: aws.String("o"), AccessControlPolicy: &types.AccessControlPolicy{
		Owner: owner, Grants: []types.Grant{user(userRoot.ID, types.PermissionFullControl), user(userAlt.ID, types.PermissionFullControl)},
	}}); err != nil {
		t.Fatal(err)
	}
	if out, err := ts.Alt.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("grants"), Key: aws.String("o")}); err != nil {
		t.Fatalf("alt reads granted object: %v", err)
	} else {
		readAll(t, out.Body)
	}
	if _, err := ts.Alt.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String("grants"), Key: aws.String("o"), ACL: types.ObjectCannedACLPrivate}); err != nil {
		t.Fatalf("alt changes object ACL: %v", err)
	}
	_, err = ts.Alt.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("grants"), Key: aws.String("o")})
	wantErr(t, err, "AccessDenied", 403)

	// Revoking everything leaves the owner able to restore the ACL.
	if _, err := ts.Root.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: aws.String("grants"), AccessControlPolicy: &types.AccessControlPolicy{Owner: owner}}); err != nil {
		t.Fatal(err)
	}
	if acl, err := ts.Root.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String("grants")}); err != nil || len(acl.Grants) != 0 {
		t.Fatalf("revoked: %+v, %v", acl, err)
	}

	t.Run("errors", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			header http.Header
			code   string
		}{
			{"unknown user", http.Header{"X-Amz-Grant-Read": {`id="nobody"`}}, "InvalidArgument"},
			{"unknown email", http.Header{"X-Amz-Grant-Read": {`emailAddress="x@example.com"`}}, "UnresolvableGrantByEmailAddress"},
			{"unknown group", http.Header{"X-Amz-Grant-Read": {`uri="http://example.com/g"`}}, "InvalidArgument"},
			{"canned and grants", http.Header{"X-Amz-Acl": {"private"}, "X-Amz-Grant-Read": {`id="alt"`}}, "InvalidRequest"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				resp := ts.Do(t, userRoot, http.MethodPut, "/grants?acl", nil, tt.header)
				if b := readAll(t, resp.Body); resp.StatusCode != 400 || xmlCode(b) != tt.code {
					t.Fatalf("got %d %s, want 400 %s", resp.StatusCode, b, tt.code)
				}
			})
		}
	})
}

// TestCreateBucketAgain checks RGW's answer to re-creating one's bucket.
func TestCreateBucketAgain(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	if _, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("again"), ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	ts.PutObject(t, ts.Root, "again", "k", []byte("v"))
	if _, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("again"), ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatalf("same ACL: %v", err)
	}
	_, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("again")})
	wantErr(t, err, "BucketAlreadyExists", 409)
	out, err := ts.Root.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("again")})
	if err != nil || len(out.Contents) != 1 {
		t.Fatalf("objects kept: %+v, %v", out, err)
	}
}

func TestBucketCORS(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	if _, err := ts.Root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("cors"), ACL: types.BucketCannedACLPublicRead}); err != nil {
		t.Fatal(err)
	}
	_, err := ts.Root.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("cors")})
	wantErr(t, err, "NoSuchCORSConfiguration", 404)
	options := func(path string, h http.Header) *http.Response {
		return ts.Do(t, testUser{}, http.MethodOptions, path, nil, h)
	}
	if resp := options("/cors/k", http.Header{"Origin": {"a.example"}, "Access-Control-Request-Method": {"GET"}}); resp.StatusCode != 403 {
		t.Fatalf("preflight without configuration: %d", resp.StatusCode)
	}

	if _, err := ts.Root.PutBucketCors(ctx, &s3.PutBucketCorsInput{Bucket: aws.String("cors"), CORSConfiguration: &types.CORSConfiguration{
		CORSRules: []types.CORSRule{
			{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"*.example"}, ExposeHeaders: []string{"x-amz-meta-a"}},
			{AllowedMethods: []string{"PUT"}, AllowedOrigins: []string{"https://up*"}, AllowedHeaders: []string{"x-amz-*"}},
		},
	}}); err != nil {
		t.Fatal(err)
	}
	got, err := ts.Root.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("cors")})
	if err != nil || len(got.CORSRules) != 2 || !slices.Equal(got.CORSRules[1].AllowedOrigins, []string{"https://up*"}) {
		t.Fatalf("GetBucketCors = %+v, %v", got, err)
	}
	_, err = ts.Alt.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("cors")})
	wantErr(t, err, "AccessDenied", 403)

	for _, tt := range []struct {
		name, method, path string
		header             http.Header
		status             int
		origin, methods    string
	}{
		{"preflight", http.MethodOptions, "/cors/k", http.Header{"Origin": {"a.example"}, "Access-Control-Request-Method": {"GET"}}, 200, "a.example", "GET"},
		{"preflight, presigned url", http.MethodOptions, "/cors/k?X-Amz-Signature=00&X-Amz-Credential=x", http.Header{"Origin": {"a.example"}, "Access-Control-Request-Method": {"GET"}}, 200, "a.example", "GET"},
		{"preflight, method not allowed", http.MethodOptions, "/cors/k", http.Header{"Origin": {"a.example"}, "Access-Control-Request-Method": {"PUT"}}, 403, "", ""},
		{"preflight, origin not allowed", http.MethodOptions, "/cors/k", http.Header{"Origin": {"example"}, "Access-Control-Request-Method": {"GET"}}, 403, "", ""},
		{"preflight, header allowed", http.MethodOptions, "/cors/k", http.Header{"Origin": {"https://upload"}, "Access-Control-Request-Method": {"PUT"}, "Access-Control-Request-Headers": {"x-amz-meta-b"}}, 200, "https://upload", "PUT"},
		{"preflight, header not allowed", http.MethodOptions, "/cors/k", http.Header{"Origin": {"a.example"}, "Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {"x-amz-meta-b"}}, 403, "", ""},
		{"preflight without origin", http.MethodOptions, "/cors", nil, 400, "", ""},
		{"preflight without method", http.MethodOptions, "/cors", http.Header{"Origin": {"a.example"}}, 400, "", ""},
		{"get with origin", http.MethodGet, "/cors", http.Header{"Origin": {"a.example"}}, 200, "a.example", "GET"},
		{"get with other origin", http.MethodGet, "/cors", http.Header{"Origin": {"b.other"}}, 200, "", ""},
		{"error answers carry the headers", http.MethodGet, "/cors/missing", http.Header{"Origin": {"a.example"}}, 404, "a.example", "GET"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := ts.Do(t, testUser{}, tt.method, tt.path, nil, tt.header)
			if resp.StatusCode != tt.status || resp.Header.Get("Access-Control-Allow-Origin") != tt.origin || resp.Header.Get("Access-Control-Allow-Methods") != tt.methods {
				t.Fatalf("got %d origin %q methods %q; want %d %q %q", resp.StatusCode,
					resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Methods"), tt.status, tt.origin, tt.methods)
			}
		})
	}

	bad := `<CORSConfiguration><CORSRule><AllowedMethod>PATCH</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>`
	if resp := ts.Do(t, userRoot, http.MethodPut, "/cors?cors", []byte(bad), nil); resp.StatusCode != 400 {
		t.Fatalf("bad method: %d", resp.StatusCode)
	}
	if _, err := ts.Root.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String("cors")}); err != nil {
		t.Fatal(err)
	}
	_, err = ts.Root.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String("cors")})
	wantErr(t, err, "NoSuchCORSConfiguration", 404)
}

func TestBucketLifecycle(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "lcb")
	_, err := ts.Root.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("lcb")})
	wantErr(t, err, "NoSuchLifecycleConfiguration", 404)

	rules := []types.LifecycleRule{
		{ID: aws.String("r1"), Filter: &types.LifecycleRuleFilter{Prefix: aws.String("a/")}, Status: types.ExpirationStatusEnabled, Expiration: &types.LifecycleExpiration{Days: aws.Int32(3)}},
		{Filter: &types.LifecycleRuleFilter{}, Status: types.ExpirationStatusDisabled, NoncurrentVersionExpiration: &types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(2)}},
	}
	if _, err := ts.Root.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("lcb"),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: rules}}); err != nil {
		t.Fatal(err)
	}
	got, err := ts.Root.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("lcb")})
	if err != nil || len(got.Rules) != 2 {
		t.Fatalf("get: %+v, %v", got, err)
	}
	if r := got.Rules[0]; aws.ToString(r.ID) != "r1" || aws.ToInt32(r.Expiration.Days) != 3 || aws.ToString(r.Filter.Prefix) != "a/" {
		t.Fatalf("rule 1 = %+v", r)
	}
	if r := got.Rules[1]; aws.ToString(r.ID) == "" || r.Status != types.ExpirationStatusDisabled || aws.ToInt32(r.NoncurrentVersionExpiration.NoncurrentDays) != 2 {
		t.Fatalf("rule 2 = %+v", r)
	}

	rule := func(id, status, exp string) string {
		return `<Rule><ID>` + id + `</ID><Prefix>p</Prefix><Status>` + status + `</Status><Expiration>` + exp + `</Expiration></Rule>`
	}
	for _, tt := range []struct{ name, body, code string }{
		{"id too long", rule(strings.Repeat("a", 256), "Enabled", "<Days>1</Days>"), "InvalidArgument"},
		{"same id", rule("x", "Enabled", "<Days>1</Days>") + rule("x", "Enabled", "<Days>2</Days>"), "InvalidArgument"},
		{"bad status", rule("x", "enabled", "<Days>1</Days>"), "MalformedXML"},
		{"bad date", rule("x", "Enabled", "<Date>20200101</Date>"), "InvalidArgument"},
		{"no rules", "", "MalformedXML"},
		{"days zero", rule("x", "Enabled", "<Days>0</Days>"), "InvalidArgument"},
		// A rule must say what it selects: a misspelled element must not
		// make it a rule of the whole bucket.
		{"neither prefix nor filter", `<Rule><ID>x</ID><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`, "MalformedXML"},
		{"prefix and filter", `<Rule><ID>x</ID><Prefix>a</Prefix><Filter><Prefix>b</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`, "MalformedXML"},
		{"unknown filter element", `<Rule><ID>x</ID><Filter><Prefx>logs/</Prefx></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`, "MalformedXML"},
		{"unknown and element", `<Rule><ID>x</ID><Filter><And><Prefx>logs/</Prefx><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`, "MalformedXML"},
		{"two conditions without and", `<Rule><ID>x</ID><Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>`, "MalformedXML"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := ts.Do(t, userRoot, http.MethodPut, "/lcb?lifecycle", []byte("<LifecycleConfiguration>"+tt.body+"</LifecycleConfiguration>"), nil)
			if b := readAll(t, resp.Body); resp.StatusCode != 400 || xmlCode(b) != tt.code {
				t.Fatalf("got %d %s, want 400 %s", resp.StatusCode, b, tt.code)
			}
		})
	}
	// The refused configurations changed nothing.
	if got, err := ts.Root.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("lcb")}); err != nil || len(got.Rules) != 2 {
		t.Fatalf("after refused puts: %+v, %v", got, err)
	}
	if _, err := ts.Root.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String("lcb")}); err != nil {
		t.Fatal(err)
	}
	_, err = ts.Root.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("lcb")})
	wantErr(t, err, "NoSuchLifecycleConfiguration", 404)
}

// TestObjectGrantHeaders sets an object's ACL with x-amz-grant-* on PUT.
func TestObjectGrantHeaders(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "ogh")
	resp := ts.Do(t, userRoot, http.MethodPut, "/ogh/k", []byte("v"), http.Header{"X-Amz-Grant-Read": {`id="` + userAlt.ID + `"`}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("put with grant: %d %s", resp.StatusCode, readAll(t, resp.Body))
	}
	if out, err := ts.Alt.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("ogh"), Key: aws.String("k")}); err != nil {
		t.Fatalf("alt reads: %v", err)
	} else {
		readAll(t, out.Body)
	}
	_, err := ts.Alt.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String("ogh"), Key: aws.String("k")})
	wantErr(t, err, "AccessDenied", 403)
	resp = ts.Do(t, userRoot, http.MethodPut, "/ogh/k2", []byte("v"), http.Header{"X-Amz-Grant-Read": {`id="nobody"`}})
	if b := readAll(t, resp.Body); resp.StatusCode != 400 || xmlCode(b) != "InvalidArgument" {
		t.Fatalf("grant to unknown user: %d %s", resp.StatusCode, b)
	}
}
