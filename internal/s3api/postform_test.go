package s3api

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime/multipart"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParsePostPolicy(t *testing.T) {
	const exp = `"expiration":"2030-01-01T00:00:00Z"`
	tests := []struct {
		name     string
		doc      string
		want     []postCondition
		min, max int64
	}{
		{"eq object", `{` + exp + `,"conditions":[{"bUcKeT":"b"}]}`, []postCondition{{"eq", "bucket", "b"}}, 0, maxPutSize},
		{"operators any case", `{` + exp + `,"conditions":[["StArTs-WiTh","$KeY","foo"],["EQ","$acl","private"]]}`,
			[]postCondition{{"starts-with", "key", "foo"}, {"eq", "acl", "private"}}, 0, maxPutSize},
		{"length range", `{` + exp + `,"conditions":[["content-length-range",1,1024]]}`, nil, 1, 1024},
		{"length range as strings", `{` + exp + `,"conditions":[["content-length-range","1","10"]]}`, nil, 1, 10},
		{"empty list", `{` + exp + `,"conditions":[]}`, nil, 0, maxPutSize},
		{"fractional expiration", `{"expiration":"2030-01-01T00:00:00.000Z","conditions":[]}`, nil, 0, maxPutSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := parsePostPolicy(b64(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if len(p.conditions) != len(tt.want) {
				t.Fatalf("conditions = %v, want %v", p.conditions, tt.want)
			}
			for i := range tt.want {
				if p.conditions[i] != tt.want[i] {
					t.Errorf("condition %d = %v, want %v", i, p.conditions[i], tt.want[i])
				}
			}
			if p.minSize != tt.min || p.maxSize != tt.max {
				t.Errorf("range = %d..%d, want %d..%d", p.minSize, p.maxSize, tt.min, tt.max)
			}
		})
	}
}

func TestParsePostPolicyInvalid(t *testing.T) {
	const exp = `"expiration":"2030-01-01T00:00:00Z"`
	for name, doc := range map[string]string{
		"not json":              `{`,
		"no expiration":         `{"conditions":[]}`,
		"EXPIRATION":            `{"EXPIRATION":"2030-01-01T00:00:00Z","conditions":[]}`,
		"python date":           `{"expiration":"2030-01-01 00:00:00.123+00:00","conditions":[]}`,
		"no conditions":         `{` + exp + `}`,
		"CONDITIONS":            `{` + exp + `,"CONDITIONS":[]}`,
		"null conditions":       `{` + exp + `,"conditions":null}`,
		"empty object":          `{` + exp + `,"conditions":[{}]}`,
		"number value":          `{` + exp + `,"conditions":[{"acl":1}]}`,
		"empty array":           `{` + exp + `,"conditions":[[]]}`,
		"unknown op":            `{` + exp + `,"conditions":[["ends-with","$key","x"]]}`,
		"no dollar":             `{` + exp + `,"conditions":[["eq","key","x"]]}`,
		"two args":              `{` + exp + `,"conditions":[["eq","$key"]]}`,
		"range one bound":       `{` + exp + `,"conditions":[["content-length-range",0]]}`,
		"range negative":        `{` + exp + `,"conditions":[["content-length-range",-1,0]]}`,
		"range reversed":        `{` + exp + `,"conditions":[["content-length-range",10,1]]}`,
		"range fraction":        `{` + exp + `,"conditions":[["content-length-range",0.5,1]]}`,
		"condition is a string": `{` + exp + `,"conditions":["key"]}`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parsePostPolicy(b64(doc))
			if !errors.Is(err, s3err.InvalidPolicyDocument) {
				t.Fatalf("got %v, want InvalidPolicyDocument", err)
			}
		})
	}
	if _, err := parsePostPolicy("!!"); !errors.Is(err, s3err.InvalidPolicyDocument) {
		t.Fatalf("bad base64: got %v", err)
	}
}

