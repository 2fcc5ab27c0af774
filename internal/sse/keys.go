package sse

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// KeySize is the size in bytes of every key this package uses (AES-256).
const KeySize = 32

// NonceSize is the size in bytes of a segment nonce.
const NonceSize = 12

// Errors of key handling. ErrWrongKey is what a wrong customer key, a
// wrong KMS key id or a damaged wrapped key all look like.
var (
	ErrWrongKey   = errors.New("sse: data key does not open with this key")
	ErrKeySize    = errors.New("sse: key must be 32 bytes")
	ErrBadEncoded = errors.New("sse: malformed encoded value")
)

// Keyring holds the server's master key and derives the key-encryption
// keys of SSE-S3 and of the testing KMS from it.
type Keyring struct {
	master []byte
}

// NewKeyring returns a keyring over a 32-byte master key.
func NewKeyring(master []byte) (*Keyring, error) {
	if len(master) != KeySize {
		return nil, ErrKeySize
	}
	return &Keyring{master: append([]byte(nil), master...)}, nil
}

// LoadOrCreateKeyring reads the master key file at path, creating it with a
// fresh random key (mode 0600, written to a temporary file, synced and
// renamed) when it does not exist yet.
func LoadOrCreateKeyring(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		if b, err = createKeyFile(path); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("sse: read master key: %w", err)
	}
	k, err := decodeKey(b)
	if err != nil {
		return nil, fmt.Errorf("sse: master key %s: %w", path, err)
	}
	return NewKeyring(k)
}

func createKeyFile(path string) ([]byte, error) {
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	enc := []byte(base64.StdEncoding.EncodeToString(key) + "\n")
	tmp, err := os.CreateTemp(filepath.Dir(path), ".sse-key-*")
	if err != nil {
		return nil, fmt.Errorf("sse: create master key: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	// One err for every step, so that a failed chmod, write or fsync is
	// never followed by linking a partial key into place.
	if err = tmp.Chmod(0o600); err == nil {
		if _, err = tmp.Write(enc); err == nil {
			err = tmp.Sync()
		}
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Link fails if another process created the key meanwhile; then
		// its key wins and is read back.
		if err = os.Link(tmp.Name(), path); errors.Is(err, fs.ErrExist) {
			return os.ReadFile(path)
		}
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		return nil, fmt.Errorf("sse: create master key: %w", err)
	}
	return enc, nil
}

func decodeKey(b []byte) ([]byte, error) {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	k, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil {
		return nil, ErrBadEncoded
	}
	if len(k) != KeySize {
		return nil, ErrKeySize
	}
	return k, nil
}

// S3Key returns the key-encryption key of SSE-S3.
func (k *Keyring) S3Key() []byte { return k.derive("cairn sse-s3") }

// KMSKey returns the key-encryption key of a KMS key id. Like RGW's
// "testing" KMS backend it needs no external service: the key is derived
// from the master key and the id, so every id names a distinct, stable key.
func (k *Keyring) KMSKey(id string) []byte { return k.derive("cairn sse-kms testing\x00" + id) }

func (k *Keyring) derive(label string) []byte {
	m := hmac.New(sha256.New, k.master)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// NewDataKey returns a fresh random data key.
func NewDataKey() []byte {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		panic("sse: crypto/rand failed: " + err.Error()) // never fails on supported platforms
	}
	return k
}

// NewNonce returns a fresh random segment nonce.
func NewNonce() []byte {
	n := make([]byte, NonceSize)
	if _, err := rand.Read(n); err != nil {
		panic("sse: crypto/rand failed: " + err.Error())
	}
	return n
}

// Wrap seals a data key under a key-encryption key, binding context (for
// example the mode and key id) as additional data. The result is base64.
func Wrap(kek, dataKey, context []byte) (string, error) {
	g, err := newGCM(kek)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, g.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(g.Seal(nonce, nonce, dataKey, context)), nil
}

// Unwrap opens a data key sealed by Wrap; a wrong key or context fails
// with ErrWrongKey.
func Unwrap(kek []byte, wrapped string, context []byte) ([]byte, error) {
	g, err := newGCM(kek)
	if err != nil {
		return nil, err
	}
	b, err := base64.StdEncoding.DecodeString(wrapped)
	if err != nil || len(b) < g.NonceSize()+g.Overhead() {
		return nil, ErrBadEncoded
	}
	k, err := g.Open(nil, b[:g.NonceSize()], b[g.NonceSize():], context)
	if err != nil {
		return nil, ErrWrongKey
	}
	return k, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, ErrKeySize
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

// EncodeNonce and DecodeNonce convert a nonce to and from its stored form.
func EncodeNonce(n []byte) string { return base64.StdEncoding.EncodeToString(n) }

// DecodeNonce parses a nonce stored by EncodeNonce.
func DecodeNonce(s string) ([]byte, error) {
	n, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(n) != NonceSize {
		return nil, ErrBadEncoded
	}
	return n, nil
}

// syncDir makes a new directory entry (the linked key file) durable: a key
// lost in a power cut would make every SSE-S3 object unreadable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
