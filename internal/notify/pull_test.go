package notify

import (
	"context"
	"slices"
	"testing"

	"github.com/cairn-s3/cairn/internal/notify/notifytest"
	"github.com/cairn-s3/cairn/internal/store"
)

type nopPusher struct{}

func (nopPusher) Push(context.Context, Push) error { return nil }

func TestPullMatches(t *testing.T) {
	d, err := NewDispatcher(Config{Topics: NewTopics(notifytest.NewMemKV()), Pusher: nopPusher{}})
	if err != nil {
		t.Fatal(err)
	}
	prefix, regex := "in/", `.*\.txt` // RGW regexes match the whole key
	conf := Configuration{Notifications: []Notification{
		{ID: "put-only", TopicARN: "arn:aws:sns:default::t", Events: []string{"s3:ObjectCreated:Put"}},
		{ID: "filtered", TopicARN: "arn:aws:sns:default::t", Events: []string{"s3:ObjectRemoved:*"},
			Filter: Filter{Key: KeyFilter{Prefix: &prefix, Regex: &regex}, Metadata: []Rule{{Name: "x-amz-meta-color", Value: "red"}}}},
	}}
	raw, err := conf.Encode()
	if err != nil {
		t.Fatal(err)
	}
	b := &store.Bucket{Name: "b", Config: map[string][]byte{ConfigKey: raw}}
	for _, tc := range []struct {
		ev   EventType
		key  string
		want []string
	}{
		{ObjectCreatedCompleteMultipartUpload, "any", []string{"put-only"}}, // any creation subtype
		{ObjectRemovedDelete, "in/a.txt", []string{"filtered"}},             // metadata filter ignored
		{ObjectRemovedDelete, "in/a.bin", nil},                              // regex holds
		{ObjectRemovedDelete, "out/a.txt", nil},                             // prefix holds
	} {
		got, err := d.PullMatches(b, tc.ev, tc.key)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%v %q: %v %v, want %v", tc.ev, tc.key, got, err, tc.want)
		}
	}
}
