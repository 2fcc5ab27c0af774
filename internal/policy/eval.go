package policy

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Decision is the outcome of evaluating a policy for a request.
type Decision int

// The three outcomes: no statement applies (the caller's default rules
// decide), an Allow applies, or a Deny applies (which wins over any Allow).
const (
	NoMatch Decision = iota
	Allowed
	Denied
)

func (d Decision) String() string {
	return [...]string{"NoMatch", "Allowed", "Denied"}[d]
}

// Request is what the engine needs to know about a request.
type Request struct {
	// UserID is the authenticated user; Anonymous is set for unsigned
	// requests (which only the "*" principal matches).
	UserID    string
	Anonymous bool
	// Action is the IAM action, for example "s3:GetObject".
	Action string
	// Resource is the ARN addressed: arn:aws:s3:::bucket or
	// arn:aws:s3:::bucket/key.
	Resource string
	// Values returns a condition key's values; key is as the policy wrote
	// it (condition keys are case-insensitive, tag names are not). ok is
	// false when the request has no such key. It is called only for keys
	// the policy tests, so it may do expensive lookups lazily.
	Values func(key string) (vals []string, ok bool)
}

// Evaluate decides a request against the policy: Denied if any matching
// statement denies, else Allowed if any allows, else NoMatch.
func (p *Policy) Evaluate(r Request) Decision {
	d := NoMatch
	for i := range p.Statements {
		s := &p.Statements[i]
		if !s.matches(r) {
			continue
		}
		if s.Effect == Deny {
			return Denied
		}
		d = Allowed
	}
	return d
}

func (s *Statement) matches(r Request) bool {
	if s.matchPrincipal(r) == s.NotPrincipal {
		return false
	}
	if s.matchAction(r.Action) == s.NotAction {
		return false
	}
	if s.matchResource(r.Resource) == s.NotResource {
		return false
	}
	for _, c := range s.Conditions {
		if !c.eval(r.Values) {
			return false
		}
	}
	return true
}

func (s *Statement) matchPrincipal(r Request) bool {
	for _, p := range s.Principals {
		if p.Kind == "*" || (p.Kind == "AWS" && p.Value == "*") {
			return true
		}
		if r.Anonymous {
			continue
		}
		switch p.Kind {
		case "AWS":
			if principalUser(p.Value) == r.UserID {
				return true
			}
		case "CanonicalUser":
			if p.Value == r.UserID {
				return true
			}
		}
	}
	return false
}

// principalUser is the user an AWS principal names: a plain user id (as
// RGW accepts), arn:aws:iam::<tenant>:user/<id>, or the account root
// arn:aws:iam::<account>:root, where Cairn's users are their own accounts.
func principalUser(v string) string {
	if !strings.HasPrefix(v, "arn:") {
		return v
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) != 6 {
		return ""
	}
	if u, ok := strings.CutPrefix(parts[5], "user/"); ok {
		return u
	}
	if parts[5] == "root" {
		return parts[4]
	}
	return ""
}

func (s *Statement) matchAction(action string) bool {
	action = strings.ToLower(action)
	for _, a := range s.Actions {
		if a == "*" || Match(a, action) {
			return true
		}
	}
	return false
}

func (s *Statement) matchResource(res string) bool {
	for _, p := range s.Resources {
		if p == "*" || Match(p, res) {
			return true
		}
	}
	return false
}

