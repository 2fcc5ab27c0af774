package local

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/cockroachdb/pebble/sstable"
)

// TableReport describes one table (sstable) of the metadata store.
type TableReport struct {
	File   string `json:"file"`
	Size   int64  `json:"size"`
	Keys   int    `json:"keys"`
	Status string `json:"status"` // ok or damaged
	Error  string `json:"error,omitempty"`
}

// checkTables reads every table in the metadata directory with Pebble's
// sstable reader: every block's checksum, then every key.
func (f *fsck) checkTables() error {
	entries, err := os.ReadDir(f.metaDir)
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".sst") {
			continue
		}
		path := filepath.Join(f.metaDir, e.Name())
		tr := TableReport{File: path, Status: "ok"}
		if fi, err := e.Info(); err == nil {
			tr.Size = fi.Size()
		}
		tr.Keys, err = checkTable(path)
		if err != nil {
			tr.Status, tr.Error = "damaged", err.Error()
			f.rep.Unrepairable = append(f.rep.Unrepairable, fmt.Sprintf(
				"table %s is damaged (%v): rows in it cannot be read; restore the data directory from a backup", path, err))
		}
		f.rep.Tables = append(f.rep.Tables, tr)
	}
	return nil
}

// checkTable verifies one table and returns its number of point keys.
func checkTable(path string) (keys int, err error) {
	// The reader is meant for tables Pebble wrote; damaged input may make
	// it panic rather than fail, and fsck exists to report damaged input.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("unreadable: %v", p)
		}
	}()
	file, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	readable, err := sstable.NewSimpleReadable(file)
	if err != nil {
		file.Close()
		return 0, err
	}
	r, err := sstable.NewReader(readable, sstable.ReaderOptions{})
	if err != nil {
		readable.Close()
		return 0, err
	}
	defer r.Close()
	if err := r.ValidateBlockChecksums(); err != nil {
		return 0, err
	}
	it, err := r.NewIter(nil, nil)
	if err != nil {
		return 0, err
	}
	for k, _ := it.First(); k != nil; k, _ = it.Next() {
		keys++
	}
	if err := it.Error(); err != nil {
		it.Close()
		return keys, err
	}
	return keys, it.Close()
}
