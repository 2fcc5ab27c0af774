// Package optable is the shape of one row of an operation table: how a
// request is matched to an operation, which IAM action it performs on which
// resource, how it is authorized, and the names it goes by in metrics,
// notifications and request hooks. The S3 adapter (S3, SNS and PubSub
// operations) and the admin adapter each keep one table of these rows; the
// router of each authorizes a request from its row before the handler runs,
// so no handler chooses its own access rule.
//
// The package is a leaf: it knows no HTTP handler, store or adapter, so
// that adapters which may not import each other share the row type.
package optable

import (
	"net/http"
	"net/url"
)

// Op names one operation. It is the key that handlers, metrics labels and
// access logs use.
type Op string

// Level is the resource a request's path addresses.
type Level int

// The levels of a path.
const (
	LevelService Level = iota // no bucket: "/"
	LevelBucket               // a bucket, no key
	LevelObject               // a bucket and a key
)

// Match is how a request is recognized as the row's operation. A row
// matches when the method and level agree, the query parameter (if any) is
// present (with the given value, if any), the header (if any) is present,
// and the form field Action (if Form is set) has that value. Among the rows
// that match, the most specific wins (query > header > none); between
// equally specific rows the earlier one does.
type Match struct {
	Method string // "" matches every method
	Level  Level
	Query  string // sub-resource parameter that must be present
	Value  string // required value of Query ("" accepts any)
	Header string // header that must be present
	// Mount, if set, is the first path segment of the API mounted beside
	// S3 the row belongs to (PubSub's "topics", ...); a request under a
	// mount matches only that mount's rows.
	Mount string
	// Form is the Action parameter (query or URL-encoded body) of an API
	// that dispatches on it, the SNS topic API on POST /.
	Form string
	// Path is the exact path of an adapter with fixed paths (the admin
	// API), trailing slash removed.
	Path string
}

// Actions are the IAM action(s) an operation performs, as policies name
// them: Versioned applies when the request names a version (versionId),
// "" when it is the same as Plain.
type Actions struct {
	Plain, Versioned string
}

// For returns the action of a request, versioned when it names a version.
func (a Actions) For(versioned bool) string {
	if versioned && a.Versioned != "" {
		return a.Versioned
	}
	return a.Plain
}

// Scope is the resource an operation is authorized against.
type Scope int

// The scopes.
const (
	// ScopeNone: nothing is authorized (CORS preflight, the fallbacks
	// that answer MethodNotAllowed).
	ScopeNone Scope = iota
	// ScopeService: the caller's own resources (ListBuckets, ListTopics):
	// a caller sees only what it owns, in its own tenant.
	ScopeService
	// ScopeBucket: the bucket ("arn:aws:s3::<tenant>:bucket", the tenant
	// empty for the default tenant).
	ScopeBucket
	// ScopeObject: the object ("arn:aws:s3::<tenant>:bucket/key").
	ScopeObject
	// ScopeEntries: each entry of a multi-object request (DeleteObjects),
	// authorized exactly as the row's Entry operation on that entry's key.
	ScopeEntries
	// ScopeTopic: a topic, by its owner or the topic's policy.
	ScopeTopic
	// ScopeSubscription: a PubSub subscription; each user has their own
	// namespace of subscriptions.
	ScopeSubscription
	// ScopeAdmin: the gateway's administration (users, keys, topics of
	// every user).
	ScopeAdmin
)

// Access is the rule that authorizes a request of the row.
type Access int

