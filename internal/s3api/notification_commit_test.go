package s3api

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// unusedPusher is the dispatcher's Pusher in tests that write no object.
type unusedPusher struct{}

func (unusedPusher) Push(context.Context, notify.Push) error {
	return errors.New("no push expected")
}

// stagingObserver stages one record per added notification, then fails
// for the notification failID: a failure after part of the derived state
// was written.
type stagingObserver struct{ failID string }

var errStaging = errors.New("injected staging failure")

func (o stagingObserver) StageS3Notifications(_ context.Context, b *store.Bucket, added []notify.Notification, removed []string, w *kv.Batch) error {
	for _, n := range added {
		w.Put([]byte("derived/"+b.Name+"/"+n.ID), []byte(n.TopicARN))
		if n.ID == o.failID {
			return errStaging
		}
	}
	for _, id := range removed {
		w.Delete([]byte("derived/" + b.Name + "/" + id))
	}
	return nil
}

// TestNotificationConfigAndDerivedRecordsOneCommit: a bucket's notification
// configuration and the records derived from it (pull subscriptions) are
// one commit: a failure while the derived records are staged leaves
// neither the configuration nor any derived record, and a success stores
// both.
func TestNotificationConfigAndDerivedRecordsOneCommit(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	kvs := ts.Store.(*local.Store).KV()
	topics := notify.NewTopics(kvs)
	if err := topics.Put(ctx, &notify.Topic{Owner: userRoot.ID, Name: "t1", Endpoint: "http://127.0.0.1:9/"}); err != nil {
		t.Fatal(err)
	}
	d, err := notify.NewDispatcher(notify.Config{Topics: topics, Pusher: unusedPusher{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	ts.API.EnableNotifications(d)
	ts.API.ObserveNotifications(stagingObserver{failID: "bad"})
	ts.CreateBucket(t, ts.Root, "notebucket")

	put := func(ids ...string) error {
		var conf []types.TopicConfiguration
		for _, id := range ids {
			conf = append(conf, types.TopicConfiguration{Id: aws.String(id), TopicArn: aws.String("arn:aws:sns:default::t1"),
				Events: []types.Event{"s3:ObjectCreated:*"}})
		}
		_, err := ts.Root.PutBucketNotificationConfiguration(ctx, &s3.PutBucketNotificationConfigurationInput{
			Bucket: aws.String("notebucket"), NotificationConfiguration: &types.NotificationConfiguration{TopicConfigurations: conf}})
		return err
	}
	stored := func() (ids []string, derived []string) {
		got, err := ts.Root.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String("notebucket")})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range got.TopicConfigurations {
			ids = append(ids, aws.ToString(c.Id))
		}
		for p, err := range kvs.Scan(ctx, []byte("derived/notebucket/"), nil) {
			if err != nil {
				t.Fatal(err)
			}
			derived = append(derived, string(p.Key))
		}
		return ids, derived
	}

	if err := put("good", "bad"); err == nil {
		t.Fatal("PUT ?notification succeeded although staging failed")
	}
	if ids, derived := stored(); len(ids) != 0 || len(derived) != 0 {
		t.Fatalf("after a failed PUT: configuration %v, derived records %v; want neither", ids, derived)
	}
	if err := put("good"); err != nil {
		t.Fatal(err)
	}
	if ids, derived := stored(); len(ids) != 1 || len(derived) != 1 || derived[0] != "derived/notebucket/good" {
		t.Fatalf("after PUT: configuration %v, derived records %v; want one of each", ids, derived)
	}
	if resp := ts.Do(t, userRoot, http.MethodDelete, "/notebucket?notification", nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE ?notification: %d", resp.StatusCode)
	}
	if ids, derived := stored(); len(ids) != 0 || len(derived) != 0 {
		t.Fatalf("after DELETE: configuration %v, derived records %v; want neither", ids, derived)
	}
}
