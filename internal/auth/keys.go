package auth

import (
	"crypto/sha256"
	"hash"
	"sync"
)

// macState holds the buffers of one HMAC-SHA256 computation. The standard
// crypto/hmac allocates a fresh pair of hashes per key; signing keys change
// per request, so a pooled hand-rolled HMAC keeps verification
// allocation-free.
type macState struct {
	h    hash.Hash
	pad  [sha256.BlockSize]byte
	sum  [sha256.Size]byte
	buf  []byte // scratch for canonical requests and strings to sign
	buf2 []byte // what is fed to h, so callers' buffers need not escape
}

var macPool = sync.Pool{New: func() any {
	return &macState{h: sha256.New(), buf: make([]byte, 0, 1024), buf2: make([]byte, 0, 256)}
}}

func getMAC() *macState { return macPool.Get().(*macState) }
func putMAC(s *macState) {
	if cap(s.buf) > 64<<10 || cap(s.buf2) > 64<<10 { // do not keep huge canonical requests alive
		s.buf, s.buf2 = make([]byte, 0, 1024), make([]byte, 0, 256)
	}
	macPool.Put(s)
}

// hmac computes HMAC-SHA256(key, msg) into out. Keys longer than a block
// are hashed first, as RFC 2104 says. Only s's own buffers reach the hash
// (an interface), so key, msg and out do not escape to the heap.
func (s *macState) hmac(out *[32]byte, key, msg []byte) {
	if len(key) > sha256.BlockSize {
		s.buf2 = append(s.buf2[:0], key...)
		s.h.Reset()
		s.h.Write(s.buf2)
		key = s.h.Sum(s.sum[:0])
	}
	for i := range s.pad {
		s.pad[i] = 0x36
	}
	for i, b := range key {
		s.pad[i] ^= b
	}
	s.buf2 = append(s.buf2[:0], msg...)
	s.h.Reset()
	s.h.Write(s.pad[:])
	s.h.Write(s.buf2)
	s.h.Sum(s.sum[:0])
	for i := range s.pad {
		s.pad[i] ^= 0x36 ^ 0x5c
	}
	s.h.Reset()
	s.h.Write(s.pad[:])
	s.h.Write(s.sum[:])
	s.h.Sum(s.sum[:0])
	*out = s.sum
}

// sha256Hex appends the hex sha256 of msg to dst.
func (s *macState) sha256Hex(dst, msg []byte) []byte {
	s.h.Reset()
	s.h.Write(msg)
	return appendHex(dst, s.h.Sum(s.sum[:0]))
}

const hexDigits = "0123456789abcdef"

func appendHex(dst, b []byte) []byte {
	for _, c := range b {
		dst = append(dst, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return dst
}

// decodeHex32 decodes 64 lower- or upper-case hex digits.
func decodeHex32(out *[32]byte, s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := range out {
		hi, ok1 := unhex(s[2*i])
		lo, ok2 := unhex(s[2*i+1])
		if !ok1 || !ok2 {
			return false
		}
		out[i] = hi<<4 | lo
	}
	return true
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// keyID names a derived SigV4 signing key.
type keyID struct{ secret, date, region, service string }

// maxCachedKeys bounds the signing-key cache; a full cache is simply
// dropped (keys change daily, so a stale generation costs one derivation
// per active key).
const maxCachedKeys = 4096

// keyCache memoises SigV4 signing keys, whose derivation costs four HMACs,
// per (secret, date, region, service).
type keyCache struct {
	mu sync.RWMutex
	m  map[keyID][32]byte
}

// signingKey returns the SigV4 signing key for the scope.
func (c *keyCache) signingKey(s *macState, secret, date, region, service string) [32]byte {
	id := keyID{secret, date, region, service}
	c.mu.RLock()
	k, ok := c.m[id]
	c.mu.RUnlock()
	if ok {
		return k
	}
	k = deriveKey(s, secret, date, region, service)
	// Clone: the strings may be slices of a large header we must not pin.
	id = keyID{string([]byte(secret)), string([]byte(date)), string([]byte(region)), string([]byte(service))}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= maxCachedKeys {
		c.m = make(map[keyID][32]byte)
	}
	c.m[id] = k
	c.mu.Unlock()
	return k
}

// deriveKey computes the SigV4 signing key:
// HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request").
func deriveKey(s *macState, secret, date, region, service string) [32]byte {
	var k [32]byte
	seed := append(append(make([]byte, 0, 4+len(secret)), "AWS4"...), secret...)
	s.hmac(&k, seed, []byte(date))
	clear(seed)
	s.hmac(&k, k[:], []byte(region))
	s.hmac(&k, k[:], []byte(service))
	s.hmac(&k, k[:], []byte("aws4_request"))
	return k
}
