package sse

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func randBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func encrypt(t testing.TB, plain, key, nonce []byte) []byte {
	r, err := NewReader(bytes.NewReader(plain), key, nonce, 0)
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestReaderOffsets(t *testing.T) {
	key, nonce := NewDataKey(), NewNonce()
	plain := randBytes(t, 1000)
	ct := encrypt(t, plain, key, nonce)
	if bytes.Equal(ct, plain) {
		t.Fatal("ciphertext equals plaintext")
	}
	for _, off := range []int{0, 1, 15, 16, 17, 500, 999, 1000} {
		r, err := NewReader(bytes.NewReader(ct[off:]), key, nonce, int64(off))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(r)
		if !bytes.Equal(got, plain[off:]) {
			t.Errorf("offset %d: decrypted bytes differ", off)
		}
	}
}

func TestSegmentsReader(t *testing.T) {
	key := NewDataKey()
	sizes := []int{33, 16, 1, 100, 0, 7}
	var plain, ct []byte
	var segs []Segment
	for _, n := range sizes {
		p, nonce := randBytes(t, n), NewNonce()
		plain = append(plain, p...)
		ct = append(ct, encrypt(t, p, key, nonce)...)
		segs = append(segs, Segment{Size: int64(n), Nonce: nonce})
	}
	for off := 0; off <= len(plain); off++ {
		for _, length := range []int{1, 17, len(plain)} {
			end := min(off+length, len(plain))
			r, err := NewSegmentsReader(bytes.NewReader(ct[off:end]), key, segs, int64(off))
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(iotestOneByte(r, off))
			if err != nil {
				t.Fatalf("off %d: %v", off, err)
			}
			if !bytes.Equal(got, plain[off:end]) {
				t.Fatalf("off %d len %d: decrypted bytes differ", off, length)
			}
		}
	}
	r, _ := NewSegmentsReader(bytes.NewReader(append(ct, 1)), key, segs, 0)
	if _, err := io.ReadAll(r); !errors.Is(err, ErrSegments) {
		t.Errorf("extra byte: got %v, want ErrSegments", err)
	}
}

// iotestOneByte alternates small and large reads to cross boundaries mid-read.
func iotestOneByte(r io.Reader, seed int) io.Reader {
	if seed%2 == 0 {
		return r
	}
	return &oneByte{r}
}

type oneByte struct{ r io.Reader }

func (o *oneByte) Read(p []byte) (int, error) { return o.r.Read(p[:min(len(p), 1)]) }

func TestWrap(t *testing.T) {
	kek, dk := NewDataKey(), NewDataKey()
	w, err := Wrap(kek, dk, []byte("AES256"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Unwrap(kek, w, []byte("AES256"))
	if err != nil || !bytes.Equal(got, dk) {
		t.Fatalf("unwrap: %v", err)
	}
	if _, err := Unwrap(NewDataKey(), w, []byte("AES256")); !errors.Is(err, ErrWrongKey) {
		t.Errorf("wrong key: got %v", err)
	}
	if _, err := Unwrap(kek, w, []byte("aws:kms")); !errors.Is(err, ErrWrongKey) {
		t.Errorf("wrong context: got %v", err)
	}
	if _, err := Unwrap(kek, "!!", nil); !errors.Is(err, ErrBadEncoded) {
		t.Errorf("garbage: got %v", err)
	}
}

func TestKeyring(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sse.key")
	k1, err := LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v", err, fi.Mode())
	}
	k2, err := LoadOrCreateKeyring(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1.S3Key(), k2.S3Key()) || !bytes.Equal(k1.KMSKey("a"), k2.KMSKey("a")) {
		t.Error("reloaded keyring derives other keys")
	}
	if bytes.Equal(k1.KMSKey("testkey-1"), k1.KMSKey("testkey-2")) || bytes.Equal(k1.S3Key(), k1.KMSKey("")) {
		t.Error("derived keys collide")
	}
	if err := os.WriteFile(path, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKeyring(path); err == nil {
		t.Error("malformed key file accepted")
	}
}

func BenchmarkEncrypt(b *testing.B) {
	key, nonce := NewDataKey(), NewNonce()
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		r, _ := NewReader(bytes.NewReader(buf), key, nonce, 0)
		if _, err := io.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSegmentsDecrypt(b *testing.B) {
	key := NewDataKey()
	segs := []Segment{{Size: 512 << 10, Nonce: NewNonce()}, {Size: 512 << 10, Nonce: NewNonce()}}
	buf := make([]byte, 1<<20)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		r, _ := NewSegmentsReader(bytes.NewReader(buf), key, segs, 0)
		if _, err := io.Copy(io.Discard, r); err != nil {
			b.Fatal(err)
		}
	}
}
