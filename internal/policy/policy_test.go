package policy

import (
	"errors"
	"strings"
	"testing"
)

func mustParse(t *testing.T, doc string) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, doc string }{
		{"not json", `{"Version":`},
		{"not object", `[]`},
		{"trailing data", `{"Statement":[]} {}`},
		{"no statement", `{"Version":"2012-10-17"}`},
		{"empty statements", `{"Statement":[]}`},
		{"bad version", `{"Version":"2020-01-01","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`},
		{"unknown field", `{"Foo":1,"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}}`},
		{"bad effect", `{"Statement":{"Effect":"Maybe","Principal":"*","Action":"s3:*","Resource":"*"}}`},
		{"no effect", `{"Statement":{"Principal":"*","Action":"s3:*","Resource":"*"}}`},
		{"no principal", `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`},
		{"no action", `{"Statement":{"Effect":"Allow","Principal":"*","Resource":"*"}}`},
		{"no resource", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*"}}`},
		{"bad action", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"ec2:Run","Resource":"*"}}`},
		{"bad resource", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"bucket"}}`},
		{"bad principal string", `{"Statement":{"Effect":"Allow","Principal":"bob","Action":"s3:*","Resource":"*"}}`},
		{"bad principal kind", `{"Statement":{"Effect":"Allow","Principal":{"Foo":"x"},"Action":"s3:*","Resource":"*"}}`},
		{"bad principal arn", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::x:group/g"},"Action":"s3:*","Resource":"*"}}`},
		{"allow notprincipal", `{"Statement":{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::t:root"},"Action":"s3:*","Resource":"*"}}`},
		{"both action forms", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","NotAction":"s3:Get*","Resource":"*"}}`},
		{"bad operator", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringSorta":{"s3:prefix":"a"}}}}`},
		{"bad numeric", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"x"}}}}`},
		{"bad cidr", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/99"}}}}`},
		{"bad set", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"ForSome:StringEquals":{"k":"v"}}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, want *Error", err)
			}
		})
	}
}

