package store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/cairn-s3/cairn/internal/store"
)

func TestETagsEqual(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"abc", "abc", true},
		{`"abc"`, "abc", true},
		{"abc", `"abc"`, true},
		{`"ABC"`, `"abc"`, true},
		{"abc-2", "ABC-2", true},
		{"abc", "abd", false},
		{"", "", true},
		{`""`, "", true},
		{"abc", "abc-1", false},
	}
	for _, tt := range tests {
		if got := store.ETagsEqual(tt.a, tt.b); got != tt.want {
			t.Errorf("ETagsEqual(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestPreconditions(t *testing.T) {
	tests := []struct {
		name                 string
		ifMatch, ifNoneMatch string
		exists               bool
		etag                 string
		want                 error // nil: the write goes ahead
	}{
		{"if-match same etag", "abc", "", true, "abc", nil},
		{"if-match quoted other case", `"ABC"`, "", true, "abc", nil},
		{"if-match other etag", "abd", "", true, "abc", store.ErrPreconditionFailed},
		{"if-match star exists", "*", "", true, "abc", nil},
		{"if-match missing", "abc", "", false, "", store.ErrNoSuchKey},
		{"if-match star missing", "*", "", false, "", store.ErrNoSuchKey},
		{"if-none-match star missing", "", "*", false, "", nil},
		{"if-none-match star exists", "", "*", true, "abc", store.ErrPreconditionFailed},
		{"if-none-match same etag", "", `"abc"`, true, "abc", store.ErrPreconditionFailed},
		{"if-none-match other etag", "", "abd", true, "abc", nil},
		{"both pass", "abc", "abd", true, "abc", nil},
		{"if-match passes, if-none-match fails", "abc", "*", true, "abc", store.ErrPreconditionFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check := store.Preconditions(tt.ifMatch, tt.ifNoneMatch)
			if check == nil {
				t.Fatal("Preconditions returned no check for a conditional write")
			}
			err := check(tt.exists, tt.etag)
			switch {
			case tt.want == nil && err != nil:
				t.Fatalf("check = %v, want nil", err)
			case tt.want != nil && !errors.Is(err, tt.want):
				t.Fatalf("check = %v, want %v", err, tt.want)
			}
		})
	}
	if store.Preconditions("", "") != nil {
		t.Error("Preconditions(\"\", \"\") returned a check for an unconditional write")
	}
}

func TestMergeChecksums(t *testing.T) {
	tests := []struct {
		name string
		a, b map[string]string
		want map[string]string
	}{
		{"nil b keeps a", map[string]string{"CRC32": "x"}, nil, map[string]string{"CRC32": "x"}},
		{"empty b keeps a", map[string]string{"CRC32": "x"}, map[string]string{}, map[string]string{"CRC32": "x"}},
		{"both nil", nil, nil, nil},
		{"nil a", nil, map[string]string{"SHA256": "y"}, map[string]string{"SHA256": "y"}},
		{"union", map[string]string{"CRC32": "x"}, map[string]string{"SHA256": "y"}, map[string]string{"CRC32": "x", "SHA256": "y"}},
		{"b wins", map[string]string{"CRC32": "x"}, map[string]string{"CRC32": "z"}, map[string]string{"CRC32": "z"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			aBefore := clone(tt.a)
			got := store.MergeChecksums(tt.a, tt.b)
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("MergeChecksums = %v, want %v", got, tt.want)
			}
			if !reflect.DeepEqual(tt.a, aBefore) {
				t.Fatalf("MergeChecksums modified a: %v, was %v", tt.a, aBefore)
			}
		})
	}
}

