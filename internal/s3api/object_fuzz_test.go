package s3api

import (
	"errors"
	"testing"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// FuzzParseRange checks that any Range header either is ignored or resolves
// to a range inside the object, or to InvalidRange, never to anything else.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-9", "bytes=-5", "bytes=7-", "bytes=5-2", "bytes=0-1,2-3", "bytes=-0", "bytes=99999999999999999999-1", ""} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		br, ok := parseRange(h)
		if !ok {
			return
		}
		rg, err := br.resolve(size)
		if err != nil {
			if !errors.Is(err, s3err.InvalidRange) {
				t.Fatalf("resolve(%q, %d): unexpected error %v", h, size, err)
			}
			return
		}
		if rg.Offset < 0 || rg.Length <= 0 || rg.Offset+rg.Length > size {
			t.Fatalf("resolve(%q, %d) = %+v: outside the object", h, size, rg)
		}
	})
}

// FuzzParseDeleteRequest checks that decoding never panics and that every
// accepted document is within S3's bounds.
func FuzzParseDeleteRequest(f *testing.F) {
	f.Add([]byte(`<Delete><Quiet>true</Quiet><Object><Key>a</Key><VersionId>v</VersionId></Object></Delete>`))
	f.Add([]byte(`<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a&amp;b</Key></Object></Delete>`))
	f.Add([]byte(`<Delete><Object></Object>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := parseDeleteRequest(body)
		if err != nil {
			if !errors.Is(err, s3err.MalformedXML) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if n := len(d.Objects); n == 0 || n > maxDeleteObjects {
			t.Fatalf("accepted %d objects", n)
		}
	})
}

// FuzzParseTagging checks that every accepted tag set respects S3's limits.
func FuzzParseTagging(f *testing.F) {
	f.Add([]byte(`<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>`))
	f.Add([]byte(`<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>k</Key><Value>w</Value></Tag></TagSet></Tagging>`))
	f.Add([]byte(`<Tagging><TagSet><Tag><Key></Key></Tag></TagSet></Tagging>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		tags, err := parseTagging(body)
		if err != nil {
			if s3err.As(err) == nil {
				t.Fatalf("non-S3 error %v", err)
			}
			return
		}
		if err := validateTags(tags); err != nil {
			t.Fatalf("accepted invalid tags %v: %v", tags, err)
		}
	})
}
