package local

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"github.com/cockroachdb/pebble"
)

// lostFoundDir returns (making it on first use) this run's directory under
// <dir>/lost+found, where a repair moves what the store can no longer use,
// so that nothing is destroyed.
func (f *fsck) lostFoundDir(sub string) (string, error) {
	if f.lostFound == "" {
		f.lostFound = filepath.Join(f.dir, "lost+found", "fsck-"+f.opts.Now.UTC().Format("20060102T150405Z"))
	}
	d := filepath.Join(f.lostFound, sub)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fmt.Errorf("local: %w", err)
	}
	return d, nil
}

// repairWAL cuts a damaged WAL at the damage, keeping the cut-off bytes in
// lost+found. At mid-log damage it moves every later WAL there too:
// recovery then replays a prefix of the acknowledged history, as after a
// crash at that point.
func (f *fsck) repairWAL(cut walCut) error {
	lf, err := f.lostFoundDir("meta")
	if err != nil {
		return err
	}
	w := f.meta.WALs[cut.wal]
	kept := filepath.Join(lf, fmt.Sprintf("%s.from-%d", filepath.Base(w.Path), cut.offset))
	if err := copyTail(w.Path, kept, cut.offset); err != nil {
		return err
	}
	if err := truncateSync(w.Path, cut.offset); err != nil {
		return err
	}
	f.rep.Repairs = append(f.rep.Repairs, fmt.Sprintf("cut WAL %s at offset %d (the %d bytes after it are in %s)",
		w.Path, cut.offset, w.Size-cut.offset, kept))
	if cut.pointInTime {
		if err := f.moveLaterWALs(cut.wal, lf); err != nil {
			return err
		}
	}
	if err := (osFS{}).SyncDir(lf); err != nil {
		return err
	}
	return (osFS{}).SyncDir(f.metaDir)
}

// moveLaterWALs moves the WALs after WAL i to lost+found directory lf.
func (f *fsck) moveLaterWALs(i int, lf string) error {
	for _, later := range f.meta.WALs[i+1:] {
		to := filepath.Join(lf, filepath.Base(later.Path))
		if err := os.Rename(later.Path, to); err != nil {
			return fmt.Errorf("local: %w", err)
		}
		f.rep.Repairs = append(f.rep.Repairs, fmt.Sprintf("moved WAL %s, written after the damage, to %s", later.Path, to))
	}
	return nil
}

func copyTail(from, to string, off int64) error {
	src, err := os.Open(from)
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	_, err = io.Copy(dst, io.NewSectionReader(src, off, 1<<62))
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("local: keep the cut-off WAL tail: %w", err)
	}
	return nil
}

func truncateSync(path string, size int64) error {
	fh, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	err = fh.Truncate(size)
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("local: cut WAL: %w", err)
	}
	return nil
}

// checkOrphans lists the data files that the metadata, as the store will
// open it, does not refer to; with Repair it moves them to lost+found, since
// the store would delete them when it opens.
func (f *fsck) checkOrphans() error {
	if len(f.rep.Unrepairable) > 0 {
		f.rep.OrphansUnknown = "the metadata is damaged beyond repair"
		return nil
	}
	db, err := pebble.Open(f.metaDir, &pebble.Options{
		ReadOnly: true,
		Lock:     f.lock,
		Logger:   pebbleLogger{slog.New(slog.DiscardHandler)},
	})
	if err != nil {
		f.rep.OrphansUnknown = fmt.Sprintf("the metadata cannot be opened before the repair: %v", err)
		return nil
	}
	defer db.Close()
	for i := 0; i < 256; i++ {
		if err := f.orphansIn(db, fmt.Sprintf("%02x", i)); err != nil {
			return err
		}
	}
	return nil
}

func (f *fsck) orphansIn(db *pebble.DB, sub string) error {
	dir := filepath.Join(f.dir, "data", sub)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	for _, e := range entries {
		seq, err := strconv.ParseUint(e.Name(), 16, 64)
		if err != nil {
			continue
		}
		_, closer, err := db.Get(seqKey(tagFile, seq))
		if err == nil {
			closer.Close()
			continue
		}
		if !isNotFound(err) {
			return fmt.Errorf("local: read metadata: %w", err)
		}
		o := OrphanedFile{Path: filepath.Join(dir, e.Name()), Object: f.lostFiles[seq]}
		if fi, err := e.Info(); err == nil {
			o.Size = fi.Size()
		}
		if f.opts.Repair {
			if err := f.moveOrphan(&o, sub, e.Name()); err != nil {
				return err
			}
		}
		f.rep.OrphanedDataFiles = append(f.rep.OrphanedDataFiles, o)
	}
	return nil
}

func (f *fsck) moveOrphan(o *OrphanedFile, sub, name string) error {
	lf, err := f.lostFoundDir(filepath.Join("data", sub))
	if err != nil {
		return err
	}
	to := filepath.Join(lf, name)
	if err := os.Rename(o.Path, to); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	if err := (osFS{}).SyncDir(lf); err != nil {
		return err
	}
	o.MovedTo = to
	return (osFS{}).SyncDir(filepath.Dir(o.Path))
}
