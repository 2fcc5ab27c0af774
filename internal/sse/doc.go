// Package sse is the cryptography of Cairn's server-side encryption: data
// keys, their wrapping under a key-encryption key, and streaming encrypt /
// decrypt readers. It knows nothing of HTTP or S3 headers; the S3 adapter
// decides which key-encryption key applies (a customer key for SSE-C, a
// key derived from the server's master key for SSE-S3 and for the testing
// KMS of SSE-KMS) and records what this package returns in the object's
// metadata.
//
// Objects are encrypted with AES-256 in CTR mode under a random per-object
// data key. CTR keeps the ciphertext exactly as long as the plaintext, so
// sizes, ranges and part boundaries of the stored object are those of the
// plaintext, and a reader can start decrypting at any byte offset: ranged
// GETs and partNumber GETs cost no more than plain ones. Every independently
// encrypted segment (a single-PUT object, or each part of a multipart
// object) has its own random 96-bit nonce; the low 32 bits of the counter
// block count 16-byte blocks within the segment, enough for the 5 GiB S3
// allows per segment. A re-uploaded part gets a fresh nonce, so no key
// stream is ever reused.
//
// The data key itself is sealed with AES-256-GCM under the key-encryption
// key, with the encryption mode bound as additional data, so a wrong key is
// detected before a single byte is decrypted. CTR alone does not
// authenticate the stored bytes; integrity of data at rest is the storage
// layer's concern (the local store keeps md5 ETags of what it stored).
//
// Memory use is constant: readers transform data as it streams.
package sse
