package policy

import (
	"bytes"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/tenant"
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
	// Resource is the ARN addressed: arn:aws:s3::<tenant>:bucket or
	// arn:aws:s3::<tenant>:bucket/key (the tenant is empty for the default
	// tenant: arn:aws:s3:::bucket).
	Resource string
	// Tenant is the tenant of the policy's bucket: a policy Resource whose
	// account field is empty or "*" stands for a resource of this tenant
	// (RGW fills it in when it parses a policy), so a default-tenant
	// pattern never matches another tenant's bucket.
	Tenant string
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
	if s.matchResource(r.Resource, r.Tenant) == s.NotResource {
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
			if awsPrincipalMatches(p.Value, r.UserID) {
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

// awsPrincipalMatches reports whether an AWS principal names the user id
// userID ("tenant$uid"): a plain user id (as RGW accepts),
// arn:aws:iam::<tenant>:user/<uid> (the default tenant's users with an
// empty account), or arn:aws:iam::<tenant>:root, every user of the tenant
// and nobody else, as in RGW. (Before tenants Cairn also read it as the
// default tenant's user whose uid is <tenant>; two readings of one
// principal let a grant meant for a tenant reach an unrelated user, and an
// old grant to a user grow to a tenant created later.)
func awsPrincipalMatches(v, userID string) bool {
	if !strings.HasPrefix(v, "arn:") {
		return v == userID
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) != 6 {
		return false
	}
	account := parts[4]
	if u, ok := strings.CutPrefix(parts[5], "user/"); ok {
		return tenant.User(account, u) == userID
	}
	if parts[5] == "root" {
		return account != "" && account == tenant.OfUser(userID)
	}
	return false
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

func (s *Statement) matchResource(res, t string) bool {
	for _, p := range s.Resources {
		if p == "*" || Match(inTenant(p, t), res) {
			return true
		}
	}
	return false
}

// inTenant is a Resource pattern with an empty or "*" account field
// replaced by the policy's tenant, as RGW reads it.
func inTenant(pattern, t string) string {
	parts := strings.SplitN(pattern, ":", 6)
	if len(parts) != 6 || parts[4] != "" && parts[4] != "*" {
		return pattern
	}
	parts[4] = t
	return strings.Join(parts, ":")
}

// CheckTenant refuses a policy of a bucket of tenant t whose resources
// name another tenant: as in RGW, a policy cannot grant access to
// resources owned by another tenant.
func (p *Policy) CheckTenant(t string) error {
	for _, s := range p.Statements {
		for _, r := range s.Resources {
			parts := strings.SplitN(r, ":", 6)
			if len(parts) == 6 && parts[4] != "" && parts[4] != "*" && parts[4] != t {
				return errorf("Policy owned by tenant `%s` cannot grant access to resource owned by tenant `%s`.", t, parts[4])
			}
		}
	}
	return nil
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
