package local

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// walCut is where a repair cuts a WAL: the log at index wal of
// metaCheck.WALs, at offset. A cut at mid-log damage drops the WALs after
// it too (pointInTime); a cut of an older WAL's torn end keeps them.
type walCut struct {
	wal         int
	offset      int64
	pointInTime bool
}

// reportLogs reports every metadata log, names what the damage loses, and
// returns where a repair must cut the WALs.
func (f *fsck) reportLogs() []walCut {
	if man := f.meta.Manifest; man != nil {
		f.rep.Logs = append(f.rep.Logs, logReport(man, "MANIFEST"))
		if man.Damaged() {
			f.rep.Unrepairable = append(f.rep.Unrepairable, fmt.Sprintf(
				"MANIFEST %s is damaged at offset %d: the list of tables cannot be trusted; restore the data directory from a backup",
				man.Path, man.StopAt))
		}
	}
	var cuts []walCut
	dropping := false
	for i, w := range f.meta.WALs {
		r := logReport(w, "WAL")
		switch {
		case dropping:
			// Point-in-time recovery: records after the damage, in any
			// log, are not replayed, so the state stays a prefix of the
			// acknowledged history.
			r.Status = "after damage"
			f.noteLostLog(w.Path, f.meta.WALNums[i])
		case w.Damaged():
			cuts = append(cuts, walCut{wal: i, offset: w.StopAt, pointInTime: true})
			dropping = true
			f.rep.UndecodableRecords++ // the record at the damage
			for _, rec := range w.After {
				f.noteLostRecord(w.Path, rec.Off, rec.Data)
			}
		case f.meta.tornBeforeLast(i):
			r.Status = "torn before newer WALs"
			cuts = append(cuts, walCut{wal: i, offset: w.StopAt})
		}
		f.rep.Logs = append(f.rep.Logs, r)
	}
	return cuts
}

func logReport(s *logScan, kind string) LogReport {
	r := LogReport{File: s.Path, Kind: kind, Size: s.Size, Records: s.Records, Status: "ok"}
	if s.StopAt >= 0 && s.StopWhy != stopTrailer {
		r.Status = "torn tail"
		r.StopOffset, r.StopReason = ptr(s.StopAt), s.StopWhy
	}
	if s.Damaged() {
		r.Status = "damaged"
		r.IntactOffset = ptr(s.IntactAt)
	}
	return r
}

func ptr[T any](v T) *T { return &v }

// noteLostLog notes every record of a WAL that recovery will not replay.
func (f *fsck) noteLostLog(path string, num uint64) {
	_, err := scanLog(vfs.Default, path, num, false, false, func(off int64, b []byte) { f.noteLostRecord(path, off, b) })
	if err != nil {
		f.rep.UndecodableRecords++
	}
}

// noteLostRecord names the changes in one lost WAL record (a Pebble batch).
func (f *fsck) noteLostRecord(log string, off int64, data []byte) {
	if len(data) < 12 {
		f.rep.UndecodableRecords++
		return
	}
	r, _ := pebble.ReadBatch(data)
	for {
		kind, k, v, ok, err := r.Next()
		if err != nil {
			f.rep.UndecodableRecords++
			return
		}
		if !ok {
			return
		}
		f.noteLostKey(log, off, kind, k, v)
	}
}

// lostTables names the tables of keys counted in LostOther. The rows that
// belong to an object change (inline bodies, file references, the
// null-version index) and the sequence lease are not counted.
var lostTables = map[string]string{
	string(tagBucket): "buckets",
	string(tagUpload): "multipart uploads",
	string(tagUpID):   "multipart uploads",
	string(tagPart):   "multipart parts",
	string(tagDoneUp): "completed uploads",
	string(tagKV):     "users, keys and notification state",
}

func (f *fsck) noteLostKey(log string, off int64, kind pebble.InternalKeyKind, k, v []byte) {
	if len(k) < 2 {
		return
	}
	set := kind == pebble.InternalKeyKindSet
	switch tag := string(k[:2]); {
	case tag == string(tagObject):
		f.noteLostVersion(log, off, set, k, v)
	case tag == string(tagPart) && set:
		var p partRec
		if json.Unmarshal(v, &p) == nil && !p.Blob.Inline && p.Size > 0 {
			f.lostFile(p.Blob.Seq, fmt.Sprintf("part %d of upload %s", p.Number, k[2:bytes.IndexByte(k, 0)]))
		}
		f.countLost(tag)
	default:
		f.countLost(tag)
	}
}

func (f *fsck) countLost(tag string) {
	name, ok := lostTables[tag]
	if !ok {
		return
	}
	if f.rep.LostOther == nil {
		f.rep.LostOther = map[string]int{}
	}
	f.rep.LostOther[name]++
}

// noteLostVersion reports a lost change of an object version record
// (o/<bucket>\x00<ekey>\x00\x01<^seq>).
func (f *fsck) noteLostVersion(log string, off int64, set bool, k, v []byte) {
	i := bytes.IndexByte(k[2:], 0)
	if i < 0 {
		f.rep.UndecodableRecords++
		return
	}
	bucket := string(k[2 : 2+i])
	key, suffix, ok := splitKeyed(k, 2+i+1)
	if !ok || len(suffix) != 8 {
		f.rep.UndecodableRecords++
		return
	}
	lo := LostObject{Bucket: bucket, Key: key, VersionID: hex.EncodeToString(suffix), Change: "delete", Log: log, Offset: off}
	if set {
		var ver version
		if err := json.Unmarshal(v, &ver); err != nil {
			f.rep.UndecodableRecords++
			return
		}
		lo.Change, lo.Size = "put", ver.Size
		if ver.DeleteMarker {
			lo.Change = "delete marker"
		}
		if ver.Null {
			lo.VersionID = "null"
		}
		for _, b := range ver.Blobs {
			if !b.Inline {
				lo.DataFiles = append(lo.DataFiles, f.dataPath(b.Seq))
				f.lostFile(b.Seq, fmt.Sprintf("%s/%s version %s", bucket, key, lo.VersionID))
			}
		}
	}
	f.rep.LostObjects = append(f.rep.LostObjects, lo)
}

func (f *fsck) lostFile(seq uint64, what string) {
	if f.lostFiles == nil {
		f.lostFiles = map[uint64]string{}
	}
	f.lostFiles[seq] = what
}

func (f *fsck) dataPath(seq uint64) string { return (&Store{dir: f.dir}).dataPath(seq) }
