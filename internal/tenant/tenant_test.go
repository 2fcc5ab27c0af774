package tenant_test

import (
	"errors"
	"testing"

	"github.com/cairn-s3/cairn/internal/tenant"
)

func TestValidate(t *testing.T) {
	for _, ok := range []string{"", "t1", "Tenant_2", "a"} {
		if err := tenant.Validate(ok); err != nil {
			t.Errorf("Validate(%q) = %v", ok, err)
		}
	}
	long := make([]byte, tenant.MaxLen+1)
	for i := range long {
		long[i] = 'a'
	}
	for _, bad := range []string{"a$b", "a:b", "a/b", "a b", "t-1", "ü", string(long)} {
		if err := tenant.Validate(bad); !errors.Is(err, tenant.ErrInvalid) {
			t.Errorf("Validate(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestNamesRoundTrip(t *testing.T) {
	cases := []struct{ tenant, name, user, bucket string }{
		{"", "alice", "alice", "alice"},
		{"t1", "alice", "t1$alice", "t1:alice"},
	}
	for _, c := range cases {
		if got := tenant.User(c.tenant, c.name); got != c.user {
			t.Errorf("User = %q, want %q", got, c.user)
		}
		if tt, u := tenant.SplitUser(c.user); tt != c.tenant || u != c.name {
			t.Errorf("SplitUser(%q) = %q, %q", c.user, tt, u)
		}
		if got := tenant.Bucket(c.tenant, c.name); got != c.bucket {
			t.Errorf("Bucket = %q, want %q", got, c.bucket)
		}
		if tt, n := tenant.SplitBucket(c.bucket); tt != c.tenant || n != c.name {
			t.Errorf("SplitBucket(%q) = %q, %q", c.bucket, tt, n)
		}
	}
	if got := tenant.BucketARN("", "t1:b"); got != "arn:aws:s3::t1:b" {
		t.Errorf("BucketARN = %q", got)
	}
	if got := tenant.UserARN("t1$u"); got != "arn:aws:iam::t1:user/u" {
		t.Errorf("UserARN = %q", got)
	}
	if got := tenant.UserARN("u"); got != "arn:aws:iam:::user/u" {
		t.Errorf("UserARN = %q", got)
	}
}
