package psapi_test

// PubSub per tenant (issue 11, item 3; pubsub.md §2 "Namespace"): users of
// two tenants with the same uid, and the default tenant's user of that
// uid, with topics, subscriptions and notifications of the same names.
// TestTenantPubSubEvents needs core (the same bucket name in two tenants).

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/server"
)

// startTenants starts a gateway with the users ids (uid or tenant$uid).
func startTenants(t *testing.T, ids ...string) (*gateway, map[string]*user) {
	g := start(t, server.PubSubConfig{}, "")
	root := g.as(g.srv.RootAccessKey, g.srv.RootSecretKey)
	users := map[string]*user{}
	for _, id := range ids {
		key := strings.ToUpper(strings.ReplaceAll(id, "$", "")) + "KEY"
		secret := strings.ReplaceAll(id, "$", "-") + "-secret"
		q := url.Values{"format": {"json"}, "uid": {id}, "display-name": {id}, "access-key": {key}, "secret-key": {secret}}
		root.ok("PUT", "/admin/user?"+q.Encode(), nil)
		users[id] = g.as(key, secret)
	}
	return g, users
}

// TestTenantTopicsAndSubscriptions: each tenant's alice has her own topic
// "t" (its ARN names her tenant) and subscription "s"; listing shows only
// one's own; deleting the other tenant's names touches only one's own.
func TestTenantTopicsAndSubscriptions(t *testing.T) {
	_, us := startTenants(t, "t1$alice", "t2$alice", "alice")
	want := map[string]struct{ tenant, arn string }{
		"t1$alice": {"t1", "arn:aws:sns:default:t1:t"},
		"t2$alice": {"t2", "arn:aws:sns:default:t2:t"},
		"alice":    {"", "arn:aws:sns:default::t"},
	}
	for id, u := range us {
		var created struct{ ARN string }
		u.ok("PUT", "/topics/t?OpaqueData="+url.QueryEscape(id), &created)
		if created.ARN != want[id].arn {
			t.Fatalf("%s creates topic t: ARN %s, want %s", id, created.ARN, want[id].arn)
		}
		u.ok("PUT", "/subscriptions/s?topic=t", nil)
	}
	for id, u := range us {
		var list struct {
			Topics []struct {
				Topic struct{ User, Name, ARN, OpaqueData string }
				Subs  []string
			}
		}
		u.ok("GET", "/topics", &list)
		if len(list.Topics) != 1 || list.Topics[0].Topic.ARN != want[id].arn || list.Topics[0].Topic.User != id ||
			list.Topics[0].Topic.OpaqueData != id || strings.Join(list.Topics[0].Subs, ",") != "s" {
			t.Errorf("%s lists %+v", id, list)
		}
		var sub struct {
			User, Name, Topic string
			Dest              struct {
				BucketName string `json:"bucket_name"`
			}
		}
		u.ok("GET", "/subscriptions/s", &sub)
		if sub.User != want[id].tenant || sub.Topic != "t" || sub.Dest.BucketName != "pubsub-"+id+"-t" {
			t.Errorf("%s reads subscription s: %+v", id, sub)
		}
	}
	t1, t2 := us["t1$alice"], us["t2$alice"]
	t2.ok("DELETE", "/subscriptions/s", nil)
	t2.ok("DELETE", "/topics/t", nil)
	t2.fails("GET", "/subscriptions/s", http.StatusNotFound, "NoSuchKey")
	t2.fails("GET", "/topics/t", http.StatusNotFound, "NoSuchKey")
	t1.ok("GET", "/subscriptions/s", nil)
	var topic struct{ Topic struct{ User, ARN string } }
	t1.ok("GET", "/topics/t", &topic)
	if topic.Topic.User != "t1$alice" || topic.Topic.ARN != want["t1$alice"].arn {
		t.Fatalf("t1's topic after t2's deletes: %+v", topic)
	}
	// t2 cannot subscribe to t1's topic: topics are per tenant.
	t2.fails("PUT", "/subscriptions/s2?topic=t", http.StatusBadRequest, "InvalidArgument")
}

