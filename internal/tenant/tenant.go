// Package tenant holds RGW's multi-tenancy naming rules in one place.
//
// A tenant is a namespace of users, buckets and topics. The empty tenant is
// the default, so data written before tenants existed keeps its names:
//
//	user id      "uid" (default tenant) or "tenant$uid"
//	bucket name  as stored: "bucket" (default tenant) or "tenant:bucket"
//	             (RGW's path-style spelling of another tenant's bucket)
//
// S3 bucket names never hold '$' or ':', and tenants hold only letters,
// digits and '_', so both spellings split without ambiguity.
package tenant

import (
	"errors"
	"fmt"
	"strings"
)

// MaxLen bounds a tenant name, so it fits in keys and ARNs comfortably.
const MaxLen = 64

// ErrInvalid is wrapped by Validate's errors.
var ErrInvalid = errors.New("invalid tenant name")

// Validate accepts "" (the default tenant) and names of letters, digits
// and '_' (RGW's rule) of at most MaxLen bytes.
func Validate(t string) error {
	if len(t) > MaxLen {
		return fmt.Errorf("%w: %q is longer than %d bytes", ErrInvalid, t, MaxLen)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return fmt.Errorf("%w: %q may hold only letters, digits and '_'", ErrInvalid, t)
		}
	}
	return nil
}

// SplitUser splits a user id into its tenant and uid ("tenant$uid", or a
// plain uid in the default tenant).
func SplitUser(userID string) (tenant, uid string) {
	if t, u, ok := strings.Cut(userID, "$"); ok {
		return t, u
	}
	return "", userID
}

// User joins a tenant and a uid into a user id.
func User(tenant, uid string) string {
	if tenant == "" {
		return uid
	}
	return tenant + "$" + uid
}

// OfUser is the tenant of a user id ("" for the default tenant and for
// anonymous requests).
func OfUser(userID string) string {
	t, _ := SplitUser(userID)
	return t
}

// SplitBucket splits a stored (qualified) bucket name into its tenant and
// its S3 name.
func SplitBucket(qualified string) (tenant, name string) {
	if t, n, ok := strings.Cut(qualified, ":"); ok {
		return t, n
	}
	return "", qualified
}

// Bucket joins a tenant and an S3 bucket name into the stored name.
func Bucket(tenant, name string) string {
	if tenant == "" {
		return name
	}
	return tenant + ":" + name
}

// BucketName is the S3 name of a stored bucket name, as responses and
// event records show it.
func BucketName(qualified string) string {
	_, n := SplitBucket(qualified)
	return n
}

// OfBucket is the tenant of a stored bucket name.
func OfBucket(qualified string) string {
	t, _ := SplitBucket(qualified)
	return t
}

// BucketARN is the bucket's ARN as RGW's policies and event records name
// it: arn:aws:s3:<region>:<tenant>:<bucket>.
func BucketARN(region, qualified string) string {
	t, n := SplitBucket(qualified)
	return "arn:aws:s3:" + region + ":" + t + ":" + n
}

// UserARN is the IAM ARN of a user id: arn:aws:iam::<tenant>:user/<uid>.
func UserARN(userID string) string {
	t, u := SplitUser(userID)
	return "arn:aws:iam::" + t + ":user/" + u
}