func clone(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestSelectRange(t *testing.T) {
	parts := []store.Part{{Number: 1, Size: 5}, {Number: 2, Size: 7}, {Number: 3, Size: 3}}
	rng := func(off, n int64) *store.Range { return &store.Range{Offset: off, Length: n} }
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		size    int64
		parts   []store.Part
		opts    store.GetOptions
		want    store.Range
		wantErr error
	}{
		{"whole", 10, nil, store.GetOptions{}, store.Range{0, 10}, nil},
		{"empty object whole", 0, nil, store.GetOptions{}, store.Range{0, 0}, nil},
		{"range inside", 10, nil, store.GetOptions{Range: rng(2, 3)}, store.Range{2, 3}, nil},
		{"range cut at end", 10, nil, store.GetOptions{Range: rng(8, 100)}, store.Range{8, 2}, nil},
		{"range last byte", 10, nil, store.GetOptions{Range: rng(9, 1)}, store.Range{9, 1}, nil},
		{"range at end", 10, nil, store.GetOptions{Range: rng(10, 1)}, store.Range{0, 10}, store.ErrInvalidRange},
		{"range on empty object", 0, nil, store.GetOptions{Range: rng(0, 1)}, store.Range{0, 0}, store.ErrInvalidRange},
		{"negative offset", 10, nil, store.GetOptions{Range: rng(-1, 1)}, store.Range{0, 10}, store.ErrInvalidRange},
		{"negative length", 10, nil, store.GetOptions{Range: rng(1, -1)}, store.Range{0, 10}, store.ErrInvalidRange},
		{"zero length", 10, nil, store.GetOptions{Range: rng(3, 0)}, store.Range{3, 0}, nil},
		{"range func", 10, nil, store.GetOptions{Range: rng(0, 1), RangeFunc: func(store.ObjectInfo) (*store.Range, error) { return rng(4, 2), nil }}, store.Range{4, 2}, nil},
		{"range func whole", 10, nil, store.GetOptions{RangeFunc: func(store.ObjectInfo) (*store.Range, error) { return nil, nil }}, store.Range{0, 10}, nil},
		{"range func error", 10, nil, store.GetOptions{RangeFunc: func(store.ObjectInfo) (*store.Range, error) { return nil, errBoom }}, store.Range{0, 10}, errBoom},
		{"part 1 of single-part", 10, nil, store.GetOptions{PartNumber: 1}, store.Range{0, 10}, nil},
		{"part 2 of single-part", 10, nil, store.GetOptions{PartNumber: 2}, store.Range{0, 10}, store.ErrInvalidPartNumber},
		{"negative part", 10, nil, store.GetOptions{PartNumber: -1}, store.Range{0, 10}, store.ErrInvalidPartNumber},
		{"first part", 15, parts, store.GetOptions{PartNumber: 1}, store.Range{0, 5}, nil},
		{"middle part", 15, parts, store.GetOptions{PartNumber: 2}, store.Range{5, 7}, nil},
		{"last part", 15, parts, store.GetOptions{PartNumber: 3}, store.Range{12, 3}, nil},
		{"part beyond last", 15, parts, store.GetOptions{PartNumber: 4}, store.Range{0, 15}, store.ErrInvalidPartNumber},
		{"part wins over range", 15, parts, store.GetOptions{PartNumber: 2, Range: rng(0, 1)}, store.Range{5, 7}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := store.ObjectInfo{Size: tt.size, Parts: tt.parts}
			got, err := store.SelectRange(tt.size, tt.parts, info, tt.opts)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("SelectRange error = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("SelectRange = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSelectRangePassesInfo(t *testing.T) {
	info := store.ObjectInfo{Key: "k", ETag: "e", Size: 4}
	var seen store.ObjectInfo
	_, err := store.SelectRange(4, nil, info, store.GetOptions{RangeFunc: func(oi store.ObjectInfo) (*store.Range, error) {
		seen = oi
		return nil, nil
	}})
	if err != nil || seen.Key != "k" || seen.ETag != "e" {
		t.Fatalf("RangeFunc saw %+v (err %v), want the object's info", seen, err)
	}
}

func TestCopyMeta(t *testing.T) {
	src := store.Metadata{
		ContentType:  "text/plain",
		User:         map[string]string{"a": "1"},
		Tags:         map[string]string{"t": "src"},
		Checksums:    map[string]string{"CRC32": "src"},
		ChecksumType: "FULL_OBJECT",
	}
	newTags := map[string]string{"t": "new"}
	newSums := map[string]string{"SHA256": "new"}
	tests := []struct {
		name string
		src  store.Metadata
		opts store.CopyOptions
		want store.Metadata
	}{
		{"copy keeps all", src, store.CopyOptions{}, src},
		{"copy with tags", src, store.CopyOptions{Meta: store.Metadata{Tags: newTags, ContentType: "ignored"}},
			withTags(src, newTags)},
		{"copy with tag directive replace and no tags", src, store.CopyOptions{ReplaceTags: true},
			withTags(src, nil)},
		{"replace keeps source checksums and tags", src,
			store.CopyOptions{ReplaceMeta: true, Meta: store.Metadata{ContentType: "image/png"}},
			store.Metadata{ContentType: "image/png", Tags: src.Tags, Checksums: src.Checksums, ChecksumType: "FULL_OBJECT"}},
		{"replace with checksums", src,
			store.CopyOptions{ReplaceMeta: true, Meta: store.Metadata{Checksums: newSums, ChecksumType: "FULL_OBJECT"}},
			store.Metadata{Tags: src.Tags, Checksums: newSums, ChecksumType: "FULL_OBJECT"}},
		{"replace with tags", src,
			store.CopyOptions{ReplaceMeta: true, Meta: store.Metadata{Tags: newTags}},
			store.Metadata{Tags: newTags, Checksums: src.Checksums, ChecksumType: "FULL_OBJECT"}},
		{"replace with tag directive replace drops tags", src,
			store.CopyOptions{ReplaceMeta: true, ReplaceTags: true},
			store.Metadata{Checksums: src.Checksums, ChecksumType: "FULL_OBJECT"}},
		{"composite dropped on copy",
			store.Metadata{Checksums: map[string]string{"CRC32": "x-2"}, ChecksumType: "COMPOSITE"},
			store.CopyOptions{}, store.Metadata{}},
		{"composite dropped on replace without checksums",
			store.Metadata{Checksums: map[string]string{"CRC32": "x-2"}, ChecksumType: "COMPOSITE"},
			store.CopyOptions{ReplaceMeta: true, Meta: store.Metadata{ContentType: "a/b"}},
			store.Metadata{ContentType: "a/b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := store.CopyMeta(tt.src, tt.opts); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("CopyMeta =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func withTags(m store.Metadata, tags map[string]string) store.Metadata {
	m.Tags = tags
	return m
}

func TestCheckCompleteList(t *testing.T) {
	parts := func(nums ...int) []store.CompletePart {
		out := make([]store.CompletePart, len(nums))
		for i, n := range nums {
			out[i] = store.CompletePart{Number: n}
		}
		return out
	}
	tests := []struct {
		name string
		list []store.CompletePart
		want error
	}{
		{"empty", nil, store.ErrInvalidPart},
		{"one", parts(1), nil},
		{"ascending with gaps", parts(1, 3, 10000), nil},
		{"duplicate", parts(1, 2, 2), store.ErrInvalidPartOrder},
		{"descending", parts(2, 1), store.ErrInvalidPartOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := store.CheckCompleteList(tt.list)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("CheckCompleteList = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReadFull(t *testing.T) {
	errBoom := errors.New("boom")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		r       io.Reader
		bufLen  int
		wantN   int
		wantEOF bool
		wantErr error
	}{
		{"fills buffer", context.Background(), strings.NewReader("abcdef"), 4, 4, false, nil},
		{"exact length not yet eof", context.Background(), strings.NewReader("abcd"), 4, 4, false, nil},
		{"short body eof", context.Background(), strings.NewReader("ab"), 4, 2, true, nil},
		{"empty body", context.Background(), strings.NewReader(""), 4, 0, true, nil},
		{"one byte reads", context.Background(), iotest.OneByteReader(strings.NewReader("abcdef")), 5, 5, false, nil},
		{"data with eof", context.Background(), iotest.DataErrReader(strings.NewReader("ab")), 4, 2, true, nil},
		{"empty buffer", context.Background(), strings.NewReader("ab"), 0, 0, false, nil},
		{"cut short", context.Background(), io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(io.ErrUnexpectedEOF)), 4, 2, false, store.ErrIncompleteBody},
		{"read error", context.Background(), io.MultiReader(strings.NewReader("ab"), iotest.ErrReader(errBoom)), 4, 2, false, errBoom},
		{"cancelled", cancelled, strings.NewReader("ab"), 4, 0, false, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := make([]byte, tt.bufLen)
			n, eof, err := store.ReadFull(tt.ctx, tt.r, buf)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadFull error = %v, want %v", err, tt.wantErr)
			}
			if n != tt.wantN || eof != tt.wantEOF {
				t.Fatalf("ReadFull = %d, eof %v; want %d, eof %v", n, eof, tt.wantN, tt.wantEOF)
			}
			if src := "abcdef"; !bytes.Equal(buf[:n], []byte(src[:n])) {
				t.Fatalf("ReadFull read %q", buf[:n])
			}
		})
	}
}

func TestReadFullCutShortKeepsCause(t *testing.T) {
	r := io.MultiReader(strings.NewReader("a"), iotest.ErrReader(io.ErrUnexpectedEOF))
	_, _, err := store.ReadFull(context.Background(), r, make([]byte, 4))
	if !errors.Is(err, store.ErrIncompleteBody) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadFull error = %v, want ErrIncompleteBody wrapping io.ErrUnexpectedEOF", err)
	}
}

func TestCheckKey(t *testing.T) {
	tests := []struct {
		name string
		key  string
		want error
	}{
		{"plain", "a/b.txt", nil},
		{"longest", strings.Repeat("k", store.MaxKeyLength), nil},
		{"too long", strings.Repeat("k", store.MaxKeyLength+1), store.ErrKeyTooLong},
		{"multibyte too long", strings.Repeat("é", store.MaxKeyLength/2+1), store.ErrKeyTooLong},
		{"empty", "", store.ErrNoSuchKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := store.CheckKey(tt.key)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("CheckKey = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestShownVersionID(t *testing.T) {
	tests := []struct {
		null bool
		vs   store.Versioning
		want string
	}{
		{false, store.Enabled, "00ff"},
		{false, store.Suspended, "00ff"},
		{false, store.Unversioned, "00ff"},
		{true, store.Unversioned, ""},
		{true, store.Enabled, store.NullVersion},
		{true, store.Suspended, store.NullVersion},
	}
	for _, tt := range tests {
		if got := store.ShownVersionID(tt.null, "00ff", tt.vs); got != tt.want {
			t.Errorf("ShownVersionID(%v, %q) = %q, want %q", tt.null, tt.vs, got, tt.want)
		}
	}
}
