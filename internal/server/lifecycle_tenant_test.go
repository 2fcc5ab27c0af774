package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestLifecycleTenants: two tenants' buckets of one name are apart: the
// rules of t1's bucket remove its objects only, lc process names the bucket
// with its tenant, and lc list reports the S3 name and the tenant.
func TestLifecycleTenants(t *testing.T) {
	e := startTenants(t)
	a1, a2 := e.users["t1$alice"], e.users["t2$alice"]
	ctx := context.Background()
	for _, u := range []*tenantUser{a1, a2} {
		if _, err := u.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("logs")}); err != nil {
			t.Fatal(err)
		}
		if err := putBody(u.s3, "logs", "old", "x"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a1.s3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: aws.String("logs"),
		LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: []s3types.LifecycleRule{{
			ID: aws.String("past"), Status: s3types.ExpirationStatusEnabled, Filter: prefixFilter(""),
			Expiration: &s3types.LifecycleExpiration{Date: aws.Time(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))}}}}}); err != nil {
		t.Fatal(err)
	}
	resp, body := send(t, rootCreds(e.srv), newRequest(t, http.MethodPost, e.srv.URL+"/admin/lc?process&bucket=logs&tenant=t1", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("lc process: %d %s", resp.StatusCode, body)
	}
	if _, err := getBody(a1.s3, "logs", "old"); err == nil {
		t.Error("t1's expired object is still there")
	}
	if got, err := getBody(a2.s3, "logs", "old"); err != nil || got != "x" {
		t.Errorf("t2's object (no rules): %q, %v", got, err)
	}
	st := lcList(t, e.srv)["logs"]
	if st.Tenant != "t1" || st.TotalRemoved != 1 {
		t.Errorf("lc list: %+v, want t1's logs with 1 removed", st)
	}
}
