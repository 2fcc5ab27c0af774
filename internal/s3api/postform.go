package s3api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// This file holds the pure parts of POST Object (browser-based uploads): the
// multipart/form-data reader that stops at the file field, and the policy
// document with its conditions. post.go wires them to auth and the store.

const (
	// maxPostPreData bounds the form fields preceding the file, as S3 does
	// (MaxPostPreDataLengthExceeded beyond 20 KB).
	maxPostPreData = 20 << 10
	// maxPostParts bounds the number of fields read before the file, so that
	// a stream of empty parts cannot keep the loop going.
	maxPostParts = 1000
	// postFileField names the field carrying the object's content.
	postFileField = "file"
)

// postForm is a POST Object form read up to its file field. Fields after
// the file are never read, as in S3.
type postForm struct {
	// fields maps lower-cased field names to values: S3 matches form
	// field names case-insensitively. A repeated field keeps its last value.
	fields   map[string]string
	file     io.Reader // the file field's content, streaming from the body
	fileName string    // the file part's filename, for ${filename} in the key
}

// readPostForm reads the fields of a multipart/form-data body up to and
// including the head of the file field; the file's content is left to
// stream from form.file.
func readPostForm(body io.Reader, contentType string) (*postForm, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || !strings.EqualFold(mt, "multipart/form-data") || params["boundary"] == "" {
		return nil, s3err.MalformedPOSTRequest.WithMessage("The body of your POST request is not well-formed multipart/form-data: Content-Type must be multipart/form-data with a boundary.")
	}
	mr := multipart.NewReader(body, params["boundary"])
	form := &postForm{fields: make(map[string]string)}
	budget := int64(maxPostPreData)
	for range maxPostParts {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, s3err.IncorrectNumberOfFilesInPost
		}
		if err != nil {
			return nil, s3err.MalformedPOSTRequest.WithCause(err)
		}
		name := strings.ToLower(part.FormName())
		if name == "" {
			return nil, s3err.MalformedPOSTRequest.WithMessage("The body of your POST request is not well-formed multipart/form-data: a part has no form-data name.")
		}
		if name == postFileField {
			form.file, form.fileName = part, part.FileName()
			return form, nil
		}
		v, err := io.ReadAll(io.LimitReader(part, budget+1))
		if err != nil {
			return nil, s3err.MalformedPOSTRequest.WithCause(err)
		}
		if budget -= int64(len(v)); budget < 0 {
			return nil, s3err.MaxPostPreDataLengthExceeded
		}
		form.fields[name] = string(v)
	}
	return nil, s3err.MaxPostPreDataLengthExceeded
}

// postKey returns the object key of a form, with ${filename} replaced by
// the file's name.
func postKey(fields map[string]string, fileName string) (string, error) {
	key, ok := fields["key"]
	if !ok || key == "" {
		return "", s3err.InvalidArgument.WithMessage("Bucket POST must contain a field named 'key'.  If it is specified, please check the order of the fields.")
	}
	if key = strings.ReplaceAll(key, "${filename}", fileName); key == "" {
		return "", s3err.InvalidArgument.WithMessage("The key is empty once ${filename} is replaced by the file's name.")
	}
	return key, checkFormKey(key)
}

// postHeaderFields are the form fields that set what the same-named (or,
// for acl, x-amz-acl) header sets on a PUT; x-amz-meta-*,
// x-amz-checksum-* and x-amz-server-side-encryption* fields are passed on
// too.
var postHeaderFields = map[string]string{
	"acl": "X-Amz-Acl", "content-type": "", "cache-control": "", "content-disposition": "",
	"content-encoding": "", "expires": "", "x-amz-storage-class": "",
}

// postHeader returns the PUT headers a form's fields stand for, so that
// POST shares PUT's metadata and checksum parsing.
func postHeader(fields map[string]string) http.Header {
	h := make(http.Header)
	for name, v := range fields {
		hn, ok := postHeaderFields[name]
		switch {
		case ok && hn != "":
			h.Set(hn, v)
		case ok, strings.HasPrefix(name, "x-amz-meta-"), strings.HasPrefix(name, "x-amz-checksum-"),
			strings.HasPrefix(name, "x-amz-server-side-encryption"):
			h.Set(textproto.CanonicalMIMEHeaderKey(name), v)
		}
	}
	return h
}

