package s3api

import (
	"errors"
	"testing"

	"github.com/cairn-s3/cairn/internal/s3err"
)

func TestQualifyBucket(t *testing.T) {
	for _, tt := range []struct {
		segment, caller string
		virtual         bool
		want            string // "" with bad: InvalidBucketName
		bad             bool
	}{
		{"b", "", false, "b", false},
		{"b", "t1", false, "t1:b", false},
		{"t2:b", "t1", false, "t2:b", false},
		{":b", "t1", false, "b", false},
		{"t1:b", "", false, "t1:b", false},
		{"b", "t1", true, "t1:b", false},
		{"t2:b", "t1", true, "", true},
		{"t-2:b", "t1", false, "", true},
		{"t2:", "t1", false, "", true},
		{"t2:b:c", "t1", false, "", true},
		{"", "t1", false, "", false},
	} {
		got, err := QualifyBucket(tt.segment, tt.caller, tt.virtual)
		if tt.bad != (err != nil) || got != tt.want || err != nil && !errors.Is(err, s3err.InvalidBucketName) {
			t.Errorf("QualifyBucket(%q, %q, %v) = %q, %v", tt.segment, tt.caller, tt.virtual, got, err)
		}
	}
}

func TestCopySourceInTenant(t *testing.T) {
	for _, tt := range []struct{ src, caller, policy, want string }{
		{"b/k", "t2", "t2", "b/k"},
		{"t2:b/k", "t2", "t2", "b/k"},
		{"t2:b/k", "t1", "t2", "b/k"},
		{"b/k", "t1", "t2", "t1:b/k"},
		{":b/k", "t1", "", "b/k"},
		{"b/k", "", "t1", ":b/k"},
		{"b/k?versionId=v", "t2", "t2", "b/k?versionId=v"},
		{"t2:b:c/k", "t2", "t2", "t2:b:c/k"},
		{"nokey", "t2", "t2", "nokey"},
	} {
		if got := copySourceInTenant(tt.src, tt.caller, tt.policy); got != tt.want {
			t.Errorf("copySourceInTenant(%q, %q, %q) = %q, want %q", tt.src, tt.caller, tt.policy, got, tt.want)
		}
	}
}
