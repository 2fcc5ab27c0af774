package checksum

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// Published values: "hello world" from the AWS SDK for Go v2 checksum tests,
// "123456789" the catalogue check values of each CRC.
func TestNewVectors(t *testing.T) {
	tests := []struct {
		algo, input string
		want        string // base64
	}{
		{"CRC32", "hello world", "DUoRhQ=="},
		{"CRC32C", "hello world", "yZRlqg=="},
		{"CRC64NVME", "hello world", "jSnVw/bqjr4="},
		{"SHA1", "hello world", "Kq5sNclPz7QV2+lfQIuc6R7oRu0="},
		{"SHA256", "hello world", "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="},
		{"CRC32", "123456789", Encode(be32(0xCBF43926))},
		{"CRC32C", "123456789", Encode(be32(0xE3069283))},
		{"CRC64NVME", "123456789", Encode(be64(0xAE8B14860A799888))},
		{"CRC64NVME", "", "AAAAAAAAAAA="},
	}
	for _, tt := range tests {
		t.Run(tt.algo+"/"+tt.input, func(t *testing.T) {
			h, err := New(tt.algo)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(h, tt.input)
			if got := Encode(h.Sum(nil)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
			if got := h.Size(); got != Size(tt.algo) {
				t.Errorf("Size = %d, hash size %d", Size(tt.algo), got)
			}
		})
	}
	if _, err := New("MD5"); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("New(MD5) err = %v", err)
	}
}