// postPolicy is a decoded POST policy document.
type postPolicy struct {
	expiration time.Time
	conditions []postCondition
	// minSize and maxSize are the content-length-range (0 and maxPutSize
	// when the policy has none).
	minSize, maxSize int64
}

// postCondition is one eq or starts-with condition on a form field.
type postCondition struct {
	op    string // "eq" or "starts-with"
	field string // lower-cased field name, without "$"
	value string
}

func errPolicy(format string, args ...any) *s3err.Error {
	return s3err.InvalidPolicyDocument.WithMessage("Invalid Policy: "+format, args...)
}

// parsePostPolicy decodes the policy field: base64 of a JSON object whose
// "expiration" and "conditions" members are required and, unlike field
// names and operators, case-sensitive.
func parsePostPolicy(b64 string) (*postPolicy, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil {
		return nil, errPolicy("Invalid Base64 encoding.")
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, errPolicy("Invalid JSON.")
	}
	p := &postPolicy{maxSize: maxPutSize}
	var exp string
	if err := json.Unmarshal(doc["expiration"], &exp); err != nil || exp == "" {
		return nil, errPolicy("Policy missing expiration.")
	}
	if p.expiration, err = time.Parse(time.RFC3339Nano, exp); err != nil {
		return nil, errPolicy("Invalid 'expiration' value: '%s'", exp)
	}
	var conds []json.RawMessage
	if err := json.Unmarshal(doc["conditions"], &conds); err != nil || conds == nil {
		return nil, errPolicy("Policy missing conditions.")
	}
	for _, c := range conds {
		if err := p.addCondition(c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// addCondition parses one condition: {"field": "value"} (eq) or
// [op, "$field", value] with op eq, starts-with (in any case) or
// content-length-range with two integer bounds.
func (p *postPolicy) addCondition(c json.RawMessage) error {
	c = bytes.TrimSpace(c)
	if len(c) > 0 && c[0] == '{' {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(c, &m); err != nil || len(m) == 0 {
			return errPolicy("Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.")
		}
		for name, raw := range m {
			var v string
			if err := json.Unmarshal(raw, &v); err != nil {
				return errPolicy("Invalid Simple-Condition: value of %q must be a string.", name)
			}
			p.conditions = append(p.conditions, postCondition{op: "eq", field: strings.ToLower(name), value: v})
		}
		return nil
	}
	var a []json.RawMessage
	if err := json.Unmarshal(c, &a); err != nil || len(a) == 0 {
		return errPolicy("Invalid Condition: a condition must be an object or an array.")
	}
	var op string
	if err := json.Unmarshal(a[0], &op); err != nil {
		return errPolicy("Invalid Condition: the operation must be a string.")
	}
	switch op = strings.ToLower(op); op {
	case "content-length-range":
		return p.addLengthRange(a)
	case "eq", "starts-with":
	default:
		return errPolicy("Invalid Condition: unknown operation %q.", op)
	}
	var field, value string
	if len(a) != 3 || json.Unmarshal(a[1], &field) != nil || json.Unmarshal(a[2], &value) != nil {
		return errPolicy("Invalid Condition: %s takes a $field name and a string value.", op)
	}
	name, ok := strings.CutPrefix(field, "$")
	if !ok || name == "" {
		return errPolicy("Invalid Condition: field name %q must start with '$'.", field)
	}
	p.conditions = append(p.conditions, postCondition{op: op, field: strings.ToLower(name), value: value})
	return nil
}

func (p *postPolicy) addLengthRange(a []json.RawMessage) error {
	bad := errPolicy("Invalid content-length-range: it takes two integers 0 <= min <= max.")
	if len(a) != 3 {
		return bad
	}
	var b [2]int64
	for i := range b {
		var n json.Number
		if err := json.Unmarshal(a[i+1], &n); err != nil {
			return bad
		}
		v, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			return bad
		}
		b[i] = v
	}
	if b[0] < 0 || b[1] < b[0] {
		return bad
	}
	p.minSize, p.maxSize = b[0], min(b[1], maxPutSize)
	return nil
}

// postExempt reports whether a form field may be absent from the policy's
// conditions: the signature fields, the policy itself, x-ignore-* fields
// (as S3 documents) and x-amz-checksum-* fields, whose values are verified
// against the content anyway (ceph/s3-tests expects this).
func postExempt(name string) bool {
	switch name {
	case "policy", "signature", "awsaccesskeyid", "x-amz-signature", postFileField:
		return true
	}
	return strings.HasPrefix(name, "x-ignore-") || strings.HasPrefix(name, "x-amz-checksum-")
}

// check evaluates the policy at now against the form fields (lower-cased
// names; fields["bucket"] is the bucket the form was posted to): it must
// not have expired, every condition must hold, and every field not exempt
// must be named by a condition. The content-length-range is enforced while
// the file streams (see sizeRange).
func (p *postPolicy) check(fields map[string]string, now time.Time) error {
	if !now.Before(p.expiration) {
		return s3err.AccessDenied.WithMessage("Invalid according to Policy: Policy expired.")
	}
	covered := make(map[string]bool, len(p.conditions))
	for _, c := range p.conditions {
		covered[c.field] = true
		if !c.holds(fields[c.field]) {
			return s3err.AccessDenied.WithMessage("Invalid according to Policy: Policy Condition failed: [\"%s\", \"$%s\", \"%s\"]", c.op, c.field, c.value)
		}
	}
	for name := range fields {
		if !covered[name] && !postExempt(name) {
			return s3err.AccessDenied.WithMessage("Invalid according to Policy: Extra input fields: %s", name)
		}
	}
	return nil
}

// holds evaluates a condition on a field's value ("" when absent). A
// starts-with on Content-Type applies to each of a comma-separated list.
func (c postCondition) holds(v string) bool {
	if c.op == "eq" {
		return v == c.value
	}
	if c.field != "content-type" {
		return strings.HasPrefix(v, c.value)
	}
	for t := range strings.SplitSeq(v, ",") {
		if !strings.HasPrefix(strings.TrimSpace(t), c.value) {
			return false
		}
	}
	return true
}

// sizeRange enforces a content-length-range on a streaming body: a Read
// past max fails with EntityTooLarge and EOF before min with
// EntityTooSmall, so the store commits nothing in either case.
type sizeRange struct {
	r        io.Reader
	n        int64
	min, max int64
	err      error // sticky
}

func (s *sizeRange) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.r.Read(p)
	s.n += int64(n)
	switch {
	case s.n > s.max:
		n, err = 0, s3err.EntityTooLarge
	case errors.Is(err, io.EOF) && s.n < s.min:
		err = s3err.EntityTooSmall
	case err != nil && !errors.Is(err, io.EOF):
		err = s3err.MalformedPOSTRequest.WithCause(err)
	}
	if err != nil {
		s.err = err
	}
	return n, err
}

// postRedirect returns the URL a successful upload redirects to, with the
// bucket, key and quoted ETag appended to its query, or "" when the form
// asks for no (valid) redirect.
func postRedirect(fields map[string]string, bucket, key, etag string) string {
	target := fields["success_action_redirect"]
	if target == "" {
		target = fields["redirect"]
	}
	if !strings.HasPrefix(target, "http://") && !strings.HasPrefix(target, "https://") {
		return ""
	}
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	return target + sep + "bucket=" + queryEscape(bucket) + "&key=" + queryEscape(key) + "&etag=" + queryEscape(quoteETag(etag))
}

// queryEscape escapes a query value with %20 for spaces, as S3 does.
func queryEscape(s string) string {
	var b strings.Builder
	for i := range len(s) {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte("0123456789ABCDEF"[c>>4])
		b.WriteByte("0123456789ABCDEF"[c&15])
	}
	return b.String()
}

// postStatus is the status of a successful upload without redirect:
// success_action_status 200 or 201, anything else 204.
func postStatus(fields map[string]string) int {
	switch fields["success_action_status"] {
	case "200":
		return http.StatusOK
	case "201":
		return http.StatusCreated
	}
	return http.StatusNoContent
}
