package lifecycle

import (
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Clock says when a number of lifecycle days has passed since a time.
type Clock struct {
	// Day is the length of a lifecycle day. Zero (or 24h) is S3's day:
	// a rule's deadline is rounded up to the next midnight UTC. Any other
	// length is a debug day (RGW's rgw_lc_debug_interval): the deadline is
	// exactly start + days × Day.
	Day time.Duration
}

const realDay = 24 * time.Hour

// maxDays bounds a rule's days, which S3 takes up to any int: 10^6 days
// (beyond the year 4700) is "never" here. Days are added as dates, not
// as a Duration: days × 24h past ~106,000 days overflowed into the past
// and expired everything at the next pass.
const maxDays = 1_000_000

// After returns when days lifecycle days have passed since start.
func (c Clock) After(start time.Time, days int) time.Time {
	if c.Day > 0 && c.Day != realDay && time.Duration(days) <= math.MaxInt64/c.Day {
		return start.Add(time.Duration(days) * c.Day)
	}
	t := start.UTC().AddDate(0, 0, min(days, maxDays))
	m := t.Truncate(realDay)
	if m.Before(t) {
		m = m.Add(realDay)
	}
	return m
}

// Action is what a rule does to a version or an upload.
type Action int

// Actions. Expiring a current version removes it in an unversioned bucket
// and hides it under a new delete marker in a versioned one (as S3 does).
const (
	Keep Action = iota
	ExpireCurrent
	ExpireNoncurrent
	ExpireDeleteMarker
	TransitionCurrent
	TransitionNoncurrent
	AbortUpload
)

func (a Action) String() string {
	return [...]string{"keep", "expire-current", "expire-noncurrent", "expire-delete-marker",
		"transition-current", "transition-noncurrent", "abort-upload"}[a]
}

// Decision is an action and the rule that takes it.
type Decision struct {
	Action       Action
	RuleID       string
	StorageClass string // the new class of a transition
}

// Version is what a decision needs of one object version: its listing
// entry and its place among the key's versions.
type Version struct {
	Key          string
	Size         int64
	Tags         map[string]string
	LastModified time.Time
	IsLatest     bool
	DeleteMarker bool
	StorageClass string
	// NoncurrentSince is when a noncurrent version stopped being current:
	// the creation of the next newer version.
	NoncurrentSince time.Time
	// NewerNoncurrent counts the key's noncurrent versions newer than this.
	NewerNoncurrent int
	// Alone is set for a current delete marker that has no older version.
	Alone bool
}

// Decide returns what the configuration does to v at now: the first
// enabled rule that expires it wins, else the furthest due transition.
func (c *Config) Decide(v *Version, now time.Time, clk Clock) Decision {
	var best Decision
	var bestDue time.Time
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.Enabled {
			continue
		}
		if v.DeleteMarker && v.IsLatest {
			// A lone delete marker expires with a rule that expires
			// objects or names expired markers (tag and size filters
			// cannot select a marker).
			if v.Alone && (r.ExpiredObjectDeleteMarker || r.ExpirationDays > 0 || r.ExpirationDate != nil) &&
				len(r.Filter.Tags) == 0 && r.Filter.SizeGreater == 0 && r.Filter.SizeLess == 0 && hasPrefix(v.Key, r.Filter.Prefix) {
				return Decision{Action: ExpireDeleteMarker, RuleID: r.ID}
			}
			continue
		}
		if !r.Filter.Matches(v.Key, v.Tags, v.Size) {
			continue
		}
		if d, ok := r.expires(v, now, clk); ok {
			return d
		}
		if d, due, ok := r.transition(v, now, clk); ok && (best.Action == Keep || due.After(bestDue)) {
			best, bestDue = d, due
		}
	}
	return best
}

// expires reports whether r removes (or, current, hides) v at now.
func (r *Rule) expires(v *Version, now time.Time, clk Clock) (Decision, bool) {
	if v.IsLatest {
		if r.ExpirationDate != nil && !now.Before(*r.ExpirationDate) ||
			r.ExpirationDays > 0 && !now.Before(clk.After(v.LastModified, r.ExpirationDays)) {
			return Decision{Action: ExpireCurrent, RuleID: r.ID}, true
		}
		return Decision{}, false
	}
	if r.NoncurrentDays > 0 && v.NewerNoncurrent >= r.NewerNoncurrentVersions &&
		!now.Before(clk.After(v.NoncurrentSince, r.NoncurrentDays)) {
		return Decision{Action: ExpireNoncurrent, RuleID: r.ID}, true
	}
	return Decision{}, false
}

// transition returns r's due transition of v with the furthest deadline.
func (r *Rule) transition(v *Version, now time.Time, clk Clock) (d Decision, due time.Time, ok bool) {
	ts, start, act := r.Transitions, v.LastModified, TransitionCurrent
	if !v.IsLatest {
		ts, start, act = r.NoncurrentTransitions, v.NoncurrentSince, TransitionNoncurrent
	}
	for _, t := range ts {
		at := clk.After(start, t.Days)
		if t.Date != nil {
			at = *t.Date
		}
		if now.Before(at) || !v.IsLatest && v.NewerNoncurrent < t.NewerNoncurrentVersions {
			continue
		}
		if !ok || at.After(due) {
			d, due, ok = Decision{Action: act, RuleID: r.ID, StorageClass: t.StorageClass}, at, true
		}
	}
	if ok && className(v.StorageClass) == className(d.StorageClass) {
		return Decision{}, time.Time{}, false
	}
	return d, due, ok
}

// DecideUpload returns whether an incomplete upload of key initiated at
// initiated is aborted at now. Only prefix filters select uploads (S3
// refuses tag filters on such rules; an upload has no size yet).
func (c *Config) DecideUpload(key string, initiated, now time.Time, clk Clock) Decision {
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.Enabled || r.AbortDays <= 0 || len(r.Filter.Tags) > 0 || !hasPrefix(key, r.Filter.Prefix) {
			continue
		}
		if !now.Before(clk.After(initiated, r.AbortDays)) {
			return Decision{Action: AbortUpload, RuleID: r.ID}
		}
	}
	return Decision{}
}

// Expiry returns when the current version of key (with tags and size,
// written at mtime) expires and by which rule, for x-amz-expiration: the
// earliest deadline of the enabled rules that expire it, in S3 days.
func (c *Config) Expiry(key string, tags map[string]string, size int64, mtime time.Time) (at time.Time, ruleID string, ok bool) {
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.Enabled || !r.Filter.Matches(key, tags, size) {
			continue
		}
		var t time.Time
		switch {
		case r.ExpirationDate != nil:
			t = *r.ExpirationDate
		case r.ExpirationDays > 0:
			t = Clock{}.After(mtime, r.ExpirationDays)
		default:
			continue
		}
		if !ok || t.Before(at) {
			at, ruleID, ok = t, r.ID, true
		}
	}
	return at, ruleID, ok
}

// ExpirationHeader formats x-amz-expiration. The rule id is URL-encoded
// (S3 documents it so): a quote or comma in it would break the pairs.
func ExpirationHeader(at time.Time, ruleID string) string {
	id := strings.ReplaceAll(url.QueryEscape(ruleID), "+", "%20")
	return `expiry-date="` + at.UTC().Format(http.TimeFormat) + `", rule-id="` + id + `"`
}

func hasPrefix(key, prefix string) bool {
	return len(key) >= len(prefix) && key[:len(prefix)] == prefix
}

// className treats an empty class as STANDARD.
func className(c string) string {
	if c == "" {
		return "STANDARD"
	}
	return c
}
