// MD5 of small request documents (DeleteObjects, object lock, CORS …) for
// their Content-MD5 header, which S3 requires there. WebCrypto has no MD5 and
// is missing on plain-HTTP origins other than loopback, so this is a small
// RFC 1321 implementation; it is never used for object data.

const S = [7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
  5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
  4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
  6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21];
const K = Array.from({ length: 64 }, (_, i) => Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) >>> 0);

// md5 returns the 16-byte digest of bytes (a Uint8Array).
export function md5(bytes) {
  const len = bytes.length;
  const padded = new Uint8Array(((len + 8) >>> 6) * 64 + 64);
  padded.set(bytes);
  padded[len] = 0x80;
  const dv = new DataView(padded.buffer);
  dv.setUint32(padded.length - 8, (len * 8) >>> 0, true);
  dv.setUint32(padded.length - 4, Math.floor(len / 2 ** 29), true);
  let a0 = 0x67452301; let b0 = 0xefcdab89; let c0 = 0x98badcfe; let d0 = 0x10325476;
  const M = new Uint32Array(16);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i += 1) M[i] = dv.getUint32(off + i * 4, true);
    let A = a0; let B = b0; let C = c0; let D = d0;
    for (let i = 0; i < 64; i += 1) {
      let F; let g;
      if (i < 16) { F = (B & C) | (~B & D); g = i; }
      else if (i < 32) { F = (D & B) | (~D & C); g = (5 * i + 1) % 16; }
      else if (i < 48) { F = B ^ C ^ D; g = (3 * i + 5) % 16; }
      else { F = C ^ (B | ~D); g = (7 * i) % 16; }
      F = (F + A + K[i] + M[g]) >>> 0;
      A = D; D = C; C = B;
      B = (B + ((F << S[i]) | (F >>> (32 - S[i])))) >>> 0;
    }
    a0 = (a0 + A) >>> 0; b0 = (b0 + B) >>> 0; c0 = (c0 + C) >>> 0; d0 = (d0 + D) >>> 0;
  }
  const out = new Uint8Array(16);
  const ov = new DataView(out.buffer);
  [a0, b0, c0, d0].forEach((v, i) => ov.setUint32(i * 4, v, true));
  return out;
}

// contentMD5 is the base64 MD5 of a string's UTF-8 bytes.
export function contentMD5(text) {
  const d = md5(new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...d));
}

// md5Hex is the hex MD5 of a string (used by tests and for display).
export function md5Hex(text) {
  return Array.from(md5(new TextEncoder().encode(text)), (b) => b.toString(16).padStart(2, '0')).join('');
}

// CRC-32 (IEEE) table, for x-amz-checksum-crc32: S3 accepts it wherever it
// requires Content-MD5 (DeleteObjects, object lock), and as an x-amz-*
// header it needs no special case in the console's forwarder.
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

// checksumCRC32 is the base64 big-endian CRC-32 of a string's UTF-8 bytes.
export function checksumCRC32(text) {
  let c = 0xffffffff;
  for (const b of new TextEncoder().encode(text)) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  c = (c ^ 0xffffffff) >>> 0;
  return btoa(String.fromCharCode(c >>> 24, (c >>> 16) & 0xff, (c >>> 8) & 0xff, c & 0xff));
}
