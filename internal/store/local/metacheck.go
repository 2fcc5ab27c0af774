package local

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble/vfs"
)

// CorruptMetadataError is returned by Open when a metadata log (the WAL or
// the MANIFEST) is damaged before its tail. Pebble would read it up to the
// damage and silently drop every acknowledged write after it; the store
// refuses to start instead, and `cairn admin fsck` shows and repairs it.
type CorruptMetadataError struct {
	DataDir string // the store's directory
	File    string // the damaged log
	Kind    string // "WAL" or "MANIFEST"
	Offset  int64  // where readable records end
	// Intact is the offset of the first intact chunk after the damage, or
	// -1 for an older WAL that merely ends without its end-of-log trailer
	// (Pebble refuses to replay the WALs after it).
	Intact int64
}

func (e *CorruptMetadataError) Error() string {
	what := fmt.Sprintf("intact records follow at offset %d: opening it would silently drop acknowledged writes", e.Intact)
	if e.Intact < 0 {
		what = "newer WALs follow it: Pebble will not replay them"
	}
	return fmt.Sprintf("local: metadata %s %s is damaged at offset %d, and %s, so the store will not start. "+
		"With the server stopped, run `cairn admin fsck --data %s` to list what is lost, then "+
		"`cairn admin fsck --data %s --repair` to cut the log at the damage (or restore the data directory from a backup)",
		e.Kind, e.File, e.Offset, what, e.DataDir, e.DataDir)
}

// metaCheck is the result of scanning the metadata store's logs.
type metaCheck struct {
	Manifest *logScan
	// WALs are the logs Pebble would replay, oldest first.
	WALs []*logScan
	// WALNums are their log numbers.
	WALNums []uint64
}

// firstDamage returns the first damaged log as an error, or nil.
func (m *metaCheck) firstDamage(dataDir string) *CorruptMetadataError {
	if m.Manifest != nil && m.Manifest.Damaged() {
		return &CorruptMetadataError{DataDir: dataDir, File: m.Manifest.Path, Kind: "MANIFEST",
			Offset: m.Manifest.StopAt, Intact: m.Manifest.IntactAt}
	}
	for i, w := range m.WALs {
		if w.Damaged() || m.tornBeforeLast(i) {
			return &CorruptMetadataError{DataDir: dataDir, File: w.Path, Kind: "WAL", Offset: w.StopAt, Intact: w.IntactAt}
		}
	}
	return nil
}

// tornBeforeLast reports whether WAL i, not the newest, stops before its
// end-of-log trailer. Pebble replays older WALs strictly and refuses to
// open; nothing after the stop point is intact, so cutting the log there
// loses nothing that was acknowledged.
func (m *metaCheck) tornBeforeLast(i int) bool {
	w := m.WALs[i]
	return i < len(m.WALs)-1 && !w.Damaged() && w.StopAt >= 0 && w.StopWhy != stopTrailer
}

// checkMetaLogs scans the MANIFEST and the WALs Pebble would replay from
// metaDir. keep asks for the records after each log's stop point. A
// directory without a database yields an empty result.
func checkMetaLogs(vfsys vfs.FS, metaDir string, keep bool) (*metaCheck, error) {
	name, err := currentManifest(vfsys, metaDir)
	if errors.Is(err, fs.ErrNotExist) {
		return &metaCheck{}, nil
	}
	if err != nil {
		return nil, err
	}
	var minLog uint64
	man, err := scanLog(vfsys, filepath.Join(metaDir, name), 0, true, keep, func(_ int64, rec []byte) {
		if n, ok := editLogNum(rec); ok {
			minLog = n
		}
	})
	if err != nil {
		return nil, fmt.Errorf("local: read MANIFEST: %w", err)
	}
	m := &metaCheck{Manifest: man}
	nums, err := walNumbers(vfsys, metaDir)
	if err != nil {
		return nil, err
	}
	for _, n := range nums {
		if n < minLog {
			continue // flushed already: Pebble does not replay it
		}
		w, err := scanLog(vfsys, filepath.Join(metaDir, walName(n)), n, false, keep, nil)
		if err != nil {
			return nil, fmt.Errorf("local: read WAL: %w", err)
		}
		m.WALs = append(m.WALs, w)
		m.WALNums = append(m.WALNums, n)
	}
	return m, nil
}

// currentManifest returns the file name of the current MANIFEST: from the
// CURRENT file, or from the newest manifest marker that newer format
// versions of Pebble use instead.
func currentManifest(vfsys vfs.FS, metaDir string) (string, error) {
	b, err := readFile(vfsys, filepath.Join(metaDir, "CURRENT"))
	if err == nil {
		name := strings.TrimSpace(string(b))
		if !strings.HasPrefix(name, "MANIFEST-") || strings.ContainsAny(name, `/\`) {
			return "", fmt.Errorf("local: %s/CURRENT names %q, not a MANIFEST", metaDir, name)
		}
		return name, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("local: %w", err)
	}
	names, err := vfsys.List(metaDir)
	if err != nil {
		return "", err
	}
	best, bestIter := "", uint64(0)
	for _, name := range names {
		// marker.manifest.<iteration>.<MANIFEST-name>
		parts := strings.SplitN(name, ".", 4)
		if len(parts) != 4 || parts[0] != "marker" || parts[1] != "manifest" {
			continue
		}
		if it, err := strconv.ParseUint(parts[2], 10, 64); err == nil && (best == "" || it > bestIter) {
			best, bestIter = parts[3], it
		}
	}
	if best == "" {
		return "", fs.ErrNotExist
	}
	return best, nil
}

func readFile(vfsys vfs.FS, path string) ([]byte, error) {
	f, err := vfsys.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

func walName(n uint64) string { return fmt.Sprintf("%06d.log", n) }

// walNumbers lists the numbers of the WAL files in metaDir, ascending.
func walNumbers(vfsys vfs.FS, metaDir string) ([]uint64, error) {
	names, err := vfsys.List(metaDir)
	if err != nil {
		return nil, err
	}
	var nums []uint64
	for _, name := range names {
		base, ok := strings.CutSuffix(name, ".log")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(base, 10, 64); err == nil {
			nums = append(nums, n)
		}
	}
	sort.Slice(nums, func(i, j int) bool { return nums[i] < nums[j] })
	return nums, nil
}

// Version edit tags of Pebble's MANIFEST (internal/manifest/version_edit.go).
const (
	editTagComparator = 1
	editTagLogNumber  = 2
)

// editLogNum returns the minimum unflushed log number a MANIFEST version
// edit sets, if it sets one. Pebble encodes it first, after the comparator
// name when there is one, so the rest of the edit need not be decoded.
func editLogNum(rec []byte) (uint64, bool) {
	tag, n := binary.Uvarint(rec)
	if n <= 0 {
		return 0, false
	}
	rec = rec[n:]
	if tag == editTagComparator {
		l, n := binary.Uvarint(rec)
		if n <= 0 || l > uint64(len(rec)-n) {
			return 0, false
		}
		rec = rec[n+int(l):]
		if tag, n = binary.Uvarint(rec); n <= 0 {
			return 0, false
		}
		rec = rec[n:]
	}
	if tag != editTagLogNumber {
		return 0, false
	}
	v, n := binary.Uvarint(rec)
	return v, n > 0 && v != 0
}
