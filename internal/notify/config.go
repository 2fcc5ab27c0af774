package notify

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// ConfigKey is the key of a bucket's notifications in store.Bucket.Config.
const ConfigKey = "notification"

// Notification is one bucket notification (a TopicConfiguration).
type Notification struct {
	ID       string   `json:"id"`
	TopicARN string   `json:"topic_arn"`
	Events   []string `json:"events"` // as the client spelled them
	Filter   Filter   `json:"filter"`
	// TopicOwner is the owner of the topic when the notification was
	// stored ("" in notifications stored before Cairn recorded it); never
	// shown to clients.
	TopicOwner string `json:"topic_owner,omitempty"`
}

// Filter is a notification's optional filter (spec §3.3).
type Filter struct {
	Key      KeyFilter `json:"key"`
	Metadata []Rule    `json:"metadata,omitempty"`
	Tags     []Rule    `json:"tags,omitempty"`
}

// KeyFilter holds the S3Key rules; a nil pointer means "no rule".
type KeyFilter struct {
	Prefix *string `json:"prefix,omitempty"`
	Suffix *string `json:"suffix,omitempty"`
	Regex  *string `json:"regex,omitempty"`
}

// Rule is one S3Metadata or S3Tags filter rule.
type Rule struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Empty reports whether the filter has no rule.
func (f *Filter) Empty() bool {
	return f.Key.Prefix == nil && f.Key.Suffix == nil && f.Key.Regex == nil && len(f.Metadata) == 0 && len(f.Tags) == 0
}

// Configuration is a bucket's list of notifications, in the order they were
// first added.
type Configuration struct {
	Notifications []Notification `json:"notifications"`
}

// DecodeConfiguration reads the stored document ("" or nil: none).
func DecodeConfiguration(data []byte) (*Configuration, error) {
	c := &Configuration{}
	if len(data) == 0 {
		return c, nil
	}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("notify: corrupt notification configuration: %w", err)
	}
	return c, nil
}

// Encode returns the stored document.
func (c *Configuration) Encode() ([]byte, error) { return json.Marshal(c) }

// Get returns the notification with an id (the first, as RGW does).
func (c *Configuration) Get(id string) (Notification, bool) {
	for _, n := range c.Notifications {
		if n.ID == id {
			return n, true
		}
	}
	return Notification{}, false
}

// Merge upserts notifications by Id (spec §3.1): a listed Id replaces the
// existing entry in place (RGW would keep a duplicate when the topic
// changed; Cairn deliberately replaces it), new Ids are appended, and
// unlisted notifications are kept. An empty list deletes everything.
func (c *Configuration) Merge(ns []Notification) {
	if len(ns) == 0 {
		c.Notifications = nil
		return
	}
	for _, n := range ns {
		replaced := false
		for i := range c.Notifications {
			if c.Notifications[i].ID == n.ID {
				c.Notifications[i], replaced = n, true
				break
			}
		}
		if !replaced {
			c.Notifications = append(c.Notifications, n)
		}
	}
}

// Remove deletes the notification with id ("" deletes all); a missing id is
// not an error.
func (c *Configuration) Remove(id string) {
	if id == "" {
		c.Notifications = nil
		return
	}
	out := c.Notifications[:0]
	for _, n := range c.Notifications {
		if n.ID != id {
			out = append(out, n)
		}
	}
	c.Notifications = out
}

// The XML request document. Pointers tell a missing element from an empty one.
type xmlConfigIn struct {
	XMLName xml.Name       `xml:"NotificationConfiguration"`
	Topics  []xmlTopicConf `xml:"TopicConfiguration"`
}

type xmlTopicConf struct {
	ID     *string    `xml:"Id"`
	Topic  *string    `xml:"Topic"`
	Events []string   `xml:"Event"`
	Filter *xmlFilter `xml:"Filter"`
}

type xmlFilter struct {
	S3Key      *xmlRules `xml:"S3Key"`
	S3Metadata *xmlRules `xml:"S3Metadata"`
	S3Tags     *xmlRules `xml:"S3Tags"`
}

type xmlRules struct {
	Rules []xmlRule `xml:"FilterRule"`
}

type xmlRule struct {
	Name  *string `xml:"Name"`
	Value *string `xml:"Value"`
}

