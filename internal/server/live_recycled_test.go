package server_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server"
)

// A live stream opened by a bucket's owner must not carry the events of a
// bucket of the same name another user creates after the owner deleted
// hers: the listener was authorized for her bucket, not for the name.
// Alice's stream outlives her bucket; Bob's writes and reads in his
// "recycled" come first, then Alice takes the name back and writes: her
// stream's next event must be her own.
func TestLiveStreamSkipsRecreatedBucketOfOtherOwner(t *testing.T) {
	us := startTenantUsers(t, server.NotificationConfig{}, "alice", "bob")
	alice, bob := us["alice"], us["bob"]
	ctx := context.Background()
	alice.mkbucket(t, "recycled")
	stream := alice.listen(t, "recycled", "s3:ObjectCreated:*", "s3:ObjectAccessed:*")
	deleteBucket := func(u *tenantUser, keys ...string) {
		t.Helper()
		for _, k := range keys {
			if _, err := u.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("recycled"), Key: aws.String(k)}); err != nil {
				t.Fatalf("%s: DeleteObject %s: %v", u.id, k, err)
			}
		}
		if _, err := u.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("recycled")}); err != nil {
			t.Fatalf("%s: DeleteBucket: %v", u.id, err)
		}
	}
	deleteBucket(alice)

	bob.mkbucket(t, "recycled")
	bob.put(t, "recycled", "bob-secret")
	out, err := bob.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("recycled"), Key: aws.String("bob-secret")})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	deleteBucket(bob, "bob-secret")

	alice.mkbucket(t, "recycled")
	alice.put(t, "recycled", "alice-key")
	if r := stream.next(t, "ObjectCreated:Put"); r.S3.Object.Key != "alice-key" {
		t.Fatalf("alice's stream got %s of %s/%s (owner %s), want her own put of alice-key",
			r.EventName, r.S3.Bucket.Name, r.S3.Object.Key, r.S3.Bucket.OwnerIdentity.PrincipalID)
	}
}
