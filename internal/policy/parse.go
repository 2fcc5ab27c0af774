package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Effect is a statement's effect.
type Effect string

// The two effects.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed bucket policy.
type Policy struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one statement of a policy. Exactly one of Principal and
// NotPrincipal, of Action and NotAction, and of Resource and NotResource is
// set (Not* with the Not flag).
type Statement struct {
	Sid          string
	Effect       Effect
	Principals   []Principal
	NotPrincipal bool
	Actions      []string // lower case
	NotAction    bool
	Resources    []string
	NotResource  bool
	Conditions   []Condition
}

// Principal is one entry of a Principal block: Kind is "AWS",
// "CanonicalUser", "Service" or "Federated"; "*" alone is Kind "*".
type Principal struct {
	Kind, Value string
}

// Condition is one key test of a Condition block.
type Condition struct {
	Operator string // canonical operator name, without IfExists or set prefix
	IfExists bool
	Set      string // "", "ForAllValues" or "ForAnyValue"
	Key      string // as written; keys compare case-insensitively
	Values   []string
}

// Error is a malformed policy; its message is meant for the client.
type Error struct{ Msg string }

func (e *Error) Error() string { return "policy: " + e.Msg }

func errorf(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...)}
}

// maxStatements bounds the work a hostile document can cause.
const maxStatements = 1000

// Parse reads and validates a bucket policy document.
func Parse(data []byte) (*Policy, error) {
	var doc map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, errorf("This policy contains invalid Json")
	}
	if dec.More() {
		return nil, errorf("This policy contains invalid Json")
	}
	p := &Policy{}
	for k, v := range doc {
		var err error
		switch k {
		case "Version":
			err = json.Unmarshal(v, &p.Version)
		case "Id":
			err = json.Unmarshal(v, &p.ID)
		case "Statement":
		default:
			return nil, errorf("Unknown field %s", k)
		}
		if err != nil {
			return nil, errorf("Invalid %s", k)
		}
	}
	if p.Version != "" && p.Version != "2012-10-17" && p.Version != "2008-10-17" {
		return nil, errorf("Invalid policy version %q", p.Version)
	}
	raw, ok := doc["Statement"]
	if !ok {
		return nil, errorf("Missing required field Statement")
	}
	stmts, err := objectOrArray(raw)
	if err != nil || len(stmts) == 0 {
		return nil, errorf("Invalid Statement")
	}
	if len(stmts) > maxStatements {
		return nil, errorf("Too many statements")
	}
	for _, s := range stmts {
		st, err := parseStatement(s)
		if err != nil {
			return nil, err
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

// objectOrArray accepts one JSON object or an array of them.
func objectOrArray(raw json.RawMessage) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '{' {
		return []json.RawMessage{raw}, nil
	}
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	for _, o := range out {
		if o = bytes.TrimSpace(o); len(o) == 0 || o[0] != '{' {
			return nil, errors.New("not an object")
		}
	}
	return out, nil
}

// stringOrArray accepts a JSON string or an array of strings.
func stringOrArray(raw json.RawMessage) ([]string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return []string{s}, nil
	}
	var out []string
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, errors.New("empty list")
	}
	return out, nil
}

// scalarOrArray accepts condition values: strings, numbers or booleans,
// alone or in an array, as strings.
func scalarOrArray(raw json.RawMessage) ([]string, error) {
	var vals []any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if a, ok := v.([]any); ok {
		vals = a
	} else {
		vals = []any{v}
	}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case json.Number:
			out = append(out, x.String())
		case bool:
			out = append(out, strconv.FormatBool(x))
		default:
			return nil, errors.New("invalid condition value")
		}
	}
	return out, nil
}

func parseStatement(raw json.RawMessage) (Statement, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return Statement{}, errorf("Invalid Statement")
	}
	var st Statement
	seen := map[string]bool{}
	for k, v := range m {
		var err error
		switch k {
		case "Sid":
			err = json.Unmarshal(v, &st.Sid)
		case "Effect":
			err = json.Unmarshal(v, &st.Effect)
			if err == nil && st.Effect != Allow && st.Effect != Deny {
				return st, errorf("Invalid effect %q", st.Effect)
			}
		case "Principal", "NotPrincipal":
			st.Principals, err = parsePrincipal(v)
			st.NotPrincipal = k == "NotPrincipal"
		case "Action", "NotAction":
			st.Actions, err = stringOrArray(v)
			st.NotAction = k == "NotAction"
			if err == nil {
				err = checkActions(st.Actions)
			}
		case "Resource", "NotResource":
			st.Resources, err = stringOrArray(v)
			st.NotResource = k == "NotResource"
			if err == nil {
				err = checkResources(st.Resources)
			}
		case "Condition":
			st.Conditions, err = parseConditions(v)
		default:
			return st, errorf("Unknown field %s in Statement", k)
		}
		if err != nil {
			var pe *Error
			if errors.As(err, &pe) {
				return st, err
			}
			return st, errorf("Invalid %s", k)
		}
		seen[strings.TrimPrefix(k, "Not")] = true
	}
	switch {
	case st.Effect == "":
		return st, errorf("Missing required field Effect")
	case !seen["Principal"]:
		return st, errorf("Missing required field Principal")
	case !seen["Action"]:
		return st, errorf("Missing required field Action")
	case !seen["Resource"]:
		return st, errorf("Missing required field Resource")
	case has(m, "Principal") && has(m, "NotPrincipal"), has(m, "Action") && has(m, "NotAction"),
		has(m, "Resource") && has(m, "NotResource"):
		return st, errorf("Statement has both an element and its Not form")
	case st.NotPrincipal && st.Effect == Allow:
		return st, errorf("Allow with NotPrincipal is not supported")
	}
	for i := range st.Actions {
		st.Actions[i] = strings.ToLower(st.Actions[i])
	}
	return st, nil
}

