package notify

import (
	"regexp"
	"strings"

	"github.com/cairn-s3/cairn/internal/store"
)

// matcher is a notification prepared for matching: its event mask, its
// compiled key regex and its topic's namespace and name.
type matcher struct {
	Notification
	mask        EventType
	re          *regexp.Regexp
	topicTenant string
	topicName   string
}

// compile prepares a stored notification. Invalid entries (which PUT
// rejects, so only a damaged document has them) never match.
func compile(n Notification) matcher {
	m := matcher{Notification: n}
	for _, e := range n.Events {
		t, _ := ParseEvent(e)
		m.mask |= t
	}
	if n.Filter.Key.Regex != nil {
		re, err := compileKeyRegex(*n.Filter.Key.Regex)
		if err != nil {
			m.mask = 0
		}
		m.re = re
	}
	m.topicTenant, m.topicName, _ = ParseTopicARN(n.TopicARN)
	return m
}

// Matches reports whether the notification fires for an event of type ev
// on obj: the type is subscribed and every present filter holds.
func (n *Notification) Matches(ev EventType, obj *store.ObjectInfo) bool {
	m := compile(*n)
	return m.matches(ev, obj)
}

func (m *matcher) matches(ev EventType, obj *store.ObjectInfo) bool {
	if m.mask&ev == 0 || !m.keyMatches(obj.Key) {
		return false
	}
	for _, r := range m.Filter.Metadata {
		v, ok := obj.Meta.User[metaName(r.Name)]
		if !ok || v != r.Value {
			return false
		}
	}
	for _, r := range m.Filter.Tags {
		v, ok := obj.Meta.Tags[r.Name]
		if !ok || v != r.Value {
			return false
		}
	}
	return true
}

// keyMatches reports whether key passes the S3Key filter rules.
func (m *matcher) keyMatches(key string) bool {
	k := m.Filter.Key
	return (k.Prefix == nil || strings.HasPrefix(key, *k.Prefix)) &&
		(k.Suffix == nil || strings.HasSuffix(key, *k.Suffix)) &&
		(m.re == nil || m.re.MatchString(key))
}

// metaName turns an S3Metadata rule name (x-amz-meta-color) into the key of
// store.Metadata.User (color). Names are case-insensitive like headers.
func metaName(name string) string {
	name = strings.ToLower(name)
	return strings.TrimPrefix(name, "x-amz-meta-")
}
