package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// Topic actions (spec §2.12).
const (
	ActionCreateTopic        = "sns:CreateTopic"
	ActionGetTopicAttributes = "sns:GetTopicAttributes"
	ActionSetTopicAttributes = "sns:SetTopicAttributes"
	ActionDeleteTopic        = "sns:DeleteTopic"
	ActionPublish            = "sns:Publish"
)

// policy is a topic policy in IAM grammar. Only what topic decisions need
// is modelled: Effect, Principal (AWS), Action and Resource. Statements
// with a Condition are kept but never match (Cairn evaluates no
// conditions), so a conditional Allow grants nothing and a conditional Deny
// denies nothing.
type policy struct {
	Statements []statement
}

type statement struct {
	Effect     string
	Principals []string
	Actions    []string
	Resources  []string
	HasCond    bool
}

// stringList decodes a JSON string or array of strings.
type stringList []string

func (s *stringList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("expected a string or a list of strings")
	}
	*s = many
	return nil
}

type rawStatement struct {
	Sid       string          `json:"Sid"`
	Effect    string          `json:"Effect"`
	Principal json.RawMessage `json:"Principal"`
	Action    stringList      `json:"Action"`
	Resource  stringList      `json:"Resource"`
	Condition json.RawMessage `json:"Condition"`
}

// parsePolicy checks and decodes a policy document.
func parsePolicy(doc string) (*policy, error) {
	var raw struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	var stmts []rawStatement
	if err := json.Unmarshal(raw.Statement, &stmts); err != nil {
		var one rawStatement
		if err := json.Unmarshal(raw.Statement, &one); err != nil {
			return nil, errors.New("policy: Statement must be an object or a list")
		}
		stmts = []rawStatement{one}
	}
	if len(stmts) == 0 {
		return nil, errors.New("policy: no statement")
	}
	p := &policy{}
	for _, rs := range stmts {
		if rs.Effect != "Allow" && rs.Effect != "Deny" {
			return nil, fmt.Errorf("policy: invalid Effect %q", rs.Effect)
		}
		if len(rs.Action) == 0 {
			return nil, errors.New("policy: statement without Action")
		}
		princ, err := parsePrincipal(rs.Principal)
		if err != nil {
			return nil, err
		}
		p.Statements = append(p.Statements, statement{
			Effect: rs.Effect, Principals: princ, Actions: rs.Action, Resources: rs.Resource,
			HasCond: len(rs.Condition) > 0 && string(rs.Condition) != "null",
		})
	}
	return p, nil
}

// parsePrincipal accepts "*", {"AWS": "..."} and {"AWS": [...]}.
func parsePrincipal(raw json.RawMessage) ([]string, error) {
	if len(raw) == 0 {
		return nil, errors.New("policy: statement without Principal")
	}
	var star string
	if err := json.Unmarshal(raw, &star); err == nil {
		if star != "*" {
			return nil, fmt.Errorf("policy: invalid Principal %q", star)
		}
		return []string{"*"}, nil
	}
	var m map[string]stringList
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, errors.New("policy: invalid Principal")
	}
	aws, ok := m["AWS"]
	if !ok || len(aws) == 0 {
		return nil, errors.New("policy: Principal without AWS")
	}
	return aws, nil
}

// decision is the outcome of evaluating a policy.
type decision int

const (
	noDecision decision = iota
	allow
	deny
)

// eval evaluates the policy for a user, an action and a resource ARN:
// explicit Deny wins over Allow.
func (p *policy) eval(userID, action, resource string) decision {
	principal := principalARN(userID)
	d := noDecision
	for _, s := range p.Statements {
		if s.HasCond || !matchPrincipal(s.Principals, principal, userID) || !matchAny(s.Actions, action) {
			continue
		}
		if len(s.Resources) > 0 && !matchAny(s.Resources, resource) {
			continue
		}
		if s.Effect == "Deny" {
			return deny
		}
		d = allow
	}
	return d
}

// matchPrincipal reports whether the user is one of the principals: by
// its ARN, or as a user of tenant t through arn:aws:iam::t:root (RGW's
// tenant principal; never the default tenant's).
func matchPrincipal(principals []string, principal, userID string) bool {
	if matchAny(principals, principal) {
		return true
	}
	t := tenant.OfUser(userID)
	return t != "" && slices.Contains(principals, "arn:aws:iam::"+t+":root")
}

// principalARN is a user's principal in policies:
// arn:aws:iam::<tenant>:user/<uid>.
func principalARN(userID string) string { return tenant.UserARN(userID) }

// matchAny reports whether value matches one of the patterns ('*' and '?'
// wildcards; actions compare case-insensitively as IAM does).
func matchAny(patterns []string, value string) bool {
	for _, p := range patterns {
		if p == "*" {
			return true
		}
		if strings.HasPrefix(value, "sns:") {
			p, value = strings.ToLower(p), strings.ToLower(value)
		}
		// path.Match treats '/' specially; ARNs rarely need it, so escape it.
		if ok, _ := path.Match(strings.ReplaceAll(p, "/", "\x00"), strings.ReplaceAll(value, "/", "\x00")); ok {
			return true
		}
	}
	return false
}

// errOtherOwner is the denial for a non-owner without a policy grant.
var errOtherOwner = s3err.AccessDenied.WithMessage("Topic was created by another user.")

// Authorize decides whether a user may perform a topic action (spec §2.12,
// non-account requesters; identity policies are not modelled). It returns
// nil or an AccessDenied error. Whether a bucket notification may use a
// topic (sns:Publish) is AuthorizePublish's decision, not this one's.
func (o *Options) Authorize(t *Topic, userID, action string) error {
	if t.Policy != "" {
		if p, err := parsePolicy(t.Policy); err == nil {
			switch p.eval(userID, action, t.ARN(o.Zonegroup)) {
			case deny:
				return s3err.AccessDenied
			case allow:
				return nil
			}
		}
	}
	if t.Owner == userID {
		return nil
	}
	if t.Policy == "" && t.Owner == "" {
		return nil // legacy ownerless topic (RGW)
	}
	return errOtherOwner
}
