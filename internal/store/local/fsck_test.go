package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/store"
)

// TestFsckNamesWhatMidWALDamageLoses flips a byte in the record of the
// first of n objects: fsck reports the damaged WAL, the n-1 objects it can
// still decode after the damage, and the n data files no metadata refers to
// any more, and changes nothing.
func TestFsckNamesWhatMidWALDamageLoses(t *testing.T) {
	for _, n := range []int{4, 300} {
		t.Run(fmt.Sprint(n), func(t *testing.T) { fsckNamesLoss(t, n) })
	}
}

// fsckNamesLoss runs TestFsckNamesWhatMidWALDamageLoses with n objects;
// with many, the records after the damage span WAL blocks.
func fsckNamesLoss(t *testing.T, n int) {
	const size = 70 << 10
	dir := t.TempDir()
	keys, wal := walFixture(t, dir, n, size)
	flipByte(t, wal, keyOffset(t, wal, keys[0])+3)
	before, err := os.ReadFile(wal)
	if err != nil {
		t.Fatal(err)
	}

	rep, err := Fsck(dir, FsckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Damaged {
		t.Error("not reported as damaged")
	}
	var walRep *LogReport
	for i := range rep.Logs {
		if rep.Logs[i].File == wal {
			walRep = &rep.Logs[i]
		}
	}
	if walRep == nil || walRep.Status != "damaged" || walRep.StopOffset == nil || walRep.IntactOffset == nil {
		t.Fatalf("WAL report: %+v", rep.Logs)
	}
	var lost []string
	for _, o := range rep.LostObjects {
		if o.Bucket != "b" || o.Change != "put" || o.Size != size || len(o.DataFiles) != 1 || o.Log != wal {
			t.Errorf("lost object %+v", o)
		}
		lost = append(lost, o.Key)
	}
	if strings.Join(lost, ",") != strings.Join(keys[1:], ",") {
		t.Errorf("lost objects %v, want %v", lost, keys[1:])
	}
	if rep.UndecodableRecords < 1 {
		t.Error("the damaged record is not counted")
	}
	named := 0
	for _, o := range rep.OrphanedDataFiles {
		if o.MovedTo != "" {
			t.Errorf("a dry run moved %s", o.Path)
		}
		if o.Object != "" {
			named++
		}
	}
	if len(rep.OrphanedDataFiles) != n || named != n-1 {
		t.Errorf("orphans: %+v", rep.OrphanedDataFiles)
	}
	after, err := os.ReadFile(wal)
	if err != nil || !bytes.Equal(before, after) {
		t.Error("a dry run changed the WAL")
	}
	if _, err := Open(dir, Options{}); err == nil {
		t.Fatal("Open succeeded after a dry run")
	}
}

// TestFsckRepair cuts the damaged WAL so the store opens again, keeps what
// it removed in lost+found, and leaves a store that a second fsck finds
// clean.
func TestFsckRepair(t *testing.T) {
	dir := t.TempDir()
	keys, wal := walFixture(t, dir, 4, 100<<10)
	flipByte(t, wal, keyOffset(t, wal, keys[0])+3)

	rep, err := Fsck(dir, FsckOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Damaged || len(rep.Repairs) == 0 || len(rep.LostObjects) != 3 {
		t.Fatalf("repair report: damaged %v, repairs %v, lost %d", rep.Damaged, rep.Repairs, len(rep.LostObjects))
	}
	for _, o := range rep.OrphanedDataFiles {
		if o.MovedTo == "" {
			t.Errorf("orphan %s not moved", o.Path)
		} else if _, err := os.Stat(o.MovedTo); err != nil {
			t.Error(err)
		}
	}
	tails, _ := filepath.Glob(filepath.Join(dir, "lost+found", "*", "meta", "*.from-*"))
	if len(tails) != 1 {
		t.Errorf("cut-off WAL tail kept: %v", tails)
	}

	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after repair: %v", err)
	}
	ctx := context.Background()
	if _, err := s.GetBucket(ctx, "b"); err != nil {
		t.Errorf("bucket written before the damage: %v", err)
	}
	for _, k := range keys {
		if _, err := s.HeadObject(ctx, "b", k, store.GetOptions{}); !errors.Is(err, store.ErrNoSuchKey) {
			t.Errorf("%s after repair: %v", k, err)
		}
	}
	if _, err := s.PutObject(ctx, "b", "new", strings.NewReader("x"), store.PutOptions{Size: 1}); err != nil {
		t.Errorf("write after repair: %v", err)
	}
	s.Close()

	rep, err = Fsck(dir, FsckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Damaged || len(rep.LostObjects) != 0 || len(rep.OrphanedDataFiles) != 0 {
		t.Errorf("second fsck: %+v", rep)
	}
}

// TestFsckTables reports a healthy store as such, then a flipped byte in a
// table as damage that repair cannot fix.
func TestFsckTables(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.CreateBucket(ctx, store.Bucket{Name: "b"}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		if _, err := s.PutObject(ctx, "b", k, strings.NewReader(k), store.PutOptions{Size: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.db.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := Fsck(dir, FsckOptions{}); !errors.Is(err, ErrStoreInUse) {
		t.Errorf("fsck of an open store: %v", err)
	}
	s.Close()

	rep, err := Fsck(dir, FsckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Damaged || len(rep.Tables) == 0 || len(rep.LostObjects) != 0 || len(rep.OrphanedDataFiles) != 0 {
		t.Fatalf("healthy store: %+v", rep)
	}
	for _, l := range rep.Logs {
		if l.Status != "ok" {
			t.Errorf("log of a cleanly closed store: %+v", l)
		}
	}
	for _, tr := range rep.Tables {
		if tr.Status != "ok" || tr.Keys == 0 {
			t.Errorf("table %+v", tr)
		}
	}
	flipByte(t, rep.Tables[0].File, 20)
	rep, err = Fsck(dir, FsckOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Damaged || rep.Tables[0].Status != "damaged" || len(rep.Unrepairable) != 1 {
		t.Errorf("damaged table: %+v", rep)
	}
}

// TestFsckTornTail reports a WAL cut inside its last record as a torn tail,
// which is no damage and loses nothing that was acknowledged.
func TestFsckTornTail(t *testing.T) {
	dir := t.TempDir()
	keys, wal := walFixture(t, dir, 4, 100<<10)
	if err := os.Truncate(wal, int64(keyOffset(t, wal, keys[3])+5)); err != nil {
		t.Fatal(err)
	}
	rep, err := Fsck(dir, FsckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Damaged || len(rep.LostObjects) != 0 || len(rep.OrphanedDataFiles) != 1 || rep.OrphanedDataFiles[0].Object != "" {
		t.Errorf("torn tail: %+v", rep)
	}
	if l := rep.Logs[len(rep.Logs)-1]; l.File != wal || l.Status != "torn tail" || l.StopOffset == nil {
		t.Errorf("WAL report: %+v", l)
	}
}
