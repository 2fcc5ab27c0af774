package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

func TestParseRange(t *testing.T) {
	const size = 100
	tests := []struct {
		header  string
		ok      bool // false: header ignored, whole object served
		want    store.Range
		invalid bool // 416
	}{
		{header: "bytes=0-9", ok: true, want: store.Range{Offset: 0, Length: 10}},
		{header: "bytes=10-", ok: true, want: store.Range{Offset: 10, Length: 90}},
		{header: "bytes=-10", ok: true, want: store.Range{Offset: 90, Length: 10}},
		{header: "bytes=-1000", ok: true, want: store.Range{Offset: 0, Length: 100}},
		{header: "bytes=90-1000", ok: true, want: store.Range{Offset: 90, Length: 10}},
		{header: "bytes=99-99", ok: true, want: store.Range{Offset: 99, Length: 1}},
		{header: " bytes=1-2 ", ok: true, want: store.Range{Offset: 1, Length: 2}},
		{header: "bytes=100-", ok: true, invalid: true},
		{header: "bytes=100-200", ok: true, invalid: true},
		{header: "bytes=-0", ok: true, invalid: true},
		{header: "", ok: false},
		{header: "bytes=5-2", ok: false},
		{header: "bytes=0-1,3-4", ok: false},
		{header: "items=0-1", ok: false},
		{header: "bytes=a-b", ok: false},
		{header: "bytes=-", ok: false},
		{header: "bytes=+1-2", ok: false},
		{header: "bytes=1", ok: false},
		{header: "bytes=99999999999999999999-", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			br, ok := parseRange(tt.header)
			if ok != tt.ok {
				t.Fatalf("parseRange(%q) ok = %v, want %v", tt.header, ok, tt.ok)
			}
			if !ok {
				return
			}
			got, err := br.resolve(size)
			if tt.invalid {
				if !errors.Is(err, s3err.InvalidRange) {
					t.Fatalf("resolve: got %v, %v; want InvalidRange", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("resolve = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestRangeOfEmptyObject(t *testing.T) {
	for _, h := range []string{"bytes=0-", "bytes=-5", "bytes=0-0"} {
		br, ok := parseRange(h)
		if !ok {
			t.Fatalf("%q not parsed", h)
		}
		if _, err := br.resolve(0); !errors.Is(err, s3err.InvalidRange) {
			t.Errorf("%q on empty object: err = %v, want InvalidRange", h, err)
		}
	}
}

func TestParseCopySourceRange(t *testing.T) {
	tests := []struct {
		v    string
		want store.Range
		code string
	}{
		{v: "bytes=0-9", want: store.Range{Length: 10}},
		{v: "bytes=5-5", want: store.Range{Offset: 5, Length: 1}},
		{v: "bytes=0-100", code: "InvalidRange"},
		{v: "0-2", code: "InvalidArgument"},
		{v: "bytes=0", code: "InvalidArgument"},
		{v: "bytes=hello-world", code: "InvalidArgument"},
		{v: "bytes=0-bar", code: "InvalidArgument"},
		{v: "bytes=hello-", code: "InvalidArgument"},
		{v: "bytes=0-2,3-5", code: "InvalidArgument"},
		{v: "bytes=-5", code: "InvalidArgument"},
		{v: "bytes=5-2", code: "InvalidArgument"},
	}
	for _, tt := range tests {
		t.Run(tt.v, func(t *testing.T) {
			got, err := parseCopySourceRange(tt.v, 100)
			if tt.code != "" {
				if e := s3err.As(err); e == nil || e.Code != tt.code {
					t.Fatalf("err = %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestConditions(t *testing.T) {
	mod := time.Date(2024, 5, 1, 12, 0, 0, 500e6, time.UTC)
	oi := store.ObjectInfo{ETag: "abc", LastModified: mod}
	before := mod.Add(-time.Hour).Format(http.TimeFormat)
	at := mod.Format(http.TimeFormat) // same second: not modified since
	after := mod.Add(time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name string
		c    conditions
		want error // nil, NotModified or PreconditionFailed
	}{
		{"none", conditions{}, nil},
		{"if-match ok", conditions{ifMatch: `"abc"`}, nil},
		{"if-match star", conditions{ifMatch: "*"}, nil},
		{"if-match list", conditions{ifMatch: `"x", "abc"`}, nil},
		{"if-match fail", conditions{ifMatch: `"zzz"`}, s3err.PreconditionFailed},
		{"if-none-match hit", conditions{ifNoneMatch: `"abc"`}, s3err.NotModified},
		{"if-none-match miss", conditions{ifNoneMatch: `"zzz"`}, nil},
		{"if-modified-since before", conditions{ifModifiedSince: before}, nil},
		{"if-modified-since same second", conditions{ifModifiedSince: at}, s3err.NotModified},
		{"if-modified-since after", conditions{ifModifiedSince: after}, s3err.NotModified},
		{"if-unmodified-since before", conditions{ifUnmodifiedSince: before}, s3err.PreconditionFailed},
		{"if-unmodified-since after", conditions{ifUnmodifiedSince: after}, nil},
		{"bad date ignored", conditions{ifUnmodifiedSince: "yesterday"}, nil},
		// S3: If-Match true and If-Unmodified-Since false → 200.
		{"if-match wins over unmodified-since", conditions{ifMatch: `"abc"`, ifUnmodifiedSince: before}, nil},
		// S3: If-None-Match false and If-Modified-Since true → 304.
		{"if-none-match hit with modified-since", conditions{ifNoneMatch: `"abc"`, ifModifiedSince: before}, s3err.NotModified},
		{"if-none-match miss wins over modified-since", conditions{ifNoneMatch: `"zzz"`, ifModifiedSince: after}, nil},
		{"if-match fail beats none-match", conditions{ifMatch: `"zzz"`, ifNoneMatch: `"abc"`}, s3err.PreconditionFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.notModified = s3err.NotModified
			err := tt.c.check(oi)
			if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("check = %v, want %v", err, tt.want)
			}
		})
	}
	t.Run("copy source: not-modified is 412", func(t *testing.T) {
		h := http.Header{}
		h.Set("X-Amz-Copy-Source-If-None-Match", `"abc"`)
		if err := copySourceConditions(h).check(oi); !errors.Is(err, s3err.PreconditionFailed) {
			t.Fatalf("got %v, want PreconditionFailed", err)
		}
	})
}

func TestParseMetadata(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Encoding", "gzip")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Amz-Meta-Color", "blue")
	h.Add("X-Amz-Meta-Multi", "a")
	h.Add("X-Amz-Meta-Multi", "b")
	h.Set("X-Amz-Storage-Class", "STANDARD_IA")
	h.Set("X-Amz-Acl", "public-read")
	h.Set("X-Amz-Tagging", "k1=v1&k2=v%202")
	m, err := parseMetadata(h)
	if err != nil {
		t.Fatal(err)
	}
	if m.ContentType != "text/plain" || m.ContentEncoding != "gzip" || m.CacheControl != "no-cache" {
		t.Errorf("content headers = %+v", m)
	}
	if m.User["color"] != "blue" || m.User["multi"] != "a,b" {
		t.Errorf("user = %v", m.User)
	}
	if m.StorageClass != "STANDARD_IA" || m.ACL != "public-read" {
		t.Errorf("class, acl = %q, %q", m.StorageClass, m.ACL)
	}
	if m.Tags["k1"] != "v1" || m.Tags["k2"] != "v 2" {
		t.Errorf("tags = %v", m.Tags)
	}

	errs := []struct {
		name, header, value, code string
	}{
		{"metadata too large", "X-Amz-Meta-Big", strings.Repeat("x", 2048), "MetadataTooLarge"},
		{"storage class", "X-Amz-Storage-Class", "FAST", "InvalidStorageClass"},
		{"acl", "X-Amz-Acl", "everyone", "InvalidArgument"},
		{"grant header without key", "X-Amz-Grant-Read", "x", "InvalidArgument"},
		{"grant header, unknown key", "X-Amz-Grant-Read", "name=x", "InvalidArgument"},
		{"tag duplicate", "X-Amz-Tagging", "a=1&a=2", "InvalidTag"},
		{"tag key too long", "X-Amz-Tagging", strings.Repeat("k", 129) + "=v", "InvalidTag"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set(tt.header, tt.value)
			_, err := parseMetadata(h)
			if e := s3err.As(err); e == nil || e.Code != tt.code {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
		})
	}
}

func TestParseTagging(t *testing.T) {
	doc := func(tags ...string) string {
		var b strings.Builder
		b.WriteString("<Tagging><TagSet>")
		for i := 0; i+1 < len(tags); i += 2 {
			b.WriteString("<Tag><Key>" + tags[i] + "</Key><Value>" + tags[i+1] + "</Value></Tag>")
		}
		b.WriteString("</TagSet></Tagging>")
		return b.String()
	}
	var eleven []string
	for i := range 11 {
		eleven = append(eleven, string(rune('a'+i)), "v")
	}
	tests := []struct {
		name, body, code string
		want             int
	}{
		{name: "two", body: doc("a", "1", "b", "2"), want: 2},
		{name: "empty set", body: "<Tagging><TagSet></TagSet></Tagging>", want: 0},
		{name: "ten", body: doc(eleven[:20]...), want: 10},
		{name: "eleven", body: doc(eleven...), code: "InvalidTag"},
		{name: "duplicate", body: doc("a", "1", "a", "2"), code: "InvalidTag"},
		{name: "key 128", body: doc(strings.Repeat("k", 128), "v"), want: 1},
		{name: "key 129", body: doc(strings.Repeat("k", 129), "v"), code: "InvalidTag"},
		{name: "value 256", body: doc("k", strings.Repeat("v", 256)), want: 1},
		{name: "value 257", body: doc("k", strings.Repeat("v", 257)), code: "InvalidTag"},
		{name: "empty key", body: doc("", "v"), code: "InvalidTag"},
		{name: "malformed", body: "<Tagging><TagSet>", code: "MalformedXML"},
		{name: "empty", body: "", code: "MalformedXML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tags, err := parseTagging([]byte(tt.body))
			if tt.code != "" {
				if e := s3err.As(err); e == nil || e.Code != tt.code {
					t.Fatalf("err = %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil || len(tags) != tt.want {
				t.Fatalf("got %v, %v; want %d tags", tags, err, tt.want)
			}
		})
	}
}

func TestParseDeleteRequest(t *testing.T) {
	many := "<Delete>" + strings.Repeat("<Object><Key>k</Key></Object>", 1001) + "</Delete>"
	tests := []struct {
		name, body, code string
		quiet            bool
		n                int
	}{
		{name: "two", body: `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Object><Key>a</Key></Object><Object><Key>b</Key><VersionId>v1</VersionId></Object></Delete>`, n: 2},
		{name: "quiet", body: `<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object></Delete>`, quiet: true, n: 1},
		{name: "none", body: `<Delete></Delete>`, code: "MalformedXML"},
		{name: "1001", body: many, code: "MalformedXML"},
		{name: "wrong root", body: `<Remove><Object><Key>a</Key></Object></Remove>`, code: "MalformedXML"},
		{name: "garbage", body: `not xml`, code: "MalformedXML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := parseDeleteRequest([]byte(tt.body))
			if tt.code != "" {
				if e := s3err.As(err); e == nil || e.Code != tt.code {
					t.Fatalf("err = %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil || len(d.Objects) != tt.n || d.Quiet != tt.quiet {
				t.Fatalf("got %+v, %v", d, err)
			}
		})
	}
}

func TestParseCopySource(t *testing.T) {
	tests := []struct {
		v    string
		want store.CopySource
		code string
	}{
		{v: "b/k", want: store.CopySource{Bucket: "b", Key: "k"}},
		{v: "/b/dir/k%20x", want: store.CopySource{Bucket: "b", Key: "dir/k x"}},
		{v: "b/k%3Fq?versionId=v1", want: store.CopySource{Bucket: "b", Key: "k?q", VersionID: "v1"}},
		{v: "b", code: "InvalidArgument"},
		{v: "b/", code: "InvalidArgument"},
		{v: "/", code: "InvalidArgument"},
		{v: "b/k?versionId=", code: "InvalidArgument"},
		{v: "b/%zz", code: "InvalidArgument"},
	}
	for _, tt := range tests {
		t.Run(tt.v, func(t *testing.T) {
			h := http.Header{}
			h.Set("X-Amz-Copy-Source", tt.v)
			got, err := parseCopySource(h, "")
			if tt.code != "" {
				if e := s3err.As(err); e == nil || e.Code != tt.code {
					t.Fatalf("err = %v, want %s", err, tt.code)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestACLRoundTrip renders each canned ACL as a policy document and parses
// it back, as a client copying an ACL from Get*Acl into Put*Acl does: the
// grants must survive.
func TestACLRoundTrip(t *testing.T) {
	a := New(nil, nil, Config{})
	for _, acl := range []string{aclPrivate, aclPublicRead, aclPublicReadWrite, aclAuthRead, aclBucketOwnerRead, aclBucketOwnerFull} {
		t.Run(acl, func(t *testing.T) {
			body, err := xml.Marshal(a.renderACL(context.Background(), acl, "alice", "bob"))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(body), `xsi:type="CanonicalUser"`) {
				t.Fatalf("no xsi:type in %s", body)
			}
			got, err := aclFromPolicy(body)
			if err != nil {
				t.Fatal(err)
			}
			want, have := cannedGrants(acl, "alice", "bob"), loadACL(got, "alice", "bob")
			if len(want) != len(have) {
				t.Fatalf("grants = %+v; want %+v", have, want)
			}
			for _, w := range want {
				if !slices.Contains(have, w) {
					t.Fatalf("grants = %+v; want %+v", have, want)
				}
			}
		})
	}
	t.Run("malformed", func(t *testing.T) {
		if _, err := aclFromPolicy([]byte("<AccessControlPolicy>")); !errors.Is(err, s3err.MalformedACLError) {
			t.Fatalf("err = %v, want MalformedACLError", err)
		}
	})
}

func TestIllegalSelfCopy(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		illegal bool
	}{
		{"plain", nil, true},
		{"replace", map[string]string{"X-Amz-Metadata-Directive": "REPLACE"}, false},
		{"storage class", map[string]string{"X-Amz-Storage-Class": "STANDARD_IA"}, false},
		{"version", map[string]string{"X-Amz-Copy-Source": "b/k?versionId=v1"}, false},
		{"other key", map[string]string{"X-Amz-Copy-Source": "b/other"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			h.Set("X-Amz-Copy-Source", "b/k")
			for k, v := range tt.headers {
				h.Set(k, v)
			}
			c, err := parseCopyRequest(h, "")
			if err != nil {
				t.Fatal(err)
			}
			if got := c.isIllegalSelfCopy("b", "k", h); got != tt.illegal {
				t.Fatalf("illegal = %v, want %v", got, tt.illegal)
			}
		})
	}
	h := http.Header{}
	h.Set("X-Amz-Copy-Source", "b/k")
	h.Set("X-Amz-Metadata-Directive", "MOVE")
	if _, err := parseCopyRequest(h, ""); !errors.Is(err, s3err.InvalidArgument) {
		t.Fatalf("bad directive: err = %v, want InvalidArgument", err)
	}
}

func TestNewPutBody(t *testing.T) {
	tests := []struct {
		name   string
		length int64
		header http.Header
		code   string
	}{
		{name: "ok", length: 5},
		{name: "unknown length", length: -1, code: "MissingContentLength"},
		{name: "over 5 GiB", length: 5<<30 + 1, code: "EntityTooLarge"},
		{name: "exactly 5 GiB", length: 5 << 30},
		{name: "bad md5", length: 5, header: http.Header{"Content-Md5": {"xx"}}, code: "InvalidDigest"},
		{name: "bad checksum", length: 5, header: http.Header{"X-Amz-Checksum-Sha256": {"AAAA"}}, code: "BadDigest"},
		{name: "two algorithms", length: 5, header: http.Header{"X-Amz-Checksum-Crc32": {"AAAAAA=="}, "X-Amz-Sdk-Checksum-Algorithm": {"SHA1"}}, code: "InvalidRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, _ := http.NewRequest(http.MethodPut, "/b/k", strings.NewReader("hello"))
			r.ContentLength = tt.length
			for k, v := range tt.header {
				r.Header[k] = v
			}
			_, err := newPutBody(r)
			if tt.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if e := s3err.As(err); e == nil || e.Code != tt.code {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
		})
	}
	t.Run("algorithm without value is computed", func(t *testing.T) {
		r, _ := http.NewRequest(http.MethodPut, "/b/k", strings.NewReader("hello"))
		r.Header.Set("X-Amz-Sdk-Checksum-Algorithm", "CRC32")
		b, err := newPutBody(r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(b); err != nil {
			t.Fatal(err)
		}
		if got := b.sums()["CRC32"]; got != "NhCmhg==" { // crc32("hello")
			t.Fatalf("CRC32 = %q", got)
		}
	})
}

// Clients such as botocore keep the case of the metadata names they
// receive, so they must go out in lower case, as S3 sends them.
func TestUserMetadataHeaderNamesAreLowerCase(t *testing.T) {
	h := http.Header{}
	setObjectHeaders(h, store.ObjectInfo{Meta: store.Metadata{User: map[string]string{"colour": "blue"}}})
	//lint:ignore SA1008 the point is that the name is stored verbatim, not canonicalized
	if got := h["x-amz-meta-colour"]; len(got) != 1 || got[0] != "blue" {
		t.Fatalf("x-amz-meta-colour = %q; headers %v", got, h)
	}
	if _, ok := h["X-Amz-Meta-Colour"]; ok {
		t.Fatalf("canonicalised metadata name sent: %v", h)
	}
}

func TestWithoutAWSChunked(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "",
		"gzip":                  "gzip",
		"aws-chunked":           "",
		"gzip, aws-chunked":     "gzip",
		"aws-chunked,gzip":      "gzip",
		"br, AWS-Chunked, gzip": "br, gzip",
	} {
		if got := withoutAWSChunked(in); got != want {
			t.Errorf("withoutAWSChunked(%q) = %q, want %q", in, got, want)
		}
	}
}
