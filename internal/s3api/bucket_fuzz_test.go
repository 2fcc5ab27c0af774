package s3api

import (
	"testing"

	"github.com/cairn-s3/cairn/internal/checksum"
)

// FuzzCompleteMultipartUpload checks that any document either parses into
// strictly ascending parts in range or fails with an S3 error, never panics.
func FuzzCompleteMultipartUpload(f *testing.F) {
	f.Add([]byte(`<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>"a"</ETag></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><PartNumber>2</PartNumber><ETag>b</ETag><ChecksumSHA256>x</ChecksumSHA256></Part><Part><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>`))
	f.Add([]byte(`<CompleteMultipartUpload/>`))
	f.Add([]byte(`<a><b>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		parts, err := parseCompleteMultipartUpload(body)
		if err != nil {
			if toS3(err).Status != 400 {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if len(parts) == 0 {
			t.Fatal("no parts accepted")
		}
		for i, p := range parts {
			if p.Number < 1 || p.Number > maxPartNumber || (i > 0 && p.Number <= parts[i-1].Number) {
				t.Fatalf("accepted bad part order %+v", parts)
			}
			for algo, v := range p.Checksums {
				if _, err := checksum.Decode(algo, v); err != nil || len(p.Checksums) > 1 {
					t.Fatalf("accepted part checksums %v", p.Checksums)
				}
			}
		}
	})
}

// FuzzCreateBucketConfiguration checks the CreateBucket body decoder.
func FuzzCreateBucketConfiguration(f *testing.F) {
	f.Add([]byte(`<CreateBucketConfiguration><LocationConstraint>us-east-1</LocationConstraint></CreateBucketConfiguration>`))
	f.Add([]byte(``))
	f.Add([]byte(`<CreateBucketConfiguration><LocationConstraint>`))
	a := &API{cfg: Config{Region: "us-east-1"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := parseCreateBucketConfiguration(body)
		if err != nil {
			if toS3(err).Status != 400 {
				t.Fatalf("error %v is not a client error", err)
			}
			return
		}
		if _, err := a.locationRegion(c.LocationConstraint); err != nil && toS3(err).Status != 400 {
			t.Fatalf("error %v is not a client error", err)
		}
	})
}

// FuzzValidBucketName checks the validator against the rules stated
// independently.
func FuzzValidBucketName(f *testing.F) {
	for _, s := range []string{"abc", "a..b", "1.2.3.4", "A-b", "a-.b", "xn--a", "my.bucket-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if !validBucketName(name) {
			return
		}
		if len(name) < 3 || len(name) > 63 {
			t.Fatalf("accepted length %d", len(name))
		}
		for i, c := range []byte(name) {
			alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
			if !alnum && c != '.' && c != '-' {
				t.Fatalf("accepted byte %q in %q", c, name)
			}
			if (i == 0 || i == len(name)-1) && !alnum {
				t.Fatalf("accepted %q with non-alphanumeric end", name)
			}
		}
		for _, bad := range []string{"..", ".-", "-."} {
			if contains(name, bad) {
				t.Fatalf("accepted %q containing %q", name, bad)
			}
		}
		dots, digitsOnly := 0, true
		for _, c := range []byte(name) {
			if c == '.' {
				dots++
			} else if c < '0' || c > '9' {
				digitsOnly = false
			}
		}
		if dots == 3 && digitsOnly && validIPv4(name) {
			t.Fatalf("accepted IP address %q", name)
		}
	})
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// validIPv4 is a plain dotted-quad check written apart from net.ParseIP.
func validIPv4(s string) bool {
	n, parts := 0, 0
	digits := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == '.' {
			if digits == 0 {
				return false
			}
			parts++
			n, digits = 0, 0
			continue
		}
		n = n*10 + int(s[i]-'0')
		digits++
		if digits > 3 {
			return false
		}
	}
	return parts == 4
}