// TestCRC64NVMEMatchesReference compares the accelerated CRC64NVME with the
// table-driven definition across lengths and alignments that take the
// assembly's different paths, fed whole and in pieces.
func TestCRC64NVMEMatchesReference(t *testing.T) {
	data := make([]byte, 70000)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	for _, n := range []int{0, 1, 7, 15, 16, 17, 63, 64, 65, 127, 128, 255, 256, 1000, 4096, 4097, 65536, 70000} {
		for _, off := range []int{0, 1, 3} {
			if off+n > len(data) {
				continue
			}
			in := data[off : off+n]
			ref := newCRC64NVMEReference()
			ref.Write(in)
			h, _ := New("CRC64NVME")
			h.Write(in[:n/3])
			h.Write(in[n/3:])
			if !bytes.Equal(h.Sum(nil), ref.Sum(nil)) {
				t.Fatalf("len %d off %d: %x, reference %x", n, off, h.Sum(nil), ref.Sum(nil))
			}
		}
	}
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func TestHeaderNames(t *testing.T) {
	if got := HeaderName("CRC64NVME"); got != "x-amz-checksum-crc64nvme" {
		t.Errorf("HeaderName = %q", got)
	}
	for _, name := range []string{"x-amz-checksum-crc32c", "X-Amz-Checksum-Crc32c", "X-AMZ-CHECKSUM-CRC32C"} {
		if algo, ok := FromHeaderName(name); !ok || algo != "CRC32C" {
			t.Errorf("FromHeaderName(%q) = %q, %v", name, algo, ok)
		}
	}
	for _, name := range []string{"x-amz-checksum-", "x-amz-checksum-md5", "content-md5"} {
		if _, ok := FromHeaderName(name); ok {
			t.Errorf("FromHeaderName(%q) accepted", name)
		}
	}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name    string
		h       http.Header
		want    Request
		wantErr *s3err.Error
		wantMsg string
	}{
		{name: "none", h: hdr()},
		{name: "md5", h: hdr("Content-Md5", "XrY7u+Ae7tCTyyK7j1rNww=="),
			want: Request{MD5: mustB64(t, "XrY7u+Ae7tCTyyK7j1rNww==")}},
		{name: "md5 bad base64", h: hdr("Content-Md5", "not base64!"), wantErr: s3err.InvalidDigest},
		{name: "md5 short", h: hdr("Content-Md5", "AAAA"), wantErr: s3err.InvalidDigest},
		{name: "crc32 header", h: hdr("X-Amz-Checksum-Crc32", "DUoRhQ=="),
			want: Request{Algorithm: "CRC32", Value: "DUoRhQ=="}},
		{name: "crc32 header with sdk algorithm", h: hdr("X-Amz-Checksum-Crc32", "DUoRhQ==", "X-Amz-Sdk-Checksum-Algorithm", "crc32"),
			want: Request{Algorithm: "CRC32", Value: "DUoRhQ=="}},
		{name: "sdk algorithm conflicts", h: hdr("X-Amz-Checksum-Crc32", "DUoRhQ==", "X-Amz-Sdk-Checksum-Algorithm", "SHA1"),
			wantErr: s3err.InvalidRequest},
		{name: "sdk algorithm alone", h: hdr("X-Amz-Sdk-Checksum-Algorithm", "CRC64NVME"),
			want: Request{Algorithm: "CRC64NVME"}},
		{name: "sdk algorithm unknown", h: hdr("X-Amz-Sdk-Checksum-Algorithm", "MD5"), wantErr: s3err.InvalidRequest},
		{name: "crc32 bad length", h: hdr("X-Amz-Checksum-Crc32", "jSnVw/bqjr4="), wantErr: s3err.BadDigest,
			wantMsg: "Value for x-amz-checksum-crc32 header is invalid."},
		{name: "sha256 bad base64", h: hdr("X-Amz-Checksum-Sha256", "%%%"), wantErr: s3err.BadDigest,
			wantMsg: "Value for x-amz-checksum-sha256 header is invalid."},
		{name: "two checksum headers", h: hdr("X-Amz-Checksum-Crc32", "DUoRhQ==", "X-Amz-Checksum-Crc32c", "yZRlqg=="),
			wantErr: s3err.InvalidRequest, wantMsg: "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."},
		{name: "trailer", h: hdr("X-Amz-Trailer", "x-amz-checksum-crc32"),
			want: Request{Algorithm: "CRC32", Trailer: true}},
		{name: "trailer plus header", h: hdr("X-Amz-Trailer", "x-amz-checksum-crc32", "X-Amz-Checksum-Sha1", "Kq5sNclPz7QV2+lfQIuc6R7oRu0="),
			wantErr: s3err.InvalidRequest},
		{name: "trailer unknown algorithm", h: hdr("X-Amz-Trailer", "x-amz-checksum-md5"), wantErr: s3err.InvalidRequest},
		{name: "multipart settings are not values", h: hdr("X-Amz-Checksum-Algorithm", "CRC32", "X-Amz-Checksum-Type", "FULL_OBJECT")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRequest(tt.h)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr.Code)
				}
				if tt.wantMsg != "" && s3err.As(err).Message != tt.wantMsg {
					t.Errorf("message = %q, want %q", s3err.As(err).Message, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.MD5, tt.want.MD5) || got.Algorithm != tt.want.Algorithm || got.Value != tt.want.Value || got.Trailer != tt.want.Trailer {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func mustB64(t *testing.T, s string) []byte {
	b, err := ParseContentMD5(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readAll(r io.Reader) ([]byte, error) {
	var out []byte
	buf := make([]byte, 7) // small reads exercise the streaming path
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestReader(t *testing.T) {
	const body = "hello world"
	md5hw, _ := hex.DecodeString("5eb63bbbe01eeed093cb22bb8f5acdc3")
	tests := []struct {
		name    string
		opts    ReaderOptions
		wantErr *s3err.Error
		wantMsg string
	}{
		{name: "nothing expected", opts: ReaderOptions{Algorithms: []string{"CRC32"}}},
		{name: "md5 ok", opts: ReaderOptions{MD5: md5hw}},
		{name: "md5 bad", opts: ReaderOptions{MD5: make([]byte, 16)}, wantErr: s3err.BadDigest,
			wantMsg: "The Content-MD5 you specified did not match what we received."},
		{name: "crc32 ok", opts: ReaderOptions{Expected: map[string]string{"CRC32": "DUoRhQ=="}}},
		{name: "crc32 bad", opts: ReaderOptions{Expected: map[string]string{"CRC32": "yZRlqg=="}}, wantErr: s3err.BadDigest,
			wantMsg: "The CRC32 you specified did not match the calculated checksum."},
		{name: "trailer ok", opts: ReaderOptions{Algorithms: []string{"CRC64NVME"},
			ExpectedAtEOF: func() (map[string]string, error) { return map[string]string{"CRC64NVME": "jSnVw/bqjr4="}, nil }}},
		{name: "trailer bad", opts: ReaderOptions{Algorithms: []string{"CRC64NVME"},
			ExpectedAtEOF: func() (map[string]string, error) { return map[string]string{"CRC64NVME": "AAAAAAAAAAA="}, nil }},
			wantErr: s3err.BadDigest, wantMsg: "The CRC64NVME you specified did not match the calculated checksum."},
		{name: "trailer for uncomputed algorithm", opts: ReaderOptions{
			ExpectedAtEOF: func() (map[string]string, error) {
				return map[string]string{"SHA1": "Kq5sNclPz7QV2+lfQIuc6R7oRu0="}, nil
			}},
			wantErr: s3err.BadDigest},
		{name: "trailer error", opts: ReaderOptions{
			ExpectedAtEOF: func() (map[string]string, error) { return nil, s3err.IncompleteBody }},
			wantErr: s3err.IncompleteBody},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(body), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := readAll(r)
			if string(got) != body {
				t.Errorf("passed through %q", got)
			}
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			} else {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %s", err, tt.wantErr.Code)
				}
				if tt.wantMsg != "" && s3err.As(err).Message != tt.wantMsg {
					t.Errorf("message = %q, want %q", s3err.As(err).Message, tt.wantMsg)
				}
				// The error is sticky: a second Read must not turn into EOF.
				if _, err2 := r.Read(make([]byte, 1)); err2 != err {
					t.Errorf("second Read err = %v", err2)
				}
			}
			if r.ETag() != "5eb63bbbe01eeed093cb22bb8f5acdc3" || r.Size() != int64(len(body)) {
				t.Errorf("ETag %q size %d", r.ETag(), r.Size())
			}
		})
	}
}

func TestReaderExposesChecksums(t *testing.T) {
	r, err := NewReader(strings.NewReader("hello world"), ReaderOptions{Algorithms: Algorithms[:]})
	if err != nil {
		t.Fatal(err)
	}
	if r.Checksums() != nil || r.ETag() != "" {
		t.Error("values exposed before EOF")
	}
	if _, err := readAll(r); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"CRC32": "DUoRhQ==", "CRC32C": "yZRlqg==", "CRC64NVME": "jSnVw/bqjr4=",
		"SHA1": "Kq5sNclPz7QV2+lfQIuc6R7oRu0=", "SHA256": "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek="}
	for a, v := range want {
		if r.Checksums()[a] != v {
			t.Errorf("%s = %q, want %q", a, r.Checksums()[a], v)
		}
	}
}

func TestReaderPassesUnderlyingError(t *testing.T) {
	boom := errors.New("boom")
	r, _ := NewReader(iotest.ErrReader(boom), ReaderOptions{MD5: make([]byte, 16)})
	if _, err := readAll(r); err != boom {
		t.Errorf("err = %v", err)
	}
}

func BenchmarkReader(b *testing.B) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for _, algos := range [][]string{nil, {"CRC32"}, {"CRC32C"}, {"CRC64NVME"}, {"SHA256"}} {
		name := "MD5"
		if algos != nil {
			name += "+" + algos[0]
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			buf := make([]byte, 32<<10)
			for b.Loop() {
				r, _ := NewReader(bytes.NewReader(data), ReaderOptions{Algorithms: algos})
				if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{r}, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkNew(b *testing.B) {
	data := bytes.Repeat([]byte("x"), 1<<20)
	for _, algo := range Algorithms {
		b.Run(algo, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			h, _ := New(algo)
			for b.Loop() {
				h.Reset()
				h.Write(data)
				h.Sum(nil)
			}
		})
	}
}
