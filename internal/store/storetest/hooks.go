package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
)

// RunHooks checks the ChangeHook contract: open must return a fresh backend
// that calls hook inside every object change's commit, and the kv.Store
// through which the records the hook writes can be read.
func RunHooks(t *testing.T, open func(t *testing.T, hook store.ChangeHook) (store.Backend, kv.Store)) {
	tests := []struct {
		name string
		fn   func(h *hookEnv)
	}{
		{"Kinds", testHookKinds},
		{"RecordsCommitted", testHookRecords},
		{"NoChangeNoCall", testHookNoChange},
		{"FailedWriteNoRecord", testHookFailedWrite},
		{"HookErrorAbortsChange", testHookError},
		{"AfterCommit", testHookAfterCommit},
		{"RequestContext", testHookContext},
		{"SequencePerObject", testHookSequence},
		{"DeleteObjectsChangePerKey", testHookDeleteObjects},
		{"BucketRecords", testBucketRecords},
		{"TransitionAndAbort", testHookTransitionAbort},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &hookEnv{}
			b, kvs := open(t, h.hook)
			h.env = newEnv(t, b)
			h.kv = kvs
			tc.fn(h)
		})
	}
}

// hookEnv records the changes a backend reports and writes one record per
// change, "events/<seq>", as a notification subsystem would.
type hookEnv struct {
	*env
	kv kv.Store

	mu      sync.Mutex
	changes []store.Change
	fail    func(store.Change) error // if set and non-nil, the hook fails
	after   func(store.Change)       // if set, registered with AfterCommit
	ctxSeen []context.Context
	aborts  int // AfterAbort callbacks run
}

func recordKey(seq uint64) []byte { return fmt.Appendf(nil, "events/%020d", seq) }

func recordValue(c store.Change) []byte {
	return fmt.Appendf(nil, "%s %s/%s %s", c.Kind, c.Object.Bucket, c.Object.Key, c.Object.VersionID)
}

func (h *hookEnv) hook(ctx context.Context, c store.Change, w store.RecordWriter) error {
	h.mu.Lock()
	fail, after := h.fail, h.after
	h.ctxSeen = append(h.ctxSeen, ctx)
	h.mu.Unlock()
	w.AfterAbort(func() {
		h.mu.Lock()
		h.aborts++
		h.mu.Unlock()
	})
	// Write first, so that a failing hook shows its writes are dropped.
	if err := w.Put(recordKey(c.Sequence), recordValue(c)); err != nil {
		return err
	}
	if fail != nil {
		if err := fail(c); err != nil {
			return err
		}
	}
	if after != nil {
		w.AfterCommit(func() { after(c) })
	}
	h.mu.Lock()
	h.changes = append(h.changes, c)
	h.mu.Unlock()
	return nil
}

// take returns and forgets the changes recorded so far.
func (h *hookEnv) take() []store.Change {
	h.mu.Lock()
	defer h.mu.Unlock()
	cs := h.changes
	h.changes = nil
	return cs
}

// records returns every committed hook record.
func (h *hookEnv) records() map[string]string {
	h.t.Helper()
	out := map[string]string{}
	for p, err := range h.kv.Scan(h.ctx, []byte("events/"), nil) {
		if err != nil {
			h.t.Fatalf("Scan: %v", err)
		}
		out[string(p.Key)] = string(p.Value)
	}
	return out
}

func (h *hookEnv) expectOne(kind store.ChangeKind, key, versionID string) store.Change {
	h.t.Helper()
	cs := h.take()
	if len(cs) != 1 {
		h.t.Fatalf("changes = %+v, want one %s of %s", cs, kind, key)
	}
	c := cs[0]
	if c.Kind != kind || c.Object.Key != key || c.Object.Bucket != "b" || c.Object.VersionID != versionID || c.Time.IsZero() {
		h.t.Errorf("change = %s %s@%q (%+v), want %s %s@%q", c.Kind, c.Object.Key, c.Object.VersionID, c, kind, key, versionID)
	}
	if got, err := h.kv.Get(h.ctx, recordKey(c.Sequence)); err != nil || !bytes.Equal(got, recordValue(c)) {
		h.t.Errorf("record of %s: %q, %v", kind, got, err)
	}
	if b, err := h.b.GetBucket(h.ctx, "b"); err != nil || c.Bucket.Name != "b" || c.Bucket.Versioning != b.Versioning || c.Bucket.Owner != b.Owner {
		h.t.Errorf("change of %s carries bucket %+v, want the bucket's record %+v (%v)", kind, c.Bucket, b, err)
	}
	return c
}

