package lifecycle

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// TestApplySkipsWhatChangedSinceListing: a page's actions are decided
// while it is listed and applied at its end (seconds later when paced).
// What changed meanwhile stays: a current version overwritten by a newer
// PUT gets no delete marker over the new one, and an object whose tags
// changed (the rule's filter may no longer select it) is not removed, and
// a noncurrent version that is current again is not removed as noncurrent.
func TestApplySkipsWhatChangedSinceListing(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	for _, b := range []store.Bucket{{Name: "ver", Versioning: store.Enabled}, {Name: "plain"}} {
		b.Created = time.Now()
		if err := st.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	put := func(bucket, key, body string, tags map[string]string) store.ObjectInfo {
		oi, err := st.PutObject(ctx, bucket, key, strings.NewReader(body), store.PutOptions{Size: int64(len(body)), Meta: store.Metadata{Tags: tags}})
		if err != nil {
			t.Fatal(err)
		}
		return oi
	}
	w := New(st, st.KV(), Options{Day: time.Second})
	apply := func(bucket string, listed store.ObjectInfo) {
		t.Helper()
		b, err := st.GetBucket(ctx, bucket)
		if err != nil {
			t.Fatal(err)
		}
		var page batch
		page.add(listed, Decision{Action: ExpireCurrent, RuleID: "r"})
		if err := w.applyBatch(ctx, &b, &State{}, &page); err != nil {
			t.Fatal(err)
		}
	}

	old := put("ver", "k", "old", nil)
	old.IsLatest = true
	newer := put("ver", "k", "new", nil)
	apply("ver", old)
	res, err := st.ListObjectVersions(ctx, "ver", store.ListVersionsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Versions) != 2 || res.Versions[0].VersionID != newer.VersionID || !res.Versions[0].IsLatest {
		t.Errorf("versions %+v: the newer PUT %s must stay current, under no marker", res.Versions, newer.VersionID)
	}

	// A noncurrent version that became current again (the newer one was
	// deleted meanwhile) is no longer what NoncurrentVersionExpiration chose.
	first := put("ver", "n", "first", nil)
	second := put("ver", "n", "second", nil)
	first.IsLatest = false // as listed
	if _, err := st.DeleteObject(ctx, "ver", "n", store.DeleteOptions{VersionID: second.VersionID}); err != nil {
		t.Fatal(err)
	}
	b, err := st.GetBucket(ctx, "ver")
	if err != nil {
		t.Fatal(err)
	}
	page := batch{}
	page.add(first, Decision{Action: ExpireNoncurrent, RuleID: "r"})
	if err := w.applyBatch(ctx, &b, &State{}, &page); err != nil {
		t.Fatal(err)
	}
	if _, err := st.HeadObject(ctx, "ver", "n", store.GetOptions{}); err != nil {
		t.Errorf("a version current again was removed as noncurrent: %v", err)
	}

	tagged := put("plain", "t", "x", map[string]string{"tmp": "yes"})
	if _, err := st.UpdateObject(ctx, "plain", "t", "", func(oi *store.ObjectInfo) error {
		oi.Meta.Tags = map[string]string{"tmp": "no"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	apply("plain", tagged)
	if _, err := st.HeadObject(ctx, "plain", "t", store.GetOptions{}); err != nil {
		t.Errorf("retagged object removed: %v", err)
	}
}
