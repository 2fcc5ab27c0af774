package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/vfs"
)

// FsckOptions configure Fsck.
type FsckOptions struct {
	// Repair cuts damaged logs at the damage and moves what can no longer
	// be used (the cut-off tail, later WALs, orphaned data files) into
	// lost+found inside the data directory, so the store opens again.
	Repair bool
	// Now stamps the lost+found directory; zero means time.Now.
	Now time.Time
}

// FsckReport is what Fsck found and, with Repair, did.
type FsckReport struct {
	DataDir string        `json:"data_dir"`
	Logs    []LogReport   `json:"logs"`
	Tables  []TableReport `json:"tables"`
	// LostObjects are the object changes in records that Pebble cannot
	// replay: after mid-log damage, or in WALs after a damaged one.
	LostObjects []LostObject `json:"lost_objects"`
	// LostOther counts lost changes of other metadata (buckets, uploads,
	// users, notification state) by table.
	LostOther map[string]int `json:"lost_other,omitempty"`
	// UndecodableRecords counts damaged records whose contents are unknown.
	UndecodableRecords int `json:"undecodable_records"`
	// OrphanedDataFiles are data files no metadata refers to. The store
	// removes them when it opens; Repair moves them to lost+found first.
	OrphanedDataFiles []OrphanedFile `json:"orphaned_data_files"`
	// OrphansUnknown says why orphans could not be listed, if they could not.
	OrphansUnknown string   `json:"orphans_unknown,omitempty"`
	Repairs        []string `json:"repairs,omitempty"`
	// Unrepairable lists damage that Repair cannot fix.
	Unrepairable []string `json:"unrepairable,omitempty"`
	// Damaged is true when damage remains that keeps the store from
	// opening or loses data.
	Damaged bool `json:"damaged"`
}

// LogReport describes one metadata log.
type LogReport struct {
	File    string `json:"file"`
	Kind    string `json:"kind"` // WAL or MANIFEST
	Size    int64  `json:"size"`
	Records int    `json:"records"`
	// Status is "ok", "torn tail" (normal after a crash), "damaged", or
	// "after damage" (a later WAL that point-in-time recovery drops).
	Status string `json:"status"`
	// StopOffset is where readable records end, if before the end.
	StopOffset *int64 `json:"stop_offset,omitempty"`
	StopReason string `json:"stop_reason,omitempty"`
	// IntactOffset is the first intact chunk after damage.
	IntactOffset *int64 `json:"intact_offset,omitempty"`
}

// LostObject is one object change that the metadata no longer holds.
type LostObject struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"version_id"`
	// Change is "put", "delete marker" or "delete" (a lost delete: the
	// version reappears).
	Change    string   `json:"change"`
	Size      int64    `json:"size"`
	DataFiles []string `json:"data_files,omitempty"`
	Log       string   `json:"log"`
	Offset    int64    `json:"offset"`
}

// OrphanedFile is a data file without a metadata reference.
type OrphanedFile struct {
	Path string `json:"path"`
	Size int64  `json:"size"`
	// Object names the lost object that used it, when a lost record says.
	Object string `json:"object,omitempty"`
	// MovedTo is where Repair put it.
	MovedTo string `json:"moved_to,omitempty"`
}

// ErrStoreInUse is returned by Fsck when another process holds the store.
var ErrStoreInUse = errors.New("local: the store is in use by another process (stop the server first)")

// Fsck checks the store in dir offline: the MANIFEST and WALs for damage
// that Pebble would pass over (see logscan.go), every table's block
// checksums, and the data files against the metadata. It names the object
// changes the damage loses and, with Repair, makes the store open again.
// The server must not be running: Fsck takes the metadata lock.
func Fsck(dir string, opts FsckOptions) (*FsckReport, error) {
	metaDir := filepath.Join(dir, "meta")
	if _, err := os.Stat(filepath.Join(dir, "data")); err != nil {
		return nil, fmt.Errorf("local: %s is not a Cairn data directory: %w", dir, err)
	}
	if _, err := currentManifest(vfs.Default, metaDir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("local: %s holds no metadata store (no %s/CURRENT)", dir, metaDir)
		}
		return nil, err
	}
	lock, err := pebble.LockDirectory(metaDir, vfs.Default)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrStoreInUse, err)
	}
	defer lock.Close()
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	f := &fsck{dir: dir, metaDir: metaDir, opts: opts, lock: lock, rep: &FsckReport{
		DataDir: dir, Logs: []LogReport{}, Tables: []TableReport{},
		LostObjects: []LostObject{}, OrphanedDataFiles: []OrphanedFile{},
	}}
	if err := f.run(); err != nil {
		return nil, err
	}
	return f.rep, nil
}

// fsck is the state of one Fsck run.
type fsck struct {
	dir, metaDir string
	opts         FsckOptions
	lock         *pebble.Lock
	rep          *FsckReport
	meta         *metaCheck
	lostFiles    map[uint64]string // data file seq -> the lost object using it
	lostFound    string            // lost+found directory of this run, once made
}

func (f *fsck) run() error {
	m, err := checkMetaLogs(vfs.Default, f.metaDir, true)
	if err != nil {
		return err
	}
	f.meta = m
	cuts := f.reportLogs()
	if err := f.checkTables(); err != nil {
		return err
	}
	if f.opts.Repair && len(cuts) > 0 && len(f.rep.Unrepairable) == 0 {
		for _, c := range cuts {
			if err := f.repairWAL(c); err != nil {
				return err
			}
		}
		if m, err = checkMetaLogs(vfs.Default, f.metaDir, false); err != nil {
			return err
		}
		if d := m.firstDamage(f.dir); d != nil {
			return fmt.Errorf("local: damage remains after the repair: %w", d)
		}
		cuts = nil
	}
	f.rep.Damaged = len(cuts) > 0 || len(f.rep.Unrepairable) > 0
	return f.checkOrphans()
}
