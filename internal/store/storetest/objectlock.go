package storetest

import (
	"errors"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

var objectLockTests = []test{
	{"LockFieldsRoundTrip", testLockFieldsRoundTrip},
	{"DeleteCheck", testDeleteCheck},
}

// testLockFieldsRoundTrip: retention and legal hold set at PUT and changed
// by UpdateObject read back exactly.
func testLockFieldsRoundTrip(e *env) {
	e.mkbucket("b", store.Enabled)
	until := time.Date(2030, 1, 2, 3, 4, 5, 6e6, time.UTC)
	v := e.putOpts("b", "k", []byte("x"), store.PutOptions{Size: 1, Meta: store.Metadata{
		LockMode: "GOVERNANCE", LockRetainUntil: until, LegalHold: "ON",
	}})
	got, err := e.b.HeadObject(e.ctx, "b", "k", store.GetOptions{VersionID: v.VersionID})
	if err != nil {
		e.t.Fatalf("HeadObject: %v", err)
	}
	if m := got.Meta; m.LockMode != "GOVERNANCE" || !m.LockRetainUntil.Equal(until) || m.LegalHold != "ON" {
		e.t.Fatalf("lock fields = %q %v %q, want GOVERNANCE %v ON", m.LockMode, m.LockRetainUntil, m.LegalHold, until)
	}
	_, err = e.b.UpdateObject(e.ctx, "b", "k", v.VersionID, func(oi *store.ObjectInfo) error {
		oi.Meta.LockMode, oi.Meta.LockRetainUntil, oi.Meta.LegalHold = "", time.Time{}, "OFF"
		return nil
	})
	if err != nil {
		e.t.Fatalf("UpdateObject: %v", err)
	}
	got, err = e.b.HeadObject(e.ctx, "b", "k", store.GetOptions{VersionID: v.VersionID})
	if err != nil {
		e.t.Fatalf("HeadObject: %v", err)
	}
	if m := got.Meta; m.LockMode != "" || !m.LockRetainUntil.IsZero() || m.LegalHold != "OFF" {
		e.t.Fatalf("lock fields after update = %q %v %q, want cleared and OFF", m.LockMode, m.LockRetainUntil, m.LegalHold)
	}
}

// testDeleteCheck: DeleteOptions.Check sees the version a delete removes
// and its error aborts the delete; it is not called when only a delete
// marker is added.
func testDeleteCheck(e *env) {
	e.mkbucket("b", store.Enabled)
	v := e.putOpts("b", "k", []byte("x"), store.PutOptions{Size: 1, Meta: store.Metadata{LegalHold: "ON"}})
	errLocked := errors.New("locked")
	var seen store.ObjectInfo
	_, err := e.b.DeleteObject(e.ctx, "b", "k", store.DeleteOptions{VersionID: v.VersionID, Check: func(oi store.ObjectInfo) error {
		seen = oi
		return errLocked
	}})
	if !errors.Is(err, errLocked) {
		e.t.Fatalf("DeleteObject with a failing Check: err = %v, want %v", err, errLocked)
	}
	if seen.VersionID != v.VersionID || seen.Meta.LegalHold != "ON" {
		e.t.Errorf("Check saw %+v, want version %s with its metadata", seen, v.VersionID)
	}
	e.mustGet("b", "k", v.VersionID, []byte("x"))

	called := false
	dm, err := e.b.DeleteObject(e.ctx, "b", "k", store.DeleteOptions{Check: func(store.ObjectInfo) error {
		called = true
		return errLocked
	}})
	if err != nil || !dm.DeleteMarker {
		e.t.Fatalf("DeleteObject without version id = %+v, %v; want a delete marker", dm, err)
	}
	if called {
		e.t.Errorf("Check called when only a delete marker was added")
	}
	e.del("b", "k", dm.VersionID)
	res, err := e.b.DeleteObject(e.ctx, "b", "k", store.DeleteOptions{VersionID: v.VersionID, Check: func(store.ObjectInfo) error { return nil }})
	if err != nil || res.VersionID != v.VersionID {
		e.t.Fatalf("DeleteObject with a passing Check = %+v, %v", res, err)
	}
	e.assertEmpty("b")
}
