package transfer

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
)

// uploadState is what a resumed upload needs: it is saved after every part
// and removed when the upload completes.
type uploadState struct {
	Bucket   string           `json:"bucket"`
	Key      string           `json:"key"`
	UploadID string           `json:"upload_id"`
	PartSize int64            `json:"part_size"`
	Size     int64            `json:"size"`
	MtimeNs  int64            `json:"mtime_ns"`
	Parts    map[int32]string `json:"parts"` // part number → ETag (hex MD5)

	mu   sync.Mutex
	path string
}

// statePath is the state file of an upload of src to bucket/key.
func (c *Client) statePath(src, bucket, key string) (string, error) {
	dir := c.opts.StateDir
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			return "", err
		}
		dir = filepath.Join(cache, "cairn", "uploads")
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(abs + "\x00" + bucket + "\x00" + key))
	return filepath.Join(dir, hex.EncodeToString(sum[:16])+".json"), nil
}

// loadState reads a state file; a missing or unreadable one is no state.
func loadState(path string) *uploadState {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var s uploadState
	if json.Unmarshal(b, &s) != nil {
		return nil
	}
	s.path = path
	if s.Parts == nil {
		s.Parts = map[int32]string{}
	}
	return &s
}

// done records a finished part and saves the state (temp file + rename).
func (s *uploadState) done(part int32, etag string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Parts[part] = etag
	return s.saveLocked()
}

func (s *uploadState) save() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saveLocked()
}

func (s *uploadState) saveLocked() error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return err
	}
	tmp := s.path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, s.path)
}

// remove deletes the state file; a stale one would be harmless anyway, as
// its upload id is checked with ListParts before use.
func (s *uploadState) remove() { _ = os.Remove(s.path) }