func testHookKinds(h *hookEnv) {
	h.mkbucket("b", store.Enabled)
	v1 := h.put("b", "k", []byte("one"))
	c := h.expectOne(store.ChangePut, "k", v1.VersionID)
	if c.Object.ETag != v1.ETag || c.Object.Size != 3 || !c.Object.IsLatest {
		h.t.Errorf("put change object = %+v", c.Object)
	}
	cp, err := h.b.CopyObject(h.ctx, store.CopySource{Bucket: "b", Key: "k"}, "b", "copy", store.CopyOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	h.expectOne(store.ChangeCopy, "copy", cp.VersionID)
	up := h.create("b", "mp", store.PutOptions{})
	p := h.part(up, 1, []byte("part"))
	if cs := h.take(); len(cs) != 0 {
		h.t.Errorf("upload steps reported changes: %+v", cs)
	}
	mp, err := h.complete(up, p)
	if err != nil {
		h.t.Fatal(err)
	}
	c = h.expectOne(store.ChangeCompleteMultipart, "mp", mp.VersionID)
	if c.Object.ETag != mp.ETag {
		h.t.Errorf("complete change object = %+v", c.Object)
	}
	dm := h.del("b", "k", "")
	c = h.expectOne(store.ChangeDeleteMarkerCreated, "k", dm.VersionID)
	if c.Hidden == nil || c.Hidden.VersionID != v1.VersionID || c.Hidden.Size != 3 || c.Hidden.ETag != v1.ETag {
		h.t.Errorf("delete marker change hides %+v, want version %s (size 3, ETag %s)", c.Hidden, v1.VersionID, v1.ETag)
	}
	// A marker over a marker hides the marker.
	dm2 := h.del("b", "k", "")
	c = h.expectOne(store.ChangeDeleteMarkerCreated, "k", dm2.VersionID)
	if c.Hidden == nil || !c.Hidden.DeleteMarker || c.Hidden.VersionID != dm.VersionID || c.Hidden.Size != 0 {
		h.t.Errorf("second delete marker change hides %+v, want marker %s", c.Hidden, dm.VersionID)
	}
	h.del("b", "k", dm2.VersionID)
	h.expectOne(store.ChangeDelete, "k", dm2.VersionID)
	// A marker on a key without versions hides nothing.
	none := h.del("b", "never-written", "")
	if c = h.expectOne(store.ChangeDeleteMarkerCreated, "never-written", none.VersionID); c.Hidden != nil {
		h.t.Errorf("delete marker on a missing key hides %+v", c.Hidden)
	}
	h.del("b", "k", v1.VersionID)
	c = h.expectOne(store.ChangeDelete, "k", v1.VersionID)
	if c.Object.DeleteMarker || c.Object.ETag != v1.ETag {
		h.t.Errorf("delete change object = %+v", c.Object)
	}
	h.del("b", "k", dm.VersionID)
	if c = h.expectOne(store.ChangeDelete, "k", dm.VersionID); !c.Object.DeleteMarker {
		h.t.Errorf("removing a delete marker: change object %+v", c.Object)
	}
	// Unversioned delete.
	h.mkbucket("u", store.Unversioned)
	h.put("u", "k", []byte("x"))
	h.take()
	if _, err := h.b.DeleteObject(h.ctx, "u", "k", store.DeleteOptions{}); err != nil {
		h.t.Fatal(err)
	}
	if cs := h.take(); len(cs) != 1 || cs[0].Kind != store.ChangeDelete || cs[0].Object.Bucket != "u" {
		h.t.Errorf("unversioned delete changes = %+v", cs)
	}
}

func testHookRecords(h *hookEnv) {
	h.mkbucket("b", store.Unversioned)
	for i := 0; i < 5; i++ {
		h.put("b", fmt.Sprint(i), data(i*40000, uint64(i)))
	}
	cs := h.take()
	recs := h.records()
	if len(recs) != 5 || len(cs) != 5 {
		h.t.Fatalf("%d records, %d changes; want 5", len(recs), len(cs))
	}
	for _, c := range cs {
		if recs[string(recordKey(c.Sequence))] != string(recordValue(c)) {
			h.t.Errorf("record for %+v missing", c)
		}
	}
}

func testHookNoChange(h *hookEnv) {
	h.mkbucket("b", store.Unversioned)
	if _, err := h.b.DeleteObject(h.ctx, "b", "missing", store.DeleteOptions{}); err != nil {
		h.t.Fatal(err)
	}
	h.put("b", "k", []byte("x"))
	h.take()
	if _, err := h.b.UpdateObject(h.ctx, "b", "k", "", func(o *store.ObjectInfo) error { o.Meta.ACL = "public-read"; return nil }); err != nil {
		h.t.Fatal(err)
	}
	if cs := h.take(); len(cs) != 0 {
		h.t.Errorf("changes for no-op delete / metadata update: %+v", cs)
	}
}

func testHookFailedWrite(h *hookEnv) {
	h.mkbucket("b", store.Unversioned)
	body := data(1<<20, 1)
	for _, opts := range []store.PutOptions{
		{Size: int64(len(body)), ContentMD5: md5sum([]byte("no"))},
		{Size: int64(len(body)) + 1},
	} {
		if _, err := h.b.PutObject(h.ctx, "b", "k", strings.NewReader(string(body)), opts); err == nil {
			h.t.Fatal("bad write succeeded")
		}
	}
	if _, err := h.b.PutObject(h.ctx, "b", "k", &failingReader{data: body, err: errTest}, store.PutOptions{Size: -1}); err == nil {
		h.t.Fatal("write with failing body succeeded")
	}
	if cs, recs := h.take(), h.records(); len(cs) != 0 || len(recs) != 0 {
		h.t.Errorf("failed writes left changes %+v, records %v", cs, recs)
	}
}

func testHookError(h *hookEnv) {
	h.mkbucket("b", store.Enabled)
	old := h.put("b", "k", []byte("old"))
	h.take()
	before := h.records()
	afterRan := false
	h.mu.Lock()
	h.fail = func(store.Change) error { return errTest }
	h.after = func(store.Change) { afterRan = true }
	h.mu.Unlock()

	_, err := h.b.PutObject(h.ctx, "b", "k", strings.NewReader("new"), store.PutOptions{Size: 3})
	wantErr(h.t, "PutObject with failing hook", err, errTest)
	_, err = h.b.PutObject(h.ctx, "b", "big", strings.NewReader(string(data(1<<20, 2))), store.PutOptions{Size: 1 << 20})
	wantErr(h.t, "large PutObject with failing hook", err, errTest)
	_, err = h.b.DeleteObject(h.ctx, "b", "k", store.DeleteOptions{})
	wantErr(h.t, "DeleteObject with failing hook", err, errTest)
	_, err = h.b.DeleteObject(h.ctx, "b", "k", store.DeleteOptions{VersionID: old.VersionID})
	wantErr(h.t, "DeleteObject(version) with failing hook", err, errTest)
	_, err = h.b.CopyObject(h.ctx, store.CopySource{Bucket: "b", Key: "k"}, "b", "copy", store.CopyOptions{})
	wantErr(h.t, "CopyObject with failing hook", err, errTest)
	up := h.create("b", "mp", store.PutOptions{})
	p := h.part(up, 1, []byte("x"))
	_, err = h.complete(up, p)
	wantErr(h.t, "CompleteMultipartUpload with failing hook", err, errTest)

	if afterRan {
		h.t.Error("AfterCommit callback ran for a failed change")
	}
	h.mu.Lock()
	aborts := h.aborts
	h.mu.Unlock()
	if aborts != 6 {
		h.t.Errorf("AfterAbort ran %d times for 6 failed changes", aborts)
	}
	if recs := h.records(); len(recs) != len(before) {
		h.t.Errorf("records after failed changes: %v, want %v", recs, before)
	}
	if got := h.mustGet("b", "k", "", []byte("old")); got.VersionID != old.VersionID {
		h.t.Errorf("latest after failed changes = %+v", got)
	}
	h.absent("b", "big")
	h.absent("b", "copy")
	h.absent("b", "mp")
	if n := len(h.versions("b", "")); n != 1 {
		h.t.Errorf("%d versions after failed changes, want 1", n)
	}
	// The upload survives a failed completion.
	h.mu.Lock()
	h.fail = nil
	h.mu.Unlock()
	if _, err := h.complete(up, p); err != nil {
		h.t.Errorf("complete after the hook recovered: %v", err)
	}
}

func testHookAfterCommit(h *hookEnv) {
	h.mkbucket("b", store.Unversioned)
	var mu sync.Mutex
	var problems []string
	ran := 0
	h.mu.Lock()
	h.after = func(c store.Change) {
		// Never early: the change is readable when the callback runs, and
		// the callback may use the store.
		info, err := h.b.HeadObject(context.Background(), "b", c.Object.Key, store.GetOptions{})
		_, rerr := h.kv.Get(context.Background(), recordKey(c.Sequence))
		mu.Lock()
		defer mu.Unlock()
		ran++
		if err != nil || info.ETag != c.Object.ETag || rerr != nil {
			problems = append(problems, fmt.Sprintf("in AfterCommit: %+v, %v, record %v", info, err, rerr))
		}
	}
	h.mu.Unlock()
	h.put("b", "small", []byte("x"))
	h.put("b", "large", data(1<<20, 1))
	mu.Lock()
	defer mu.Unlock()
	if ran != 2 {
		h.t.Errorf("AfterCommit ran %d times, want 2", ran)
	}
	h.mu.Lock()
	if h.aborts != 0 {
		h.t.Errorf("AfterAbort ran %d times for committed changes", h.aborts)
	}
	h.mu.Unlock()
	for _, p := range problems {
		h.t.Error(p)
	}
}

type ctxKey struct{}

func testHookContext(h *hookEnv) {
	h.mkbucket("b", store.Unversioned)
	ctx := context.WithValue(h.ctx, ctxKey{}, "request-42")
	if _, err := h.b.PutObject(ctx, "b", "k", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
		h.t.Fatal(err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ctxSeen) != 1 || h.ctxSeen[0].Value(ctxKey{}) != "request-42" {
		h.t.Errorf("hook did not get the request context")
	}
}

func testHookSequence(h *hookEnv) {
	h.mkbucket("b", store.Enabled)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 6; i++ {
				key := "hot"
				if i%2 == 1 {
					key = fmt.Sprintf("cold-%d", w)
				}
				if _, err := h.b.PutObject(h.ctx, "b", key, strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
					h.t.Error(err)
				}
				if i == 4 {
					if _, err := h.b.DeleteObject(h.ctx, "b", key, store.DeleteOptions{}); err != nil {
						h.t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	seqOf := map[string]uint64{}
	seen := map[uint64]bool{}
	for _, c := range h.take() {
		if seen[c.Sequence] {
			h.t.Errorf("sequence %d reported twice", c.Sequence)
		}
		seen[c.Sequence] = true
		seqOf[c.Object.Key+"@"+c.Object.VersionID] = c.Sequence
	}
	// Per object, the version order (newest first) is the sequence order.
	vs := h.versions("b", "")
	for i := 1; i < len(vs); i++ {
		if vs[i].Key != vs[i-1].Key {
			continue
		}
		newer, older := seqOf[vs[i-1].Key+"@"+vs[i-1].VersionID], seqOf[vs[i].Key+"@"+vs[i].VersionID]
		if newer <= older {
			h.t.Errorf("%s: version %s (seq %d) is newer than %s (seq %d)", vs[i].Key, vs[i-1].VersionID, newer, vs[i].VersionID, older)
		}
	}
	if len(vs) != 4*6+4 {
		h.t.Errorf("%d versions, want %d", len(vs), 4*6+4)
	}
}

// DeleteObjects reports one change per key that changes, each with its own
// record and sequence; a hook failing for one key drops that key's delete
// and record (its AfterAbort runs) and keeps the others.
func testHookDeleteObjects(h *hookEnv) {
	h.mkbucket("b", store.Unversioned)
	const n = 10
	var entries []store.DeleteEntry
	for i := range n {
		k := fmt.Sprintf("k%d", i)
		h.put("b", k, []byte(k))
		entries = append(entries, store.DeleteEntry{Key: k})
	}
	entries = append(entries, store.DeleteEntry{Key: "missing"})
	h.take()
	before := len(h.records())
	var afters []string
	h.mu.Lock()
	h.fail = func(c store.Change) error {
		if c.Object.Key == "k4" {
			return errTest
		}
		return nil
	}
	h.after = func(c store.Change) { afters = append(afters, c.Object.Key) }
	h.mu.Unlock()

	out := h.b.DeleteObjects(h.ctx, "b", entries)
	for i, o := range out {
		if wantFail := entries[i].Key == "k4"; wantFail != errors.Is(o.Err, errTest) || (!wantFail && o.Err != nil) {
			h.t.Errorf("entry %s: %v", entries[i].Key, o.Err)
		}
	}
	cs := h.take()
	seqs := map[uint64]bool{}
	recs := h.records()
	for _, c := range cs {
		if c.Kind != store.ChangeDelete || seqs[c.Sequence] {
			h.t.Errorf("change %s %s seq %d (kind or repeated sequence)", c.Kind, c.Object.Key, c.Sequence)
		}
		seqs[c.Sequence] = true
		if recs[string(recordKey(c.Sequence))] != string(recordValue(c)) {
			h.t.Errorf("no record of the delete of %s", c.Object.Key)
		}
	}
	if len(cs) != n-1 || len(recs) != before+n-1 || len(afters) != n-1 {
		h.t.Errorf("%d changes, %d new records, %d AfterCommit calls; want %d each", len(cs), len(recs)-before, len(afters), n-1)
	}
	h.mu.Lock()
	aborts := h.aborts
	h.mu.Unlock()
	if aborts != 1 {
		h.t.Errorf("AfterAbort ran %d times, want once (k4)", aborts)
	}
	h.mustGet("b", "k4", "", []byte("k4"))
	h.absent("b", "k3")
}

// UpdateBucketRecords commits the bucket record and the system records fn
// adds in one commit: both or, when fn fails after adding records,
// neither.
func testBucketRecords(h *hookEnv) {
	h.mkbucket("b", store.Unversioned)
	if err := kv.Put(h.ctx, h.kv, []byte("derived/old"), []byte("1")); err != nil {
		h.t.Fatal(err)
	}
	err := h.b.UpdateBucketRecords(h.ctx, "b", func(b *store.Bucket, w *kv.Batch) error {
		b.Config = map[string][]byte{"conf": []byte("v1")}
		w.Put([]byte("derived/new"), []byte("2"))
		w.Delete([]byte("derived/old"))
		return errTest
	})
	wantErr(h.t, "UpdateBucketRecords with failing fn", err, errTest)
	if b, err := h.b.GetBucket(h.ctx, "b"); err != nil || b.Config["conf"] != nil {
		h.t.Errorf("bucket after a failed update: %+v, %v", b.Config, err)
	}
	if _, err := h.kv.Get(h.ctx, []byte("derived/new")); !errors.Is(err, kv.ErrNotFound) {
		h.t.Errorf("record of a failed update: %v", err)
	}
	if _, err := h.kv.Get(h.ctx, []byte("derived/old")); err != nil {
		h.t.Errorf("record a failed update deleted: %v", err)
	}
	err = h.b.UpdateBucketRecords(h.ctx, "b", func(b *store.Bucket, w *kv.Batch) error {
		b.Config = map[string][]byte{"conf": []byte("v1")}
		w.Put([]byte("derived/new"), []byte("2"))
		w.Delete([]byte("derived/old"))
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
	if b, err := h.b.GetBucket(h.ctx, "b"); err != nil || string(b.Config["conf"]) != "v1" {
		h.t.Errorf("bucket after the update: %+v, %v", b.Config, err)
	}
	if v, err := h.kv.Get(h.ctx, []byte("derived/new")); err != nil || string(v) != "2" {
		h.t.Errorf("record of the update: %q, %v", v, err)
	}
	if _, err := h.kv.Get(h.ctx, []byte("derived/old")); !errors.Is(err, kv.ErrNotFound) {
		h.t.Errorf("record the update deleted: %v", err)
	}
}

// testHookTransitionAbort: a storage-class transition and an upload's
// abort are reported (lifecycle emits events for them); a refused check
// changes and reports nothing; a delete marker cannot be relabeled.
func testHookTransitionAbort(h *hookEnv) {
	h.mkbucket("b", store.Enabled)
	v1 := h.put("b", "k", []byte("one"))
	h.put("b", "k", []byte("two"))
	h.take()
	errNo := errors.New("no")
	if _, err := h.b.TransitionObject(h.ctx, "b", "k", v1.VersionID, "GLACIER", func(store.ObjectInfo) error { return errNo }); !errors.Is(err, errNo) {
		h.t.Fatalf("TransitionObject with a failing check: %v, want its error", err)
	}
	if cs := h.take(); len(cs) != 0 {
		h.t.Errorf("refused transition reported %+v", cs)
	}
	var checked store.ObjectInfo
	got, err := h.b.TransitionObject(h.ctx, "b", "k", v1.VersionID, "GLACIER", func(oi store.ObjectInfo) error { checked = oi; return nil })
	if err != nil {
		h.t.Fatal(err)
	}
	if checked.VersionID != v1.VersionID || checked.ETag != v1.ETag || got.Meta.StorageClass != "GLACIER" {
		h.t.Errorf("transition checked %+v, returned %+v", checked, got)
	}
	c := h.expectOne(store.ChangeTransition, "k", v1.VersionID)
	if c.Object.Meta.StorageClass != "GLACIER" || c.Object.ETag != v1.ETag || c.Object.Size != 3 {
		h.t.Errorf("transition change object = %+v", c.Object)
	}
	if oi, err := h.b.HeadObject(h.ctx, "b", "k", store.GetOptions{VersionID: v1.VersionID}); err != nil || oi.Meta.StorageClass != "GLACIER" {
		h.t.Errorf("after transition: %+v, %v", oi.Meta, err)
	}
	dm := h.del("b", "k", "")
	h.take()
	if _, err := h.b.TransitionObject(h.ctx, "b", "k", dm.VersionID, "GLACIER", nil); !errors.Is(err, store.ErrMethodNotAllowed) {
		h.t.Errorf("transition of a delete marker: %v, want ErrMethodNotAllowed", err)
	}
	up := h.create("b", "mp", store.PutOptions{Owner: "alice"})
	h.part(up, 1, []byte("part"))
	h.take()
	if err := h.b.AbortMultipartUpload(h.ctx, "b", "mp", up.UploadID); err != nil {
		h.t.Fatal(err)
	}
	if c := h.expectOne(store.ChangeAbortUpload, "mp", ""); c.Object.Owner != "alice" || c.Object.LastModified.IsZero() {
		h.t.Errorf("abort change object = %+v", c.Object)
	}
}
