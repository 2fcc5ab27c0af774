package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/cairn-s3/cairn/internal/store"
)

// ScrubOptions tune a scrub.
type ScrubOptions struct {
	// Rate bounds the bytes read per second; 0 means as fast as the disk
	// allows.
	Rate int64
	// UpgradeLegacy rewrites legacy data files (written before data files
	// had checksums) with a header and checksums (see upgradeLegacy).
	UpgradeLegacy bool
}

// maxScrubListed bounds the damaged and legacy files a report lists (the
// counts stay exact), so a badly damaged store cannot make a huge answer.
const maxScrubListed = 1000

// ScrubReport is what a scrub found.
type ScrubReport struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Objects is the number of object versions with data files checked;
	// Files and Bytes count their data files and body bytes.
	Objects int64 `json:"objects"`
	Files   int64 `json:"files"`
	Bytes   int64 `json:"bytes"`
	// DamagedCount counts every damaged file; Damaged lists the first
	// maxScrubListed.
	DamagedCount int64          `json:"damaged_count"`
	Damaged      []CorruptError `json:"damaged"`
	// LegacyCount counts files written before data files had checksums:
	// they cannot be verified (see README, Integrity).
	LegacyCount int64        `json:"legacy_count"`
	Legacy      []LegacyFile `json:"legacy"`
	// Upgraded counts the legacy files rewritten with checksums
	// (ScrubOptions.UpgradeLegacy); they are not counted as legacy.
	Upgraded int64 `json:"upgraded"`
}

// LegacyFile is a data file without a header and checksums.
type LegacyFile struct {
	Bucket    string `json:"bucket"`
	Key       string `json:"key"`
	VersionID string `json:"version_id"`
	File      string `json:"file"`
}

// Scrub verifies every block of every object version's data files and
// reports what is damaged. It reads through a consistent page of metadata
// at a time, so it holds no long-lived iterator and never blocks writes;
// versions deleted meanwhile are skipped. Inline bodies live in the
// metadata DB, whose blocks Pebble checksums itself.
func (s *Store) Scrub(ctx context.Context, opts ScrubOptions) (ScrubReport, error) {
	rep := ScrubReport{Started: time.Now().UTC(), Damaged: []CorruptError{}, Legacy: []LegacyFile{}}
	p := &pacer{rate: opts.Rate, start: time.Now()}
	bufp := s.blockPool.Get().(*[]byte)
	defer s.blockPool.Put(bufp)
	vs := map[string]store.Versioning{}
	from := append([]byte(nil), tagObject...)
	for from != nil {
		page, next, err := s.scrubPage(from, 256)
		if err != nil {
			return rep, err
		}
		for _, it := range page {
			if err := s.scrubVersion(ctx, it, vs, p, *bufp, opts.UpgradeLegacy, &rep); err != nil {
				return rep, err
			}
		}
		from = next
	}
	rep.Finished = time.Now().UTC()
	return rep, nil
}

// scrubItem is one version with data files.
type scrubItem struct {
	bucket, key string
	v           *version
}

// scrubPage reads up to n versions with data files from the object table,
// starting at from; next is where the following page starts (nil: done).
func (s *Store) scrubPage(from []byte, n int) (page []scrubItem, next []byte, err error) {
	it, err := s.db.NewIter(nil)
	if err != nil {
		return nil, nil, fmt.Errorf("local: %w", err)
	}
	defer it.Close()
	rows := 0
	for ok := it.SeekGE(from); ok && bytes.HasPrefix(it.Key(), tagObject); ok = it.Next() {
		if rows == n {
			return page, append([]byte(nil), it.Key()...), nil
		}
		rows++
		k := it.Key()
		bucket, _, _ := bytes.Cut(k[len(tagObject):], []byte{0})
		key, _, ok := splitKeyed(k, len(tagObject)+len(bucket)+1)
		if !ok {
			continue
		}
		val, err := it.ValueAndErr()
		if err != nil {
			return nil, nil, fmt.Errorf("local: %w", err)
		}
		v, err := decodeVersion(val)
		if err != nil {
			return nil, nil, err
		}
		if hasFiles(v.Blobs) {
			page = append(page, scrubItem{bucket: string(bucket), key: key, v: v})
		}
	}
	return page, nil, it.Error()
}

func hasFiles(blobs []blob) bool {
	for _, b := range blobs {
		if !b.Inline && b.Size > 0 {
			return true
		}
	}
	return false
}

