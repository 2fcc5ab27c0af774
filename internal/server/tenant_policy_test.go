package server_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestTenantsCopySourceCondition: the s3:x-amz-copy-source condition key
// names the source as the policy's bucket sees it (a plain bucket of its
// own tenant, "tenant:bucket" otherwise), however the request spelled it:
// "t2:secret/k" or ":secret/k" is not a way around a Deny written for
// "secret/*", and another tenant's bucket of the same name does not match.
func TestTenantsCopySourceCondition(t *testing.T) {
	e := startTenants(t)
	ctx := context.Background()
	a2, b2, a1, a0 := e.users["t2$alice"], e.users["t2$bob"], e.users["t1$alice"], e.users["alice"]
	policy := func(reader, secretCondition string) string {
		return `{"Statement":[` +
			`{"Effect":"Allow","Principal":{"AWS":"` + reader + `"},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::*"},` +
			`{"Effect":"Deny","Principal":{"AWS":"` + reader + `"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::dest/*",` +
			`"Condition":{"StringLike":{"s3:x-amz-copy-source":"` + secretCondition + `"}}}]}`
	}
	for _, u := range []*tenantUser{a2, a1, a0} {
		u.mkbucket(t, "secret")
		ok(t, u.id+": put", putBody(u.s3, "secret", "k", "secret of "+u.id))
	}
	a2.mkbucket(t, "dest")
	setPolicy(t, a2, "secret", policy("arn:aws:iam::t2:user/bob", "secret/*"))
	setPolicy(t, a2, "dest", policy("arn:aws:iam::t2:user/bob", "secret/*"))
	copyAs := func(u *tenantUser, dest, src string) error {
		_, err := u.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(dest), Key: aws.String("copy"), CopySource: aws.String(src)})
		return err
	}
	for _, src := range []string{"secret/k", "/secret/k", "t2:secret/k", "/t2:secret/k", "t2%3Asecret/k"} {
		wantCode(t, "t2$bob copies "+src+" into dest (denied for secret/*)", copyAs(b2, "dest", src), "AccessDenied")
	}
	// t1's secret is not t2's: the Deny does not name it (and t1's own
	// policy decides whether bob reads it).
	setPolicy(t, a1, "secret", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::t2:user/bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::secret/*"}]}`)
	ok(t, "t2$bob copies t1:secret/k into dest", copyAs(b2, "dest", "t1:secret/k"))

	// The default tenant: ":secret/k" is its "secret/k".
	a0.mkbucket(t, "dest")
	setPolicy(t, a0, "secret", policy("arn:aws:iam::t2:user/bob", "secret/*"))
	setPolicy(t, a0, "dest", policy("arn:aws:iam::t2:user/bob", "secret/*"))
	for _, src := range []string{":secret/k", "/:secret/k"} {
		wantCode(t, "t2$bob copies "+src+" into :dest", copyAs(b2, ":dest", src), "AccessDenied")
	}
	// A Deny naming another tenant's bucket explicitly matches it only.
	setPolicy(t, a0, "dest", policy("arn:aws:iam::t2:user/bob", "t2:secret/*"))
	wantCode(t, "t2$bob copies his own tenant's secret into :dest", copyAs(b2, ":dest", "secret/k"), "AccessDenied")
	ok(t, "t2$bob copies :secret/k into :dest", copyAs(b2, ":dest", ":secret/k"))
}

// TestTenantsRootPrincipalIsTheTenant: as in RGW, the principal
// arn:aws:iam::t1:root is tenant t1, every user of it and nobody else;
// Cairn once also read it as "the default tenant's user whose uid is t1",
// so a grant meant for tenant t1 also granted that unrelated user.
func TestTenantsRootPrincipalIsTheTenant(t *testing.T) {
	e := startTenants(t)
	a2, a1 := e.users["t2$alice"], e.users["t1$alice"]
	imposter := e.addUser(t, "", "t1")
	a2.mkbucket(t, "bkt")
	ok(t, "put", putBody(a2.s3, "bkt", "k", "t2 data"))
	setPolicy(t, a2, "bkt", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::t1:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/*"}]}`)
	if _, err := getBody(a1.s3, "t2:bkt", "k"); err != nil {
		t.Errorf("t1$alice under a grant to tenant t1: %v", err)
	}
	_, err := getBody(imposter.s3, "t2:bkt", "k")
	wantCode(t, "the default tenant's user t1 under a grant to tenant t1", err, "AccessDenied")
}
