package s3api

import (
	"crypto/sha1"
	"crypto/sha256"
	"hash"
	"hash/crc32"
	"hash/crc64"

	"github.com/cairn-s3/cairn/internal/store"
)

// checksumAlgorithm is one of S3's x-amz-checksum-* algorithms.
type checksumAlgorithm struct {
	new  func() hash.Hash
	size int // bytes of the digest
}

// crc64NVME is the CRC-64/NVME table: reflected polynomial
// 0x9a6c9329ac4bc9b5; hash/crc64 applies the all-ones init and final xor it
// needs.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

var crc32C = crc32.MakeTable(crc32.Castagnoli)

// checksumAlgorithms maps the upper-case algorithm names S3 uses.
var checksumAlgorithms = map[string]checksumAlgorithm{
	store.ChecksumCRC32:     {func() hash.Hash { return crc32.NewIEEE() }, 4},
	store.ChecksumCRC32C:    {func() hash.Hash { return crc32.New(crc32C) }, 4},
	store.ChecksumCRC64NVME: {func() hash.Hash { return crc64.New(crc64NVME) }, 8},
	store.ChecksumSHA1:      {sha1.New, sha1.Size},
	store.ChecksumSHA256:    {sha256.New, sha256.Size},
}