// ParseConfiguration decodes and validates a PUT ?notification document
// (spec §3.1): the first failing TopicConfiguration decides the error.
// Topic existence and permission are the caller's to check. The returned
// list is empty for a configuration without TopicConfiguration elements.
func ParseConfiguration(body []byte) ([]Notification, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, s3err.InvalidArgument.WithMessage("Missing notification configuration")
	}
	var in xmlConfigIn
	if err := xml.Unmarshal(body, &in); err != nil {
		return nil, s3err.MalformedXML.WithCause(err)
	}
	out := make([]Notification, 0, len(in.Topics))
	for _, tc := range in.Topics {
		n, err := tc.notification()
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

func (tc *xmlTopicConf) notification() (Notification, error) {
	var n Notification
	switch {
	case tc.ID == nil:
		return n, s3err.MalformedXML.WithMessage("missing required element Id")
	case *tc.ID == "":
		return n, s3err.InvalidArgument.WithMessage("Missing required element Id")
	case tc.Topic == nil:
		return n, s3err.MalformedXML.WithMessage("missing required element Topic")
	case *tc.Topic == "":
		return n, s3err.InvalidArgument.WithMessage("Missing required element Topic")
	}
	n.ID, n.TopicARN = *tc.ID, strings.TrimSpace(*tc.Topic)
	if _, _, ok := ParseTopicARN(n.TopicARN); !ok {
		return n, s3err.InvalidArgument.WithMessage("Invalid Topic ARN")
	}
	for _, e := range tc.Events {
		e = strings.TrimSpace(e)
		if _, ok := ParseEvent(e); !ok {
			return n, s3err.InvalidArgument.WithMessage("Unknown Event type: %s", e)
		}
		n.Events = append(n.Events, e)
	}
	if len(n.Events) == 0 {
		n.Events = append([]string(nil), DefaultEvents...)
	}
	if tc.Filter != nil {
		f, err := tc.Filter.filter()
		if err != nil {
			return n, err
		}
		n.Filter = f
	}
	return n, nil
}

func (xf *xmlFilter) filter() (Filter, error) {
	var f Filter
	if xf.S3Key != nil {
		for _, r := range xf.S3Key.Rules {
			if r.Name == nil || r.Value == nil {
				return f, s3err.MalformedXML.WithMessage("FilterRule needs Name and Value")
			}
			v := *r.Value
			var slot **string
			switch *r.Name {
			case "prefix":
				slot = &f.Key.Prefix
			case "suffix":
				slot = &f.Key.Suffix
			case "regex":
				slot = &f.Key.Regex
				if _, err := compileKeyRegex(v); err != nil {
					return f, s3err.InvalidArgument.WithMessage("Invalid regex filter: %s", v)
				}
			default:
				return f, s3err.MalformedXML.WithMessage("invalid S3Key filter rule name: %s", *r.Name)
			}
			if *slot != nil {
				return f, s3err.MalformedXML.WithMessage("duplicate S3Key filter rule name: %s", *r.Name)
			}
			*slot = &v
		}
	}
	var err error
	if f.Metadata, err = xf.S3Metadata.rules(); err != nil {
		return f, err
	}
	if f.Tags, err = xf.S3Tags.rules(); err != nil {
		return f, err
	}
	return f, nil
}

// rules decodes S3Metadata / S3Tags rules; later duplicates of a name are
// ignored (spec §3.3).
func (xr *xmlRules) rules() ([]Rule, error) {
	if xr == nil {
		return nil, nil
	}
	var out []Rule
	seen := map[string]bool{}
	for _, r := range xr.Rules {
		if r.Name == nil || r.Value == nil {
			return nil, s3err.MalformedXML.WithMessage("FilterRule needs Name and Value")
		}
		if seen[*r.Name] {
			continue
		}
		seen[*r.Name] = true
		out = append(out, Rule{Name: *r.Name, Value: *r.Value})
	}
	return out, nil
}

// compileKeyRegex compiles an S3Key regex as a full match. RGW uses
// ECMAScript std::regex; Go's RE2 syntax covers the common subset
// (classes, groups, alternation, quantifiers) but has no backreferences or
// lookaround, which are rejected at PUT time instead of failing later.
func compileKeyRegex(expr string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + expr + `)$`)
}

// The XML response document (GET ?notification): no namespace, element
// order Id, Topic, Filter, Event... (spec §3.4).
type xmlConfigOut struct {
	XMLName xml.Name          `xml:"NotificationConfiguration"`
	Topics  []xmlTopicConfOut `xml:"TopicConfiguration"`
}

type xmlTopicConfOut struct {
	ID     string        `xml:"Id"`
	Topic  string        `xml:"Topic"`
	Filter *xmlFilterOut `xml:"Filter,omitempty"`
	Events []string      `xml:"Event"`
}

type xmlFilterOut struct {
	S3Key      *xmlRulesOut `xml:"S3Key,omitempty"`
	S3Metadata *xmlRulesOut `xml:"S3Metadata,omitempty"`
	S3Tags     *xmlRulesOut `xml:"S3Tags,omitempty"`
}

type xmlRulesOut struct {
	Rules []Rule `xml:"FilterRule"`
}

func rulesOut(rs []Rule) *xmlRulesOut {
	if len(rs) == 0 {
		return nil
	}
	return &xmlRulesOut{Rules: rs}
}

// MarshalXML renders notifications as RGW's GET ?notification body.
func MarshalXML(ns []Notification) ([]byte, error) {
	out := xmlConfigOut{Topics: make([]xmlTopicConfOut, 0, len(ns))}
	for _, n := range ns {
		o := xmlTopicConfOut{ID: n.ID, Topic: n.TopicARN, Events: n.Events}
		if !n.Filter.Empty() {
			var key []Rule
			for _, r := range []struct {
				name string
				v    *string
			}{{"prefix", n.Filter.Key.Prefix}, {"suffix", n.Filter.Key.Suffix}, {"regex", n.Filter.Key.Regex}} {
				if r.v != nil {
					key = append(key, Rule{Name: r.name, Value: *r.v})
				}
			}
			o.Filter = &xmlFilterOut{S3Key: rulesOut(key), S3Metadata: rulesOut(n.Filter.Metadata), S3Tags: rulesOut(n.Filter.Tags)}
		}
		out.Topics = append(out.Topics, o)
	}
	return xml.Marshal(out)
}