// s3record is what the test reads of a PubSub-mode S3 record.
type s3record struct {
	EventName string
	S3        struct {
		Bucket struct {
			Name          string
			Arn           string
			OwnerIdentity struct{ PrincipalID string }
		}
		Object struct{ Key string }
	}
}

// TestTenantPubSubEvents (needs core): t1's and t2's alice each bind their
// bucket "bkt" to their topic "t" with subscription "s", and an S3
// notification "n1" (which creates subscription "n1"); each pulls only her
// own tenant's events, with the bucket's tenant in the event, and an ack
// of the other tenant's event id removes nothing of hers.
func TestTenantPubSubEvents(t *testing.T) {
	_, us := startTenants(t, "t1$alice", "t2$alice")
	for id, u := range us {
		u.bind("bkt", "t")
		u.ok("PUT", "/subscriptions/s?topic=t", nil)
		tenant, _, _ := strings.Cut(id, "$")
		if _, err := u.s3().PutBucketNotificationConfiguration(t.Context(), &s3.PutBucketNotificationConfigurationInput{
			Bucket: aws.String("bkt"), NotificationConfiguration: &s3types.NotificationConfiguration{TopicConfigurations: []s3types.TopicConfiguration{{
				Id: aws.String("n1"), TopicArn: aws.String("arn:aws:sns:default:" + tenant + ":t"), Events: []s3types.Event{"s3:ObjectCreated:*"},
			}}},
		}); err != nil {
			t.Fatalf("%s: PutBucketNotification: %v", id, err)
		}
	}
	t1, t2 := us["t1$alice"], us["t2$alice"]
	t1.put("bkt", "k1")
	t2.put("bkt", "k2")
	for id, key := range map[string]string{"t1$alice": "k1", "t2$alice": "k2"} {
		u := us[id]
		tenant, _, _ := strings.Cut(id, "$")
		evs := events(t, u.pull("s", ""))
		if len(evs) != 1 || evs[0].Event != "OBJECT_CREATE" || evs[0].Info.Key.Name != key || evs[0].Info.Bucket.Name != "bkt" ||
			evs[0].Info.Bucket.Tenant != tenant {
			t.Errorf("%s pulls s: %+v", id, evs)
		}
		p := u.pull("n1", "")
		if len(p.Records) != 1 {
			t.Fatalf("%s pulls n1: %+v", id, p)
		}
		var r s3record
		if err := json.Unmarshal(p.Records[0], &r); err != nil {
			t.Fatal(err)
		}
		if r.S3.Object.Key != key || r.S3.Bucket.Name != "bkt" || r.S3.Bucket.Arn != "arn:aws:s3::"+tenant+":bkt" ||
			r.S3.Bucket.OwnerIdentity.PrincipalID != id {
			t.Errorf("%s pulls n1: %+v", id, r)
		}
	}
	id := events(t, t1.pull("s", ""))[0].ID
	t2.ok("POST", "/subscriptions/s?ack&event-id="+id, nil)
	if len(t1.pull("s", "").Events) != 1 {
		t.Fatal("t2's ack removed t1's event")
	}
	// The other tenant's bucket, named explicitly, is not one's own.
	t2.fails("GET", "/notifications/bucket/t1:bkt", http.StatusForbidden, "AccessDenied")
	t2.fails("PUT", "/notifications/bucket/t1:bkt?topic=t", http.StatusForbidden, "AccessDenied")
	t2.fails("GET", "/notifications/bucket/t-1:bkt", http.StatusBadRequest, "InvalidBucketName")
	t2.fails("GET", "/notifications/bucket/t1:", http.StatusBadRequest, "InvalidBucketName")
	// ":bkt" is the default tenant's bucket, which does not exist.
	t2.fails("GET", "/notifications/bucket/:bkt", http.StatusNotFound, "NoSuchBucket")
}