func TestPostPolicyCheck(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := &postPolicy{expiration: now.Add(time.Hour), conditions: []postCondition{
		{"eq", "bucket", "b"}, {"starts-with", "key", "foo"}, {"starts-with", "content-type", "image/"},
	}}
	base := func() map[string]string {
		return map[string]string{"bucket": "b", "key": "foo.txt", "content-type": "image/png", "policy": "x", "signature": "s",
			"awsaccesskeyid": "a", "x-ignore-me": "1", "x-amz-checksum-sha256": "c"}
	}
	tests := []struct {
		name string
		mod  func(map[string]string)
		at   time.Time
		ok   bool
	}{
		{"ok", func(map[string]string) {}, now, true},
		{"content types list", func(f map[string]string) { f["content-type"] = "image/png, image/gif" }, now, true},
		{"one type off", func(f map[string]string) { f["content-type"] = "image/png,text/plain" }, now, false},
		{"expired", func(map[string]string) {}, now.Add(2 * time.Hour), false},
		{"eq fails", func(f map[string]string) { f["bucket"] = "c" }, now, false},
		{"prefix fails", func(f map[string]string) { f["key"] = "bar" }, now, false},
		{"missing field", func(f map[string]string) { delete(f, "key") }, now, false},
		{"extra field", func(f map[string]string) { f["acl"] = "private" }, now, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := base()
			tt.mod(f)
			err := p.check(f, tt.at)
			if tt.ok != (err == nil) {
				t.Fatalf("check = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, s3err.AccessDenied) {
				t.Fatalf("got %v, want AccessDenied", err)
			}
		})
	}
}

// formBody builds a multipart/form-data body from name/value pairs in
// order; the pair named "file" is the file part.
func formBody(t testing.TB, pairs ...string) (body []byte, contentType string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for i := 0; i+1 < len(pairs); i += 2 {
		var w io.Writer
		var err error
		if strings.EqualFold(pairs[i], "file") {
			w, err = mw.CreateFormFile(pairs[i], "upload.txt")
		} else {
			w, err = mw.CreateFormField(pairs[i])
		}
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, pairs[i+1])
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

func TestReadPostForm(t *testing.T) {
	body, ct := formBody(t, "KEY", "k", "Content-Type", "text/plain", "file", "hello", "acl", "after-file")
	form, err := readPostForm(bytes.NewReader(body), ct)
	if err != nil {
		t.Fatal(err)
	}
	if form.fields["key"] != "k" || form.fields["content-type"] != "text/plain" || form.fileName != "upload.txt" {
		t.Fatalf("fields = %v, file name %q", form.fields, form.fileName)
	}
	if _, ok := form.fields["acl"]; ok {
		t.Error("a field after the file was read")
	}
	if got, _ := io.ReadAll(form.file); string(got) != "hello" {
		t.Errorf("file = %q, want hello", got)
	}

	errs := []struct {
		name string
		body []byte
		ct   string
		want *s3err.Error
	}{
		{"not multipart", []byte("a=b"), "application/x-www-form-urlencoded", s3err.MalformedPOSTRequest},
		{"no boundary", body, "multipart/form-data", s3err.MalformedPOSTRequest},
		{"wrong boundary", body, "multipart/form-data; boundary=nope", s3err.MalformedPOSTRequest},
		{"no file", must(formBody(t, "key", "k")), "", s3err.IncorrectNumberOfFilesInPost},
		{"fields too large", must(formBody(t, "key", strings.Repeat("k", maxPostPreData+1), "file", "x")), "", s3err.MaxPostPreDataLengthExceeded},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			b, c := tt.body, tt.ct
			if c == "" {
				c = "multipart/form-data; boundary=" + boundaryOf(b)
			}
			_, err := readPostForm(bytes.NewReader(b), c)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %s", err, tt.want.Code)
			}
		})
	}
}

func must(b []byte, _ string) []byte { return b }