func has(m map[string]json.RawMessage, k string) bool { _, ok := m[k]; return ok }

func parsePrincipal(raw json.RawMessage) ([]Principal, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s != "*" {
			return nil, errorf("Invalid principal %q", s)
		}
		return []Principal{{Kind: "*", Value: "*"}}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) == 0 {
		return nil, errorf("Invalid Principal")
	}
	var out []Principal
	for kind, v := range m {
		switch kind {
		case "AWS", "CanonicalUser", "Service", "Federated":
		default:
			return nil, errorf("Invalid principal type %s", kind)
		}
		vals, err := stringOrArray(v)
		if err != nil {
			return nil, errorf("Invalid Principal")
		}
		for _, val := range vals {
			if val == "" {
				return nil, errorf("Invalid principal")
			}
			if kind == "AWS" && strings.HasPrefix(val, "arn:") && !validIAMArn(val) {
				return nil, errorf("Invalid principal %s", val)
			}
			out = append(out, Principal{Kind: kind, Value: val})
		}
	}
	return out, nil
}

// validIAMArn accepts arn:aws:iam::<account>:root and
// arn:aws:iam::<account>:user/<name> (the account may be empty).
func validIAMArn(s string) bool {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[1] == "" || parts[2] != "iam" || parts[3] != "" {
		return false
	}
	res := parts[5]
	return res == "root" || (strings.HasPrefix(res, "user/") && len(res) > len("user/")) ||
		(strings.HasPrefix(res, "role/") && len(res) > len("role/"))
}

func checkActions(actions []string) error {
	for _, a := range actions {
		if a == "*" {
			continue
		}
		svc, name, ok := strings.Cut(a, ":")
		if !ok || !strings.EqualFold(svc, "s3") || name == "" {
			return errorf("Policy has invalid action %s", a)
		}
	}
	return nil
}

func checkResources(resources []string) error {
	for _, r := range resources {
		if r == "*" {
			continue
		}
		rest, ok := strings.CutPrefix(r, "arn:")
		parts := strings.SplitN(rest, ":", 5)
		if !ok || len(parts) != 5 || parts[1] != "s3" || parts[4] == "" {
			return errorf("Policy has invalid resource %s", r)
		}
	}
	return nil
}

// operators are the condition operators the engine knows, by lower-case
// name; the value is the canonical name.
var operators = func() map[string]string {
	m := map[string]string{}
	for _, op := range []string{
		"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
		"StringLike", "StringNotLike",
		"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals",
		"NumericGreaterThan", "NumericGreaterThanEquals",
		"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
		"DateGreaterThan", "DateGreaterThanEquals",
		"Bool", "BinaryEquals", "IpAddress", "NotIpAddress",
		"ArnEquals", "ArnNotEquals", "ArnLike", "ArnNotLike", "Null",
	} {
		m[strings.ToLower(op)] = op
	}
	return m
}()

func parseConditions(raw json.RawMessage) ([]Condition, error) {
	var block map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &block); err != nil {
		return nil, errorf("Invalid Condition")
	}
	var out []Condition
	for name, keys := range block {
		c := Condition{}
		opName := name
		if set, rest, ok := strings.Cut(opName, ":"); ok {
			if set != "ForAllValues" && set != "ForAnyValue" {
				return nil, errorf("Invalid condition operator %s", name)
			}
			c.Set, opName = set, rest
		}
		if base, ok := strings.CutSuffix(opName, "IfExists"); ok && base != "Null" {
			c.IfExists, opName = true, base
		}
		op, ok := operators[strings.ToLower(opName)]
		if !ok {
			return nil, errorf("Invalid condition operator %s", name)
		}
		c.Operator = op
		if len(keys) == 0 {
			return nil, errorf("Empty condition %s", name)
		}
		for key, v := range keys {
			vals, err := scalarOrArray(v)
			if err != nil || key == "" {
				return nil, errorf("Invalid condition %s", name)
			}
			cc := c
			cc.Key, cc.Values = key, vals
			if err := checkConditionValues(cc); err != nil {
				return nil, err
			}
			out = append(out, cc)
		}
	}
	return out, nil
}

// checkConditionValues rejects values an operator can never use.
func checkConditionValues(c Condition) error {
	for _, v := range c.Values {
		var bad bool
		switch {
		case strings.HasPrefix(c.Operator, "Numeric"):
			_, err := strconv.ParseFloat(v, 64)
			bad = err != nil
		case strings.HasPrefix(c.Operator, "Date"):
			_, bad = parseDate(v)
			bad = !bad
		case c.Operator == "IpAddress" || c.Operator == "NotIpAddress":
			_, err := parseCIDR(v)
			bad = err != nil
		case c.Operator == "Bool" || c.Operator == "Null":
			_, err := strconv.ParseBool(v)
			bad = err != nil
		}
		if bad {
			return errorf("Invalid value %q for condition %s", v, c.Operator)
		}
	}
	return nil
}
