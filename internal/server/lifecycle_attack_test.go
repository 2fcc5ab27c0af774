package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// TestLifecycleFarDaysKeep: a rule of very many days (S3 takes any
// positive int) keeps the object: its deadline is far in the future, not
// wrapped into the past by a Duration overflow (beyond ~106,000 days it
// used to expire everything at the next pass).
func TestLifecycleFarDaysKeep(t *testing.T) {
	g := startLCGateway(t, servertest.Options{Lifecycle: lcNever})
	b := newName("lc-far")
	g.mkBucket(t, b, false)
	g.putLifecycle(t, b, expireRule("far", "far/", 200000), expireRule("max", "max/", 2147483647))
	for _, k := range []string{"far/a", "max/a"} {
		g.put(t, b, k, "keep me", "")
		head, err := g.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		exp := aws.ToString(head.Expiration)
		date, _, _ := strings.Cut(strings.TrimPrefix(exp, `expiry-date="`), `"`)
		at, err := http.ParseTime(date)
		if err != nil || !at.After(time.Now().AddDate(500, 0, 0)) {
			t.Errorf("%s: x-amz-expiration %q, want a date centuries ahead", k, exp)
		}
	}
	lcProcess(t, g.srv, b)
	for _, k := range []string{"far/a", "max/a"} {
		if !g.exists(t, b, k) {
			t.Errorf("%s was removed by a rule of centuries", k)
		}
	}
}

// TestLifecycleExpirationHeaderEscapesRuleID: the rule id in
// x-amz-expiration is URL-encoded, as S3 documents, so an id holding
// quotes or commas cannot break the header's key="value" pairs.
func TestLifecycleExpirationHeaderEscapesRuleID(t *testing.T) {
	g := startLCGateway(t, servertest.Options{Lifecycle: lcNever})
	b := newName("lc-ruleid")
	g.mkBucket(t, b, false)
	g.putLifecycle(t, b, expireRule(`x", rule-id="evil /é`, "", 7))
	put := g.put(t, b, "k", "x", "")
	_, id, _ := strings.Cut(aws.ToString(put.Expiration), `", rule-id=`)
	if want := `"x%22%2C%20rule-id%3D%22evil%20%2F%C3%A9"`; id != want {
		t.Errorf("x-amz-expiration rule-id = %s, want %s", id, want)
	}
}

// TestLifecycleBucketDefaultRetention: a version protected only by the
// bucket's default retention (no lock headers on its PUT), COMPLIANCE or
// GOVERNANCE, is never removed, even once noncurrent and due.
func TestLifecycleBucketDefaultRetention(t *testing.T) {
	g := startLCGateway(t, servertest.Options{})
	ctx := context.Background()
	for _, mode := range []s3types.ObjectLockRetentionMode{s3types.ObjectLockRetentionModeCompliance, s3types.ObjectLockRetentionModeGovernance} {
		b := newName("lc-defret")
		if _, err := g.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b), ObjectLockEnabledForBucket: aws.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		if _, err := g.s3.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: aws.String(b),
			ObjectLockConfiguration: &s3types.ObjectLockConfiguration{ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
				Rule: &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{Mode: mode, Days: aws.Int32(1)}}}}); err != nil {
			t.Fatal(err)
		}
		old := g.put(t, b, "k", "old", "")
		g.put(t, b, "k", "new", "")
		g.putLifecycle(t, b, s3types.LifecycleRule{ID: aws.String("nc"), Status: s3types.ExpirationStatusEnabled, Filter: prefixFilter(""),
			NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)}})
		// A bucket without lock, same rule, written after: once its
		// noncurrent version is gone, the rule is due for b's too (a debug
		// day lasts 1s, the retention a real day).
		ctl := newName("lc-defret-ctl")
		g.mkBucket(t, ctl, true)
		g.put(t, ctl, "k", "old", "")
		g.put(t, ctl, "k", "new", "")
		g.putLifecycle(t, ctl, s3types.LifecycleRule{ID: aws.String("nc"), Status: s3types.ExpirationStatusEnabled, Filter: prefixFilter(""),
			NoncurrentVersionExpiration: &s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(1)}})
		lcWaitFor(t, "the control's noncurrent version removed", func() bool { return len(g.versions(t, ctl, "")) == 1 })
		lcProcess(t, g.srv, b)
		if _, err := g.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: old.VersionId}); err != nil {
			t.Errorf("%s: the noncurrent version under default retention was removed: %v", mode, err)
		}
	}
}
