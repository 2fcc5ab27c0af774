package checksum

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// TestCombineMatchesWholeData checks Combine against the CRC of the
// concatenated bytes, for every CRC, across splits that include empty
// pieces and lengths that are not multiples of the word size.
func TestCombineMatchesWholeData(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 300_000)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	sum := func(algo string, b []byte) []byte {
		h, _ := New(algo)
		h.Write(b)
		return h.Sum(nil)
	}
	for _, algo := range []string{"CRC32", "CRC32C", "CRC64NVME"} {
		for _, cut := range []int{0, 1, 7, 8, 4096, 150_001, len(data) - 1, len(data)} {
			got, err := Combine(algo, sum(algo, data[:cut]), sum(algo, data[cut:]), int64(len(data)-cut))
			if err != nil {
				t.Fatal(err)
			}
			if want := sum(algo, data); !bytes.Equal(got, want) {
				t.Errorf("%s cut %d: got %x, want %x", algo, cut, got, want)
			}
		}
	}
	if _, err := Combine("SHA256", nil, nil, 1); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("Combine(SHA256) err = %v", err)
	}
	if _, err := Combine("CRC32", []byte{1}, []byte{1, 2, 3, 4}, 1); err == nil {
		t.Error("Combine accepted a short digest")
	}
}

// The parts of the ceph/s3-tests checksum helpers (5 MiB of 'A', 'B' and
// 'C') with the part and object values those tests hold, which RGW
// computed; and the SHA256 composite S3 itself returned for three parts
// (the values a Floci bug report captured from S3, eu-west-1).
func TestMultipartPublishedVectors(t *testing.T) {
	const mib5 = 5 << 20
	tests := []struct {
		algo, typ string
		parts     []string
		want      string
	}{
		{"CRC32", TypeFullObject, []string{"JRTCyQ==", "QoZTGg==", "YAgjqw=="}, "WgDhBQ=="},
		{"CRC32C", TypeFullObject, []string{"MDaLrw==", "TH4EZg==", "Z7mBIQ=="}, "xU+Krw=="},
		{"CRC64NVME", TypeFullObject, []string{"L/E4WYn8v98=", "xW1l19VobYM=", "cK5MnNaWrW4="}, "i+6LR0y3eFo="},
		{"SHA256", TypeComposite, []string{"275VF5loJr1YYawit0XSHREhkFXYkkPKGuoK0x9VKxI=", "mrHwOfjTL5Zwfj74F05HOQGLdUb7E5szdCbxgUSq6NM=", "Vw7oB/nKQ5xWb3hNgbyfkvDiivl+U+/Dft48nfJfDow="}, "uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3"},
		{"SHA1", TypeComposite, []string{"iIaTCGbm+vdVjNqIMF2S0T7ibMk=", "LS/TJ32bAVKEwRu+sE3X7awh/lk=", "6DDwovUaHwrKNXDMzOGbuvj9kxI="}, "sizjvY4eud3MrcHdZM3cQ/ol39o=-3"},
		{"SHA256", TypeComposite, []string{"lcKa6Boe7a167tUCN5C4OaFygGSYD8MBnBARTrdL+1w=", "gHjhbUT4oo2tSCtSZJdlKi+jeNXJT+VImqdPXsXvkOc=", "4l9PQ3zOPZ0oGFvknFX+J4zZwE4WMzO+l3r8XrbWOeM="}, "rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc=-3"},
	}
	for _, tt := range tests {
		t.Run(tt.algo+"/"+tt.want, func(t *testing.T) {
			parts := make([]PartChecksum, len(tt.parts))
			for i, v := range tt.parts {
				parts[i] = PartChecksum{Value: v, Size: mib5}
			}
			got, err := Multipart(tt.algo, tt.typ, parts)
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	// The part values themselves, from the data.
	for _, tt := range tests[:3] {
		for i, c := range "ABC" {
			h, _ := New(tt.algo)
			h.Write(bytes.Repeat([]byte{byte(c)}, mib5))
			if got := Encode(h.Sum(nil)); got != tt.parts[i] {
				t.Errorf("%s of 5 MiB %c = %s, want %s", tt.algo, c, got, tt.parts[i])
			}
		}
	}
}

func TestMultipartErrors(t *testing.T) {
	if _, err := Multipart("CRC32", TypeComposite, []PartChecksum{{Value: "JRTCyQ=="}, {}}); !errors.Is(err, ErrMissingPartChecksum) {
		t.Errorf("missing part: err = %v", err)
	}
	if _, err := Multipart("CRC32", TypeFullObject, nil); !errors.Is(err, ErrMissingPartChecksum) {
		t.Errorf("no parts: err = %v", err)
	}
	if _, err := Multipart("SHA256", TypeFullObject, []PartChecksum{{Value: "275VF5loJr1YYawit0XSHREhkFXYkkPKGuoK0x9VKxI="}, {Value: "275VF5loJr1YYawit0XSHREhkFXYkkPKGuoK0x9VKxI="}}); err == nil {
		t.Error("a full-object SHA256 was combined")
	}
	if _, err := Multipart("CRC32", TypeComposite, []PartChecksum{{Value: "not base64"}}); err == nil {
		t.Error("an invalid part value was accepted")
	}
}

func TestSameObjectChecksum(t *testing.T) {
	tests := []struct {
		given, computed, typ string
		want                 bool
	}{
		{"abc=-3", "abc=-3", TypeComposite, true},
		{"abc=", "abc=-3", TypeComposite, true},
		{"abc=-2", "abc=-3", TypeComposite, false},
		{"abd=", "abc=-3", TypeComposite, false},
		{"abc=", "abc=", TypeFullObject, true},
		{"abc=-3", "abc=", TypeFullObject, false},
	}
	for _, tt := range tests {
		if got := SameObjectChecksum(tt.given, tt.computed, tt.typ, 3); got != tt.want {
			t.Errorf("SameObjectChecksum(%q, %q, %s) = %v", tt.given, tt.computed, tt.typ, got)
		}
	}
}

func TestParseUpload(t *testing.T) {
	tests := []struct {
		algo, typ         string
		wantAlgo, wantTyp string
		wantMsg           string // "" for success
	}{
		{"", "", "", "", ""},
		{"CRC32", "", "CRC32", TypeComposite, ""},
		{"crc32c", "FULL_OBJECT", "CRC32C", TypeFullObject, ""},
		{"CRC64NVME", "", "CRC64NVME", TypeFullObject, ""},
		{"CRC64NVME", "FULL_OBJECT", "CRC64NVME", TypeFullObject, ""},
		{"SHA256", "COMPOSITE", "SHA256", TypeComposite, ""},
		{"SHA256", "FULL_OBJECT", "", "", "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm."},
		{"SHA1", "FULL_OBJECT", "", "", "The FULL_OBJECT checksum type cannot be used with the sha1 checksum algorithm."},
		{"CRC64NVME", "COMPOSITE", "", "", "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."},
		{"", "FULL_OBJECT", "", "", "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."},
		{"CRC32", "WHOLE", "", "", "Value for x-amz-checksum-type header is invalid."},
		{"MD5", "", "", "", "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]"},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.algo != "" {
			h.Set("X-Amz-Checksum-Algorithm", tt.algo)
		}
		if tt.typ != "" {
			h.Set("X-Amz-Checksum-Type", tt.typ)
		}
		algo, typ, err := ParseUpload(h)
		if tt.wantMsg != "" {
			if e := s3err.As(err); e == nil || e.Code != "InvalidRequest" || e.Status != 400 || e.Message != tt.wantMsg {
				t.Errorf("%s/%s: err = %v, want InvalidRequest %q", tt.algo, tt.typ, err, tt.wantMsg)
			}
			continue
		}
		if err != nil || algo != tt.wantAlgo || typ != tt.wantTyp {
			t.Errorf("%s/%s: got %s %s %v", tt.algo, tt.typ, algo, typ, err)
		}
	}
}

func TestParseComplete(t *testing.T) {
	ok := []struct {
		h    http.Header
		want Complete
	}{
		{hdr(), Complete{}},
		{hdr("X-Amz-Checksum-Type", "FULL_OBJECT", "X-Amz-Checksum-Crc32", "WgDhBQ=="), Complete{TypeFullObject, "CRC32", "WgDhBQ=="}},
		{hdr("X-Amz-Checksum-Sha256", "uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3"), Complete{"", "SHA256", "uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3"}},
		{hdr("X-Amz-Checksum-Crc64nvme", "i+6LR0y3eFo=", "X-Amz-Checksum-Algorithm", "CRC64NVME"), Complete{"", "CRC64NVME", "i+6LR0y3eFo="}},
	}
	for _, tt := range ok {
		got, err := ParseComplete(tt.h)
		if err != nil || got != tt.want {
			t.Errorf("ParseComplete(%v) = %+v, %v; want %+v", tt.h, got, err, tt.want)
		}
	}
	bad := []struct {
		h         http.Header
		code, msg string
	}{
		{hdr("X-Amz-Checksum-Type", "whole"), "InvalidRequest", "Value for x-amz-checksum-type header is invalid."},
		{hdr("X-Amz-Checksum-Crc32", "WgDhBQ==", "X-Amz-Checksum-Crc32c", "xU+Krw=="), "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."},
		{hdr("X-Amz-Checksum-Crc32", "bad"), "BadDigest", "Value for x-amz-checksum-crc32 header is invalid."},
		{hdr("X-Amz-Checksum-Crc32", "WgDhBQ==-smth"), "BadDigest", "Value for x-amz-checksum-crc32 header is invalid."},
		{hdr("X-Amz-Checksum-Crc32", "WgDhBQ==--3"), "BadDigest", "Value for x-amz-checksum-crc32 header is invalid."},
		{hdr("X-Amz-Checksum-Crc32", "WgDhBQ==-0"), "BadDigest", "Value for x-amz-checksum-crc32 header is invalid."},
		{hdr("X-Amz-Checksum-Crc32", "WgDhBQ==-10001"), "BadDigest", "Value for x-amz-checksum-crc32 header is invalid."},
		{hdr("X-Amz-Checksum-Crc32", ""), "BadDigest", "Value for x-amz-checksum-crc32 header is invalid."},
		{hdr("X-Amz-Checksum-Md5", "1B2M2Y8AsgTpgAmY7PhCfg=="), "InvalidRequest", "The header x-amz-checksum-md5 is not supported."},
	}
	for _, tt := range bad {
		_, err := ParseComplete(tt.h)
		if e := s3err.As(err); e == nil || e.Code != tt.code || e.Message != tt.msg {
			t.Errorf("ParseComplete(%v) err = %v, want %s %q", tt.h, err, tt.code, tt.msg)
		}
	}
}

// FuzzParseComplete: any header value is either refused with an S3 error or
// yields a value that decodes as the named algorithm's digest.
func FuzzParseComplete(f *testing.F) {
	f.Add("Crc32", "WgDhBQ==", "FULL_OBJECT")
	f.Add("Sha256", "uWBwpe1dxI4Vw8Gf0X9ynOdw/SS6VBzfWm9giiv1sf4=-3", "")
	f.Add("Crc64nvme", "i+6LR0y3eFo=-01", "COMPOSITE")
	f.Fuzz(func(t *testing.T, algo, value, typ string) {
		h := http.Header{}
		h["X-Amz-Checksum-"+algo] = []string{value}
		h.Set("X-Amz-Checksum-Type", typ)
		c, err := ParseComplete(h)
		if err != nil {
			if s3err.As(err) == nil {
				t.Fatalf("not an S3 error: %v", err)
			}
			return
		}
		if c.Algorithm == "" {
			return
		}
		if !Supported(c.Algorithm) || !validObjectChecksum(c.Algorithm, c.Value) {
			t.Fatalf("accepted %q=%q as %+v", algo, value, c)
		}
	})
}

func BenchmarkCombine(b *testing.B) {
	for _, algo := range []string{"CRC32", "CRC32C", "CRC64NVME"} {
		b.Run(algo, func(b *testing.B) {
			h, _ := New(algo)
			h.Write([]byte("part"))
			sum := h.Sum(nil)
			for b.Loop() {
				sum, _ = Combine(algo, sum, sum, 5<<20)
			}
		})
	}
}
