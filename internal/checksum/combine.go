package checksum

import (
	"encoding/binary"
	"hash/crc32"

	"github.com/cairn-s3/cairn/internal/store"
)

// CRC combination: the CRC of A‖B follows from crc(A), crc(B) and len(B)
// alone, so a FULL_OBJECT checksum of a multipart object is computed from
// its parts' CRCs without reading the data again (zlib's crc32_combine).
//
// The three CRCs S3 uses are reflected and start and end with all ones; for
// such a CRC, crc(A‖B) = crc(A)·x^(8·len(B)) mod P ⊕ crc(B). Polynomials
// are held bit-reversed (x^0 in the top bit), as the table-driven CRCs use
// them. One combination costs O(log len(B)) polynomial products of at most
// 64 steps each: about 0.3 µs (CRC32) to 0.7 µs (CRC64NVME) for a 5 MiB
// part (BenchmarkCombine), under 10 ms for a 10,000-part upload.

// crcPoly is a reflected CRC polynomial of width ≤ 64 with its table of
// x^(2^k) mod P.
type crcPoly struct {
	poly  uint64     // the polynomial, bit-reversed, without its x^width term
	one   uint64     // the polynomial "1" (x^0) in reflected form: 1<<(width-1)
	x2n   [67]uint64 // x^(2^k) mod P for every k an int64 length needs
	width int
}

func newCRCPoly(reversed uint64, width int) *crcPoly {
	c := &crcPoly{poly: reversed, one: 1 << (width - 1), width: width}
	p := c.one >> 1 // x^1
	c.x2n[0] = p
	for k := 1; k < len(c.x2n); k++ {
		p = c.mulMod(p, p)
		c.x2n[k] = p
	}
	return c
}

// mulMod returns a·b mod P.
func (c *crcPoly) mulMod(a, b uint64) uint64 {
	var p uint64
	for m := c.one; m != 0; m >>= 1 {
		if a&m != 0 {
			p ^= b
			if a&(m-1) == 0 {
				break
			}
		}
		if b&1 != 0 {
			b = b>>1 ^ c.poly
		} else {
			b >>= 1
		}
	}
	return p
}

// xPow8n returns x^(8n) mod P.
func (c *crcPoly) xPow8n(n int64) uint64 {
	p := c.one
	for k := 3; n > 0; n, k = n>>1, k+1 {
		if n&1 != 0 {
			p = c.mulMod(c.x2n[k], p)
		}
	}
	return p
}

// combine returns the CRC of A‖B given crc1 = crc(A), crc2 = crc(B) and
// len2 = len(B).
func (c *crcPoly) combine(crc1, crc2 uint64, len2 int64) uint64 {
	return c.mulMod(c.xPow8n(len2), crc1) ^ crc2
}

var (
	crc32Combiner     = newCRCPoly(crc32.IEEE, 32)
	crc32CCombiner    = newCRCPoly(crc32.Castagnoli, 32)
	crc64NVMECombiner = newCRCPoly(crc64NVMEPoly, 64)
)

// combinable returns the polynomial of a CRC algorithm, nil for others.
func combinable(algo string) *crcPoly {
	switch algo {
	case store.ChecksumCRC32:
		return crc32Combiner
	case store.ChecksumCRC32C:
		return crc32CCombiner
	case store.ChecksumCRC64NVME:
		return crc64NVMECombiner
	}
	return nil
}

// Combinable reports whether algo's checksum of a whole object can be
// combined from its parts' checksums: the CRCs, which S3 allows as
// FULL_OBJECT checksums.
func Combinable(algo string) bool { return combinable(algo) != nil }

// Combine returns the raw checksum of A‖B from the raw big-endian checksums
// sum1 of A and sum2 of B and the length of B. It fails for an algorithm
// that is not Combinable or digests of the wrong size.
func Combine(algo string, sum1, sum2 []byte, len2 int64) ([]byte, error) {
	c := combinable(algo)
	if c == nil {
		return nil, ErrUnknownAlgorithm
	}
	n := c.width / 8
	if len(sum1) != n || len(sum2) != n || len2 < 0 {
		return nil, errBadDigest
	}
	v := c.combine(readBE(sum1), readBE(sum2), len2)
	if n == 4 {
		return binary.BigEndian.AppendUint32(nil, uint32(v)), nil
	}
	return binary.BigEndian.AppendUint64(nil, v), nil
}

func readBE(b []byte) uint64 {
	if len(b) == 4 {
		return uint64(binary.BigEndian.Uint32(b))
	}
	return binary.BigEndian.Uint64(b)
}