// The access rules. The bucket rules first apply the bucket policy (an
// explicit Deny refuses, an Allow grants), then let the bucket owner do
// anything and others what the bucket's ACL grants.
const (
	// AccessNone: answered without authorization (the listed exceptions).
	AccessNone Access = iota
	// AccessSigned: any authenticated caller; anonymous callers are
	// refused. The handler limits the caller to resources it owns or a
	// resource's policy grants it.
	AccessSigned
	// AccessRead, AccessWrite, AccessOwner, AccessReadACP and
	// AccessWriteACP are the bucket rules with the bucket ACL permission
	// READ, WRITE, none (only the owner), READ_ACP and WRITE_ACP.
	AccessRead
	AccessWrite
	AccessOwner
	AccessReadACP
	AccessWriteACP
	// AccessObjectRead, AccessObjectReadACP and AccessObjectWriteACP: the
	// bucket policy, then the ACL of the object version addressed (READ,
	// READ_ACP, WRITE_ACP); its owner keeps access to it. The version is
	// known only once the handler reads it, so the router checks the
	// policy and the handler applies the version's ACL from the router's
	// result.
	AccessObjectRead
	AccessObjectReadACP
	AccessObjectWriteACP
	// AccessAdminRead and AccessAdminWrite: admin and system users, or
	// users with the row's Capability (read or write).
	AccessAdminRead
	AccessAdminWrite
)

// Row is one operation.
type Row struct {
	Op     Op
	Match  Match
	Action Actions
	Scope  Scope
	Access Access
	// Entry is the operation each entry of a ScopeEntries request is
	// authorized as.
	Entry Op
	// CopySource marks operations that also read the object named by
	// x-amz-copy-source: the caller needs s3:GetObject (s3:GetObjectVersion
	// with a versionId) on it, under the source bucket's policy, ACL and
	// the source version's ACL.
	CopySource bool
	// FormAuth marks operations whose caller is authenticated by a signed
	// policy in the request body (POST-form uploads): the handler
	// authenticates the form, then has the row's Access applied.
	FormAuth bool
	// Capability is the RGW user capability (users, metadata, buckets)
	// that lets a non-admin user perform an admin operation.
	Capability string
	// Event is the bucket notification event the operation may emit
	// ("s3:ObjectCreated:Put"); informational.
	Event string
	// Hook is the operation's name for request hooks: RGW's op name
	// (RGWOp::name(), Lua's Request.RGWOp) where RGW has the operation.
	Hook string
}

// Request is what matching looks at in a request.
type Request struct {
	Method string
	Level  Level
	Mount  string
	Path   string
	Query  url.Values
	Header http.Header
	// Form is the Action parameter once read; "" before, when rows with
	// a Form do not match.
	Form string
}

// matches reports whether m matches the request, and how specifically.
func (m Match) matches(q Request) (score int, ok bool) {
	if m.Method != "" && m.Method != q.Method || m.Level != q.Level || m.Mount != q.Mount ||
		m.Path != q.Path || m.Form != q.Form {
		return 0, false
	}
	if m.Query != "" {
		v, ok := q.Query[m.Query]
		if !ok || m.Value != "" && (len(v) == 0 || v[0] != m.Value) {
			return 0, false
		}
		score += 2
	}
	if m.Header != "" {
		if q.Header.Get(m.Header) == "" {
			return 0, false
		}
		score++
	}
	return score, true
}

// Select returns the row of rows that matches the request most
// specifically (the earliest among equals), and whether one does.
func Select(rows []Row, q Request) (*Row, bool) {
	i := Index(len(rows), func(i int) Match { return rows[i].Match }, q)
	if i < 0 {
		return nil, false
	}
	return &rows[i], true
}

// Index is Select over a table of n rows whose i-th match is match(i), for
// tables that keep rows inside larger records; it returns -1 when none
// matches.
func Index(n int, match func(i int) Match, q Request) int {
	best, bestScore := -1, -1
	for i := range n {
		if score, ok := match(i).matches(q); ok && score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}

// FormKeyed reports whether the request belongs to an API that dispatches
// on its Action form parameter: a row with a Form would match it once the
// parameter is known.
func FormKeyed(rows []Row, q Request) bool {
	for i := range rows {
		if rows[i].Match.Form == "" {
			continue
		}
		q.Form = rows[i].Match.Form
		if _, ok := rows[i].Match.matches(q); ok {
			return true
		}
	}
	return false
}
