package local

import (
	"context"
	"fmt"
	"io"
)

// upgradeLegacy rewrites a legacy (format 0) data file of version vseq in
// format 1 under a new sequence number and swaps the version's reference
// to it in one synced commit; the old file is removed after the commit, or
// when its last reader closes. A crash before the commit leaves an
// unreferenced new file, after it an unreferenced old one: Open removes
// either. The bytes cannot be verified (legacy files have no checksums):
// they are checksummed as they are.
func (s *Store) upgradeLegacy(ctx context.Context, bucket, key string, vseq uint64, old blob, p *pacer) error {
	f, err := s.fs.Open(s.dataPath(old.Seq))
	if err != nil {
		return fmt.Errorf("local: open data: %w", err)
	}
	defer f.Close()
	seq, err := s.nextSeq()
	if err != nil {
		return err
	}
	hdr := dataHeader{Bucket: bucket, Key: key, Seq: seq}
	body := &pacedReader{ctx: ctx, r: io.NewSectionReader(f, 0, old.Size), p: p}
	n, err := s.writeFile(ctx, &hdr, nil, body, old.Size, io.Discard)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			s.removeFile(seq)
		}
	}()
	t := s.newTxn(ctx)
	defer t.close()
	bl := s.bucketLock(bucket)
	bl.RLock()
	defer bl.RUnlock()
	mu := s.keyLock(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	v, err := s.versionBySeq(reader{db: s.db}, bucket, key, vseq)
	if err != nil || v == nil {
		return err // deleted meanwhile: nothing to upgrade
	}
	found := false
	for i, b := range v.Blobs {
		if b.Seq == old.Seq && !b.Inline && b.Format == 0 {
			v.Blobs[i] = blob{Seq: seq, Size: n, Format: dataFormat}
			found = true
		}
	}
	if !found {
		return nil
	}
	if err := t.setJSON(versionKey(bucket, key, vseq), v); err != nil {
		return err
	}
	if err := t.b.Set(seqKey(tagFile, seq), nil, nil); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	if err := t.b.Delete(seqKey(tagFile, old.Seq), nil); err != nil {
		return fmt.Errorf("local: %w", err)
	}
	t.onCommit(func() { s.release(vseq, []blob{old}) })
	if err := t.commit(); err != nil {
		return err
	}
	committed = true
	return nil
}

// pacedReader reads at the scrub's rate.
type pacedReader struct {
	ctx context.Context
	r   io.Reader
	p   *pacer
}

func (r *pacedReader) Read(b []byte) (int, error) {
	n, err := r.r.Read(b)
	if werr := r.p.wait(r.ctx, int64(n)); werr != nil && err == nil {
		err = werr
	}
	return n, err
}
