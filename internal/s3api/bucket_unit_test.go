package s3api

import (
	"encoding/xml"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

func TestValidBucketName(t *testing.T) {
	tests := []struct {
		name string
		want bool
	}{
		{"abc", true},
		{"my-bucket.v2", true},
		{"a--b", true},
		{strings.Repeat("a", 63), true},
		{"1bucket9", true},
		{"ab", false},
		{strings.Repeat("a", 64), false},
		{"Abc", false},
		{"ab_c", false},
		{"-abc", false},
		{"abc-", false},
		{".abc", false},
		{"abc.", false},
		{"a..b", false},
		{"a-.b", false},
		{"a.-b", false},
		{"192.168.5.4", false},
		{"192.168.5.256", false},
		{"0.0.0.00", false},
		{"1.2.3.4.5", true},
		{"1.2.3.a", true},
		{"xn--abc", false},
		{"sthree-abc", false},
		{"abc-s3alias", false},
		{"abc--ol-s3", false},
		{"a b", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := validBucketName(tt.name); got != tt.want {
				t.Errorf("validBucketName(%q) = %v, want %v", tt.name, got, tt.want)
			}
		})
	}
}

func TestS3URLEncode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain/key-1_2.3~", "plain/key-1_2.3~"},
		{"a b", "a%20b"},
		{"a+b", "a%2Bb"},
		{"é", "%C3%A9"},
		{"\x01", "%01"},
		{"%&=?#", "%25%26%3D%3F%23"},
	}
	for _, tt := range tests {
		got := s3URLEncode(tt.in)
		if got != tt.want {
			t.Errorf("s3URLEncode(%q) = %q, want %q", tt.in, got, tt.want)
		}
		for _, dec := range []func(string) (string, error){url.PathUnescape, url.QueryUnescape} {
			if back, err := dec(got); err != nil || back != tt.in {
				t.Errorf("decoding %q = %q, %v; want %q", got, back, err, tt.in)
			}
		}
	}
}

func TestToken(t *testing.T) {
	for _, k := range []string{"", "a", "dir/", "ключ with spaces"} {
		got, err := decodeToken(encodeToken(k))
		if err != nil || got != k {
			t.Errorf("round trip of %q = %q, %v", k, got, err)
		}
	}
	for _, bad := range []string{"!!", "YWJj", encodeToken("x") + "="} {
		if _, err := decodeToken(bad); !errors.Is(err, s3err.InvalidArgument) {
			t.Errorf("decodeToken(%q) error = %v, want InvalidArgument", bad, err)
		}
	}
}

func TestParseCreateBucketConfiguration(t *testing.T) {
	tests := []struct {
		body    string
		want    string
		wantErr *s3err.Error
	}{
		{"", "", nil},
		{"  \n", "", nil},
		{`<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>`, "eu-west-1", nil},
		{`<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>`, "", nil},
		{`<Other/>`, "", s3err.MalformedXML},
		{`<CreateBucketConfiguration>`, "", s3err.MalformedXML},
	}
	for _, tt := range tests {
		c, err := parseCreateBucketConfiguration([]byte(tt.body))
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("parse(%q) error = %v, want %v", tt.body, err, tt.wantErr.Code)
			}
			continue
		}
		if err != nil || c.LocationConstraint != tt.want {
			t.Errorf("parse(%q) = %q, %v; want %q", tt.body, c.LocationConstraint, err, tt.want)
		}
	}
}

func TestLocationRegion(t *testing.T) {
	a := &API{cfg: Config{Region: "zone-a"}}
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true}, {"zone-a", "", true}, {"us-east-1", "us-east-1", true}, {"eu-west-1", "", false},
	} {
		got, err := a.locationRegion(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("locationRegion(%q) = %q, %v", tt.in, got, err)
		}
		if err != nil && !errors.Is(err, s3err.InvalidLocationConstraint) {
			t.Errorf("locationRegion(%q) error = %v, want InvalidLocationConstraint", tt.in, err)
		}
	}
}