// boundaryOf returns the boundary of a body built by formBody.
func boundaryOf(b []byte) string {
	line, _, _ := bytes.Cut(b, []byte("\r\n"))
	return string(bytes.TrimPrefix(line, []byte("--")))
}

func TestPostKey(t *testing.T) {
	tests := []struct {
		key, file, want string
		ok              bool
	}{
		{"a/${filename}", "f.txt", "a/f.txt", true},
		{`\$foo`, "f", `\$foo`, true},
		{"${filename}", "", "", false},
		{"", "f", "", false},
	}
	for _, tt := range tests {
		got, err := postKey(map[string]string{"key": tt.key}, tt.file)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("postKey(%q, %q) = %q, %v; want %q", tt.key, tt.file, got, err, tt.want)
		}
	}
}

func TestSizeRange(t *testing.T) {
	tests := []struct {
		body     string
		min, max int64
		want     error
	}{
		{"abc", 0, 3, nil},
		{"abc", 3, 3, nil},
		{"abcd", 0, 3, s3err.EntityTooLarge},
		{"ab", 3, 10, s3err.EntityTooSmall},
		{"", 0, 0, nil},
	}
	for _, tt := range tests {
		r := &sizeRange{r: iotest.OneByteReader(strings.NewReader(tt.body)), min: tt.min, max: tt.max}
		_, err := io.ReadAll(r)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%q in %d..%d: got %v, want %v", tt.body, tt.min, tt.max, err, tt.want)
		}
	}
}

func TestPostRedirectAndStatus(t *testing.T) {
	got := postRedirect(map[string]string{"success_action_redirect": "http://h/b"}, "b", "a b/c", "e1")
	if want := "http://h/b?bucket=b&key=a%20b%2Fc&etag=%22e1%22"; got != want {
		t.Errorf("redirect = %q, want %q", got, want)
	}
	got = postRedirect(map[string]string{"redirect": "https://h/?x=1"}, "b", "k", "e")
	if want := "https://h/?x=1&bucket=b&key=k&etag=%22e%22"; got != want {
		t.Errorf("legacy redirect = %q, want %q", got, want)
	}
	if got := postRedirect(map[string]string{"success_action_redirect": "javascript:x"}, "b", "k", "e"); got != "" {
		t.Errorf("non-http redirect = %q, want none", got)
	}
	for v, want := range map[string]int{"200": 200, "201": 201, "204": 204, "404": 204, "": 204} {
		if got := postStatus(map[string]string{"success_action_status": v}); got != want {
			t.Errorf("status %q = %d, want %d", v, got, want)
		}
	}
}

// FuzzPostPolicy checks that the policy parser and the condition evaluator
// never panic and keep their invariants on arbitrary documents.
func FuzzPostPolicy(f *testing.F) {
	for _, s := range []string{
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[{"bucket":"b"},["starts-with","$key","f"],["content-length-range",0,10]]}`,
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[{}]}`,
		`{"expiration":"x","conditions":[["eq","$a"]]}`,
		`{"expiration":"2030-01-01T00:00:00Z","conditions":[["content-length-range","9223372036854775807","-1"]]}`,
	} {
		f.Add(s, "key", "value")
	}
	f.Fuzz(func(t *testing.T, doc, field, value string) {
		p, err := parsePostPolicy(b64(doc))
		if err != nil {
			if s3err.As(err) == nil {
				t.Fatalf("error %v is not an S3 error", err)
			}
			return
		}
		if p.minSize < 0 || p.minSize > p.maxSize || p.maxSize > maxPutSize {
			t.Fatalf("range %d..%d", p.minSize, p.maxSize)
		}
		for _, c := range p.conditions {
			if c.op != "eq" && c.op != "starts-with" || c.field != strings.ToLower(c.field) {
				t.Fatalf("condition %+v not normalised", c)
			}
		}
		err = p.check(map[string]string{strings.ToLower(field): value}, time.Unix(0, 0))
		if err != nil && !errors.Is(err, s3err.AccessDenied) {
			t.Fatalf("check: %v", err)
		}
	})
}
