package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

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