// Match reports whether s matches pattern, where '*' matches any run of
// characters and '?' any one character. It runs in O(len(pattern)·len(s)).
func Match(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// negated operators hold when no request value matches any policy value;
// they also hold when the key is absent.
var negated = map[string]string{
	"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
	"StringNotLike": "StringLike", "NumericNotEquals": "NumericEquals",
	"DateNotEquals": "DateEquals", "NotIpAddress": "IpAddress",
	"ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
}

func (c Condition) eval(lookup func(string) ([]string, bool)) bool {
	var vals []string
	ok := false
	if lookup != nil {
		vals, ok = lookup(c.Key)
	}
	if c.Operator == "Null" {
		want, _ := strconv.ParseBool(c.Values[0])
		return want == !ok
	}
	op, neg := negated[c.Operator]
	if !neg {
		op = c.Operator
	}
	if !ok {
		return c.IfExists || neg || c.Set == "ForAllValues"
	}
	anyMatch := func(v string) bool {
		for _, pv := range c.Values {
			if compare(op, v, pv) {
				return true
			}
		}
		return false
	}
	if c.Set == "ForAllValues" {
		for _, v := range vals {
			if anyMatch(v) == neg {
				return false
			}
		}
		return true
	}
	matched := false
	for _, v := range vals {
		if anyMatch(v) {
			matched = true
			break
		}
	}
	return matched != neg
}

// compare applies a positive operator to a request value and a policy value.
func compare(op, v, pv string) bool {
	switch op {
	case "StringEquals", "ArnEquals":
		return v == pv
	case "StringEqualsIgnoreCase":
		return strings.EqualFold(v, pv)
	case "StringLike", "ArnLike":
		return Match(pv, v)
	case "BinaryEquals":
		return bytes.Equal([]byte(v), []byte(pv))
	case "Bool":
		a, err1 := strconv.ParseBool(v)
		b, err2 := strconv.ParseBool(pv)
		return err1 == nil && err2 == nil && a == b
	case "IpAddress":
		prefix, err := parseCIDR(pv)
		addr, err2 := netip.ParseAddr(v)
		return err == nil && err2 == nil && prefix.Contains(addr.Unmap())
	}
	if rest, ok := strings.CutPrefix(op, "Numeric"); ok {
		a, err1 := strconv.ParseFloat(v, 64)
		b, err2 := strconv.ParseFloat(pv, 64)
		return err1 == nil && err2 == nil && order(rest, cmpFloat(a, b))
	}
	if rest, ok := strings.CutPrefix(op, "Date"); ok {
		a, ok1 := parseDate(v)
		b, ok2 := parseDate(pv)
		return ok1 && ok2 && order(rest, a.Compare(b))
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// order applies an ordering suffix (Equals, LessThan, ...) to a comparison.
func order(rel string, c int) bool {
	switch rel {
	case "Equals":
		return c == 0
	case "LessThan":
		return c < 0
	case "LessThanEquals":
		return c <= 0
	case "GreaterThan":
		return c > 0
	case "GreaterThanEquals":
		return c >= 0
	}
	return false
}

// parseDate accepts ISO 8601 times and epoch seconds.
func parseDate(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05Z0700", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

// parseCIDR accepts a CIDR block or a bare address.
func parseCIDR(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// restrictingKeys are condition keys that limit a wildcard principal to
// known callers, so a statement using them is not public (as AWS judges).
var restrictingKeys = map[string]bool{
	"aws:sourceip": true, "aws:sourcearn": true, "aws:sourcevpc": true, "aws:sourcevpce": true,
	"aws:sourceaccount": true, "aws:sourceowner": true, "aws:principalorgid": true,
	"aws:principalaccount": true, "aws:principalarn": true, "aws:userid": true,
	"aws:username": true, "s3:dataaccesspointarn": true, "s3:dataaccesspointaccount": true,
}

// IsPublic reports whether the policy grants access to everyone: an Allow
// statement whose principal is a wildcard (or NotPrincipal) and whose
// conditions do not pin callers to fixed values such as source addresses.
func (p *Policy) IsPublic() bool {
	for _, s := range p.Statements {
		if s.Effect != Allow || !s.wildcardPrincipal() {
			continue
		}
		restricted := false
		for _, c := range s.Conditions {
			if restrictingKeys[strings.ToLower(c.Key)] && !strings.Contains(c.Operator, "Not") && !c.IfExists && !wideOpen(c) {
				restricted = true
				break
			}
		}
		if !restricted {
			return true
		}
	}
	return false
}

func (s *Statement) wildcardPrincipal() bool {
	if s.NotPrincipal {
		return true
	}
	for _, p := range s.Principals {
		if p.Kind == "*" || p.Value == "*" {
			return true
		}
	}
	return false
}

// wideOpen reports whether a restricting condition still admits everyone,
// such as aws:SourceIp 0.0.0.0/0 or a "*" pattern.
func wideOpen(c Condition) bool {
	for _, v := range c.Values {
		if v == "*" {
			return true
		}
		if p, err := parseCIDR(v); err == nil && p.Bits() == 0 {
			return true
		}
	}
	return false
}