// scrubVersion verifies one version's files, pinned so that a concurrent
// delete cannot remove them mid-read.
func (s *Store) scrubVersion(ctx context.Context, it scrubItem, vs map[string]store.Versioning, p *pacer, buf []byte,
	upgrade bool, rep *ScrubReport) error {
	s.pin(it.v.Seq)
	defer s.unpin(it.v.Seq)
	if _, ok, err := (reader{db: s.db}).get(versionKey(it.bucket, it.key, it.v.Seq)); err != nil || !ok {
		return err // deleted since the page was read: nothing to check
	}
	ver, ok := vs[it.bucket]
	if !ok {
		b, err := s.readBucket(reader{db: s.db}, it.bucket)
		if err != nil {
			return nil // bucket gone with the version
		}
		ver, vs[it.bucket] = b.Versioning, b.Versioning
	}
	ref := blobRef{bucket: it.bucket, key: it.key, versionID: it.v.id(ver)}
	rep.Objects++
	for _, b := range it.v.Blobs {
		if b.Inline || b.Size == 0 {
			continue
		}
		rep.Files++
		err := s.verifyBlob(ctx, b, ref, p, buf)
		var ce *CorruptError
		switch {
		case errors.As(err, &ce):
			rep.DamagedCount++
			if len(rep.Damaged) < maxScrubListed {
				rep.Damaged = append(rep.Damaged, *ce)
			}
		case errors.Is(err, errLegacy) && upgrade:
			if err := s.upgradeLegacy(ctx, it.bucket, it.key, it.v.Seq, b, p); err != nil {
				return fmt.Errorf("local: upgrade legacy data file %s: %w", s.relDataPath(b.Seq), err)
			}
			rep.Upgraded++
			rep.Bytes += b.Size
		case errors.Is(err, errLegacy):
			rep.LegacyCount++
			if len(rep.Legacy) < maxScrubListed {
				rep.Legacy = append(rep.Legacy, LegacyFile{Bucket: ref.bucket, Key: ref.key,
					VersionID: ref.versionID, File: s.relDataPath(b.Seq)})
			}
		case err != nil:
			return err
		default:
			rep.Bytes += b.Size
		}
	}
	return nil
}

var errLegacy = errors.New("local: legacy data file")

// verifyBlob reads a data file through, checking its header and every
// block. Legacy files are only checked to exist with the right size.
func (s *Store) verifyBlob(ctx context.Context, b blob, ref blobRef, p *pacer, buf []byte) error {
	f, err := s.fs.Open(s.dataPath(b.Seq))
	if errors.Is(err, fs.ErrNotExist) {
		return s.corrupt(b, ref, -1, "data file missing")
	}
	if err != nil {
		return fmt.Errorf("local: open data: %w", err)
	}
	defer f.Close()
	if b.Format == 0 {
		var one [1]byte
		if n, _ := f.ReadAt(one[:], b.Size-1); n != 1 {
			return s.corrupt(b, ref, -1, "legacy data file truncated")
		}
		return errLegacy
	}
	hb := buf[:4096]
	n, err := f.ReadAt(hb, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return s.corrupt(b, ref, -1, "read header: "+err.Error())
	}
	h, err := parseHeader(hb[:n])
	if err == nil && h.Seq != b.Seq {
		err = fmt.Errorf("header names file %016x", h.Seq)
	}
	if err != nil {
		return s.corrupt(b, ref, -1, err.Error())
	}
	ref.part = h.Part
	br := &blockReader{f: f, hdr: int64(h.Len), size: b.Size, end: b.Size, buf: buf,
		bad: func(block int64, reason string) error { return s.corrupt(b, ref, block, reason) }}
	for br.pos < br.end {
		if err := br.fill(); err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) {
				return s.corrupt(b, ref, br.pos/dataBlockSize, err.Error())
			}
			return err
		}
		next := min(br.end, (br.first+br.count)*dataBlockSize)
		n := next - br.pos
		br.pos = next
		if err := p.wait(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// pacer spreads reads over time so that they average at most rate bytes
// per second.
type pacer struct {
	rate  int64
	start time.Time
	done  int64
}

func (p *pacer) wait(ctx context.Context, n int64) error {
	if p.rate <= 0 {
		return ctx.Err()
	}
	p.done += n
	due := p.start.Add(time.Duration(float64(p.done) / float64(p.rate) * float64(time.Second)))
	d := time.Until(due)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