func TestVersioningState(t *testing.T) {
	tests := []struct {
		body string
		want store.Versioning
		err  *s3err.Error
	}{
		{`<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>`, store.Enabled, nil},
		{`<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Suspended</Status><MfaDelete>Disabled</MfaDelete></VersioningConfiguration>`, store.Suspended, nil},
		{`<VersioningConfiguration><Status>enabled</Status></VersioningConfiguration>`, "", s3err.MalformedXML},
		{`<VersioningConfiguration></VersioningConfiguration>`, "", s3err.MalformedXML},
		{`<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>`, "", s3err.NotImplemented},
		{`<VersioningConfiguration><Status>Enabled</Status><MfaDelete>x</MfaDelete></VersioningConfiguration>`, "", s3err.MalformedXML},
	}
	for _, tt := range tests {
		var c versioningConfiguration
		if err := xml.Unmarshal([]byte(tt.body), &c); err != nil {
			t.Fatal(err)
		}
		got, err := versioningState(c)
		if tt.err != nil {
			if !errors.Is(err, tt.err) {
				t.Errorf("%s: error = %v, want %s", tt.body, err, tt.err.Code)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s: = %q, %v; want %q", tt.body, got, err, tt.want)
		}
	}
}

func TestValidateBucketTags(t *testing.T) {
	many := make([]bucketTag, 51)
	for i := range many {
		many[i] = bucketTag{Key: strings.Repeat("k", i+1)}
	}
	tests := []struct {
		name string
		tags []bucketTag
		ok   bool
	}{
		{"empty", nil, true},
		{"fifty", many[:50], true},
		{"fifty-one", many, false},
		{"empty key", []bucketTag{{Key: ""}}, false},
		{"long key", []bucketTag{{Key: strings.Repeat("é", 129)}}, false},
		{"max key", []bucketTag{{Key: strings.Repeat("é", 128), Value: strings.Repeat("v", 256)}}, true},
		{"long value", []bucketTag{{Key: "k", Value: strings.Repeat("v", 257)}}, false},
		{"duplicate", []bucketTag{{Key: "k"}, {Key: "k"}}, false},
		{"aws prefix", []bucketTag{{Key: "aws:x"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateBucketTags(tt.tags)
			if (err == nil) != tt.ok {
				t.Fatalf("error = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, s3err.InvalidTag) {
				t.Fatalf("error = %v, want InvalidTag", err)
			}
		})
	}
}

func TestParseCompleteMultipartUpload(t *testing.T) {
	tests := []struct {
		name string
		body string
		want int
		err  *s3err.Error
	}{
		{"two parts", `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"aa"</ETag></Part><Part><PartNumber>3</PartNumber><ETag>bb</ETag><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part></CompleteMultipartUpload>`, 2, nil},
		{"no parts", `<CompleteMultipartUpload></CompleteMultipartUpload>`, 0, s3err.MalformedXML},
		{"bad root", `<Complete><Part><PartNumber>1</PartNumber></Part></Complete>`, 0, s3err.MalformedXML},
		{"not xml", `{"parts":1}`, 0, s3err.MalformedXML},
		{"bad number", `<CompleteMultipartUpload><Part><PartNumber>x</PartNumber></Part></CompleteMultipartUpload>`, 0, s3err.MalformedXML},
		{"zero", `<CompleteMultipartUpload><Part><PartNumber>0</PartNumber></Part></CompleteMultipartUpload>`, 0, s3err.InvalidArgument},
		{"descending", `<CompleteMultipartUpload><Part><PartNumber>2</PartNumber></Part><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`, 0, s3err.InvalidPartOrder},
		{"duplicate", `<CompleteMultipartUpload><Part><PartNumber>2</PartNumber></Part><Part><PartNumber>2</PartNumber></Part></CompleteMultipartUpload>`, 0, s3err.InvalidPartOrder},
		{"two checksums", `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ChecksumCRC32>AAAAAA==</ChecksumCRC32><ChecksumCRC32C>AAAAAA==</ChecksumCRC32C></Part></CompleteMultipartUpload>`, 0, s3err.InvalidArgument},
		{"bad checksum", `<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ChecksumSHA256>AAAAAA==</ChecksumSHA256></Part></CompleteMultipartUpload>`, 0, s3err.InvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := parseCompleteMultipartUpload([]byte(tt.body))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("error = %v, want %s", err, tt.err.Code)
				}
				return
			}
			if err != nil || len(parts) != tt.want {
				t.Fatalf("= %v, %v; want %d parts", parts, err, tt.want)
			}
			if parts[0].ETag != "aa" || parts[1].ETag != "bb" || parts[1].Checksums[store.ChecksumCRC32] != "AAAAAA==" {
				t.Fatalf("parts = %+v", parts)
			}
		})
	}
}

// TestListVersionsXML checks that versions and delete markers keep their
// order and element names in one document.
func TestListVersionsXML(t *testing.T) {
	ts := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)
	res := listVersionsResult{Name: "b", MaxKeys: 1000, Entries: []any{
		xmlVersion{Key: "a", VersionId: "2", IsLatest: true, LastModified: isoTime(ts), ETag: quoteETag("e"), Owner: &xmlOwner{ID: "u", DisplayName: "u"}, StorageClass: "STANDARD"},
		xmlDeleteMarker{Key: "a", VersionId: "1", LastModified: isoTime(ts), Owner: &xmlOwner{ID: "u", DisplayName: "u"}},
		xmlVersion{Key: "b", VersionId: "null", IsLatest: true, LastModified: isoTime(ts), ETag: quoteETag("f"), Owner: &xmlOwner{ID: "u", DisplayName: "u"}, StorageClass: "STANDARD"},
	}}
	out, err := xml.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	want := []string{
		`<ListVersionsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`,
		`<Version><Key>a</Key><VersionId>2</VersionId><IsLatest>true</IsLatest><LastModified>2024-05-06T07:08:09.123Z</LastModified><ETag>&#34;e&#34;</ETag><Size>0</Size>`,
		`<DeleteMarker><Owner><ID>u</ID><DisplayName>u</DisplayName></Owner><Key>a</Key><VersionId>1</VersionId><IsLatest>false</IsLatest>`,
		`<Version><Key>b</Key><VersionId>null</VersionId>`,
	}
	last := -1
	for _, w := range want {
		i := strings.Index(s, w)
		if i < 0 || i < last {
			t.Fatalf("document lacks %s in order:\n%s", w, s)
		}
		last = i
	}
	if strings.Contains(s, "Entries") {
		t.Fatalf("field name leaked into document:\n%s", s)
	}
}