func TestEvaluate(t *testing.T) {
	const bucket = "arn:aws:s3:::b"
	vals := func(m map[string][]string) func(string) ([]string, bool) {
		return func(k string) ([]string, bool) {
			v, ok := m[strings.ToLower(k)]
			return v, ok
		}
	}
	stmt := func(effect, principal, action, resource, cond string) string {
		s := `{"Effect":"` + effect + `","Principal":` + principal + `,"Action":` + action + `,"Resource":` + resource
		if cond != "" {
			s += `,"Condition":` + cond
		}
		return s + "}"
	}
	doc := func(stmts ...string) string {
		return `{"Version":"2012-10-17","Statement":[` + strings.Join(stmts, ",") + `]}`
	}
	anyone := `{"AWS":"*"}`
	tests := []struct {
		name string
		doc  string
		req  Request
		want Decision
	}{
		{"allow list", doc(stmt("Allow", anyone, `"s3:ListBucket"`, `["`+bucket+`","`+bucket+`/*"]`, "")),
			Request{UserID: "alt", Action: "s3:ListBucket", Resource: bucket}, Allowed},
		{"action case-insensitive", doc(stmt("Allow", anyone, `"S3:listbucket"`, `"`+bucket+`"`, "")),
			Request{UserID: "alt", Action: "s3:ListBucket", Resource: bucket}, Allowed},
		{"other action", doc(stmt("Allow", anyone, `"s3:ListBucket"`, `"`+bucket+`"`, "")),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: bucket + "/k"}, NoMatch},
		{"wildcard action", doc(stmt("Allow", `"*"`, `"s3:Get*"`, `"`+bucket+`/*"`, "")),
			Request{Anonymous: true, Action: "s3:GetObject", Resource: bucket + "/k"}, Allowed},
		{"star action", doc(stmt("Allow", `"*"`, `"*"`, `"*"`, "")),
			Request{Anonymous: true, Action: "s3:PutObject", Resource: bucket + "/k"}, Allowed},
		{"bucket resource only", doc(stmt("Allow", anyone, `"s3:PutObject"`, `"`+bucket+`"`, "")),
			Request{UserID: "alt", Action: "s3:PutObject", Resource: bucket + "/k"}, NoMatch},
		{"deny wins", doc(stmt("Allow", anyone, `"s3:*"`, `"`+bucket+`/*"`, ""), stmt("Deny", anyone, `"s3:GetObject"`, `"`+bucket+`/*"`, "")),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: bucket + "/k"}, Denied},
		{"user arn", doc(stmt("Allow", `{"AWS":["arn:aws:iam:::user/alt"]}`, `"s3:GetObject"`, `"`+bucket+`/*"`, "")),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: bucket + "/k"}, Allowed},
		{"tenant user arn", doc(stmt("Allow", `{"AWS":"arn:aws:iam::tenant:user/alt"}`, `"s3:GetObject"`, `"`+bucket+`/*"`, "")),
			Request{UserID: "tenant$alt", Action: "s3:GetObject", Resource: bucket + "/k"}, Allowed},
		{"tenant user arn, same uid in the default tenant", doc(stmt("Allow", `{"AWS":"arn:aws:iam::tenant:user/alt"}`, `"s3:GetObject"`, `"`+bucket+`/*"`, "")),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: bucket + "/k"}, NoMatch},
		{"default-tenant user arn, same uid in a tenant", doc(stmt("Allow", `{"AWS":"arn:aws:iam:::user/alt"}`, `"s3:GetObject"`, `"`+bucket+`/*"`, "")),
			Request{UserID: "tenant$alt", Action: "s3:GetObject", Resource: bucket + "/k"}, NoMatch},
		{"tenant root is every user of the tenant", doc(stmt("Allow", `{"AWS":"arn:aws:iam::tenant:root"}`, `"s3:GetObject"`, `"`+bucket+`/*"`, "")),
			Request{UserID: "tenant$bob", Action: "s3:GetObject", Resource: bucket + "/k"}, Allowed},
		{"tenant root, another tenant", doc(stmt("Allow", `{"AWS":"arn:aws:iam::tenant:root"}`, `"s3:GetObject"`, `"`+bucket+`/*"`, "")),
			Request{UserID: "other$bob", Action: "s3:GetObject", Resource: bucket + "/k"}, NoMatch},
		{"canonical tenant user", doc(stmt("Allow", `{"CanonicalUser":"tenant$alt"}`, `"s3:GetObject"`, `"`+bucket+`/*"`, "")),
			Request{UserID: "tenant$alt", Action: "s3:GetObject", Resource: bucket + "/k"}, Allowed},
		{"empty account is the bucket's tenant", doc(stmt("Allow", anyone, `"s3:GetObject"`, `"arn:aws:s3:::b/*"`, "")),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: "arn:aws:s3::t1:b/k", Tenant: "t1"}, Allowed},
		{"star account is the bucket's tenant", doc(stmt("Allow", anyone, `"s3:GetObject"`, `"arn:aws:s3::*:b/*"`, "")),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: "arn:aws:s3::t1:b/k", Tenant: "t1"}, Allowed},
		{"default-tenant resource, tenant bucket of the same name", doc(stmt("Allow", anyone, `"s3:GetObject"`, `"arn:aws:s3:::b/*"`, "")),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: "arn:aws:s3::t1:b/k", Tenant: ""}, NoMatch},
		{"resource of another tenant", doc(stmt("Allow", anyone, `"s3:GetObject"`, `"arn:aws:s3::t2:b/*"`, "")),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: "arn:aws:s3::t1:b/k", Tenant: "t1"}, NoMatch},
		{"plain uid", doc(stmt("Allow", `{"AWS":"alt"}`, `"s3:GetObject"`, `"`+bucket+`/*"`, "")),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: bucket + "/k"}, Allowed},
		{"user arn other user", doc(stmt("Allow", `{"AWS":"arn:aws:iam:::user/alt"}`, `"s3:GetObject"`, `"`+bucket+`/*"`, "")),
			Request{UserID: "bob", Action: "s3:GetObject", Resource: bucket + "/k"}, NoMatch},
		{"user arn anonymous", doc(stmt("Allow", `{"AWS":"alt"}`, `"s3:GetObject"`, `"`+bucket+`/*"`, "")),
			Request{Anonymous: true, Action: "s3:GetObject", Resource: bucket + "/k"}, NoMatch},
		{"not principal deny", doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"root"},"Action":"s3:*","Resource":"*"}`),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: bucket + "/k"}, Denied},
		{"not principal spares", doc(`{"Effect":"Deny","NotPrincipal":{"AWS":"root"},"Action":"s3:*","Resource":"*"}`),
			Request{UserID: "root", Action: "s3:GetObject", Resource: bucket + "/k"}, NoMatch},
		{"not action", doc(`{"Effect":"Deny","Principal":"*","NotAction":"s3:Get*","Resource":"*"}`),
			Request{UserID: "alt", Action: "s3:PutObject", Resource: bucket + "/k"}, Denied},
		{"not resource", doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","NotResource":"arn:aws:s3:::b/private/*"}`),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: bucket + "/private/x"}, NoMatch},
		{"prefix like", doc(stmt("Allow", anyone, `"s3:ListBucket"`, `"`+bucket+`"`, `{"StringLike":{"s3:prefix":"public/*"}}`)),
			Request{UserID: "alt", Action: "s3:ListBucket", Resource: bucket, Values: vals(map[string][]string{"s3:prefix": {"public/a"}})}, Allowed},
		{"prefix missing", doc(stmt("Allow", anyone, `"s3:ListBucket"`, `"`+bucket+`"`, `{"StringLike":{"s3:prefix":"public/*"}}`)),
			Request{UserID: "alt", Action: "s3:ListBucket", Resource: bucket, Values: vals(nil)}, NoMatch},
		{"string not like missing", doc(stmt("Deny", anyone, `"s3:ListBucket"`, `"`+bucket+`"`, `{"StringNotLike":{"s3:prefix":"public/*"}}`)),
			Request{UserID: "alt", Action: "s3:ListBucket", Resource: bucket, Values: vals(nil)}, Denied},
		{"string not like match", doc(stmt("Deny", anyone, `"s3:ListBucket"`, `"`+bucket+`"`, `{"StringNotLike":{"s3:prefix":"public/*"}}`)),
			Request{UserID: "alt", Action: "s3:ListBucket", Resource: bucket, Values: vals(map[string][]string{"s3:prefix": {"public/x"}})}, NoMatch},
		{"max-keys le", doc(stmt("Allow", anyone, `"s3:ListBucket"`, `"`+bucket+`"`, `{"NumericLessThanEquals":{"s3:max-keys":10}}`)),
			Request{UserID: "alt", Action: "s3:ListBucket", Resource: bucket, Values: vals(map[string][]string{"s3:max-keys": {"10"}})}, Allowed},
		{"max-keys gt", doc(stmt("Allow", anyone, `"s3:ListBucket"`, `"`+bucket+`"`, `{"NumericGreaterThan":{"s3:max-keys":"10"}}`)),
			Request{UserID: "alt", Action: "s3:ListBucket", Resource: bucket, Values: vals(map[string][]string{"s3:max-keys": {"10"}})}, NoMatch},
		{"ip in", doc(stmt("Allow", anyone, `"s3:*"`, `"*"`, `{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}`)),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: bucket + "/k", Values: vals(map[string][]string{"aws:sourceip": {"127.0.0.1"}})}, Allowed},
		{"ip out", doc(stmt("Allow", anyone, `"s3:*"`, `"*"`, `{"IpAddress":{"aws:SourceIp":"10.0.0.0/32"}}`)),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: bucket + "/k", Values: vals(map[string][]string{"aws:sourceip": {"127.0.0.1"}})}, NoMatch},
		{"not ip", doc(stmt("Deny", anyone, `"s3:*"`, `"*"`, `{"NotIpAddress":{"aws:SourceIp":["10.0.0.1","192.168.0.0/16"]}}`)),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: bucket + "/k", Values: vals(map[string][]string{"aws:sourceip": {"127.0.0.1"}})}, Denied},
		{"bool", doc(stmt("Deny", anyone, `"s3:*"`, `"*"`, `{"Bool":{"aws:SecureTransport":"false"}}`)),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: bucket + "/k", Values: vals(map[string][]string{"aws:securetransport": {"false"}})}, Denied},
		{"existing tag", doc(stmt("Allow", anyone, `"s3:GetObject"`, `"`+bucket+`/*"`, `{"StringEquals":{"s3:ExistingObjectTag/security":"public"}}`)),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: bucket + "/k", Values: func(k string) ([]string, bool) {
				if k == "s3:ExistingObjectTag/security" {
					return []string{"public"}, true
				}
				return nil, false
			}}, Allowed},
		{"null true", doc(stmt("Deny", anyone, `"s3:PutObject"`, `"*"`, `{"Null":{"s3:x-amz-server-side-encryption":"true"}}`)),
			Request{UserID: "alt", Action: "s3:PutObject", Resource: bucket + "/k", Values: vals(nil)}, Denied},
		{"null false", doc(stmt("Deny", anyone, `"s3:PutObject"`, `"*"`, `{"Null":{"s3:x-amz-server-side-encryption":"true"}}`)),
			Request{UserID: "alt", Action: "s3:PutObject", Resource: bucket + "/k", Values: vals(map[string][]string{"s3:x-amz-server-side-encryption": {"AES256"}})}, NoMatch},
		{"if exists absent", doc(stmt("Allow", anyone, `"s3:GetObject"`, `"*"`, `{"StringLikeIfExists":{"aws:Referer":"http://www.example.com/*"}}`)),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: bucket + "/k", Values: vals(nil)}, Allowed},
		{"if exists mismatch", doc(stmt("Allow", anyone, `"s3:GetObject"`, `"*"`, `{"StringLikeIfExists":{"aws:Referer":"http://www.example.com/*"}}`)),
			Request{UserID: "alt", Action: "s3:GetObject", Resource: bucket + "/k", Values: vals(map[string][]string{"aws:referer": {"http://example.com"}})}, NoMatch},
		{"for all values", doc(stmt("Allow", anyone, `"s3:PutObject"`, `"*"`, `{"ForAllValues:StringEquals":{"s3:RequestObjectTagKeys":["a","b"]}}`)),
			Request{UserID: "alt", Action: "s3:PutObject", Resource: bucket + "/k", Values: vals(map[string][]string{"s3:requestobjecttagkeys": {"a", "c"}})}, NoMatch},
		{"for any value", doc(stmt("Allow", anyone, `"s3:PutObject"`, `"*"`, `{"ForAnyValue:StringEquals":{"s3:RequestObjectTagKeys":["a","b"]}}`)),
			Request{UserID: "alt", Action: "s3:PutObject", Resource: bucket + "/k", Values: vals(map[string][]string{"s3:requestobjecttagkeys": {"a", "c"}})}, Allowed},
		{"resource wildcard other bucket", doc(stmt("Allow", anyone, `"s3:ListBucket"`, `["arn:aws:s3:::*","arn:aws:s3:::*/*"]`, "")),
			Request{UserID: "alt", Action: "s3:ListBucket", Resource: "arn:aws:s3:::other"}, Allowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, tt.doc)
			if got := p.Evaluate(tt.req); got != tt.want {
				t.Errorf("Evaluate = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestIsPublic(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want bool
	}{
		{"aws star", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}}`, true},
		{"star", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, true},
		{"deny", `{"Statement":{"Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}}`, false},
		{"account", `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::s3tenant1:root"},"Action":"s3:ListBucket","Resource":"arn:aws:s3:::b"}}`, false},
		{"source ip", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/32"}}}}`, false},
		{"source ip any", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}}`, true},
		{"other condition", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"StringLike":{"s3:prefix":"p/*"}}}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mustParse(t, tt.doc).IsPublic(); got != tt.want {
				t.Errorf("IsPublic = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"a*", "abc", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/k/x", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b", false},
		{"*b*c", "xxbyyc", true},
		{"*b*c", "xxbyyd", false},
		{"abc", "abcd", false},
	}
	for _, tt := range tests {
		if got := Match(tt.pattern, tt.s); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

// FuzzParse checks that Parse never panics, and that whatever it accepts
// evaluates without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:ListBucket","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"]}]}`,
		`{"Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam:::user/u"]},"NotAction":"s3:Get*","NotResource":"*"}}`,
		`{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"ForAllValues:StringLikeIfExists":{"s3:prefix":["a*",1,true]},"Null":{"k":"true"},"IpAddress":{"aws:SourceIp":"::1/128"}}}}`,
		`{}`, `[]`, `null`, `{"Statement":null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not *Error", err)
			}
			return
		}
		p.IsPublic()
		p.Evaluate(Request{UserID: "u", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k",
			Values: func(string) ([]string, bool) { return []string{"v", "1", "127.0.0.1"}, true }})
	})
}

func TestCheckTenant(t *testing.T) {
	doc := func(res string) string {
		return `{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` + res + `"}}`
	}
	for _, tt := range []struct {
		res, tenant string
		ok          bool
	}{
		{"arn:aws:s3:::b/*", "t1", true},
		{"arn:aws:s3::*:b/*", "t1", true},
		{"arn:aws:s3::t1:b/*", "t1", true},
		{"arn:aws:s3::t2:b/*", "t1", false},
		{"arn:aws:s3::t2:b/*", "", false},
		{"*", "t1", true},
	} {
		err := mustParse(t, doc(tt.res)).CheckTenant(tt.tenant)
		var pe *Error
		if (err == nil) != tt.ok || err != nil && !errors.As(err, &pe) {
			t.Errorf("CheckTenant(%q) of %s = %v, want ok=%v", tt.tenant, tt.res, err, tt.ok)
		}
	}
}
