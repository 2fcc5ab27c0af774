package lifecycle

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"
)

// ConfigKey is the bucket Config key of the lifecycle configuration (the
// XML document s3api validated and stored).
const ConfigKey = "lifecycle"

// Config is a bucket's parsed lifecycle configuration.
type Config struct {
	Rules []Rule
}

// Rule is one rule; nil or zero actions are absent.
type Rule struct {
	ID      string
	Enabled bool
	Filter  Filter

	ExpirationDays int        // 0: none
	ExpirationDate *time.Time // nil: none
	// ExpiredObjectDeleteMarker removes a current delete marker with no
	// older versions.
	ExpiredObjectDeleteMarker bool

	NoncurrentDays          int // NoncurrentVersionExpiration; 0: none
	NewerNoncurrentVersions int // how many newer noncurrent versions it keeps

	Transitions           []Transition // of the current version
	NoncurrentTransitions []Transition // Days is NoncurrentDays

	AbortDays int // AbortIncompleteMultipartUpload DaysAfterInitiation; 0: none
}

// Transition relabels a version's storage class Days after its creation
// (or after it became noncurrent), or from Date.
type Transition struct {
	Days         int
	Date         *time.Time
	StorageClass string
	// NewerNoncurrentVersions (noncurrent transitions) keeps that many
	// newer noncurrent versions in their class.
	NewerNoncurrentVersions int
}

// Filter selects the versions a rule applies to; every present condition
// must hold.
type Filter struct {
	Prefix      string
	Tags        map[string]string
	SizeGreater int64 // ObjectSizeGreaterThan; 0: none
	SizeLess    int64 // ObjectSizeLessThan; 0: none
}

// wire types: the stored document as S3 defines it.
type xmlConfig struct {
	Rules []xmlRule `xml:"Rule"`
}

type xmlRule struct {
	ID         string  `xml:"ID"`
	Prefix     *string `xml:"Prefix"`
	Filter     *xmlAnd `xml:"Filter"`
	Status     string  `xml:"Status"`
	Expiration *struct {
		Date                      string `xml:"Date"`
		Days                      int    `xml:"Days"`
		ExpiredObjectDeleteMarker bool   `xml:"ExpiredObjectDeleteMarker"`
	} `xml:"Expiration"`
	Transitions                 []xmlTransition `xml:"Transition"`
	NoncurrentVersionExpiration *struct {
		NoncurrentDays          int `xml:"NoncurrentDays"`
		NewerNoncurrentVersions int `xml:"NewerNoncurrentVersions"`
	} `xml:"NoncurrentVersionExpiration"`
	NoncurrentVersionTransitions   []xmlTransition `xml:"NoncurrentVersionTransition"`
	AbortIncompleteMultipartUpload *struct {
		DaysAfterInitiation int `xml:"DaysAfterInitiation"`
	} `xml:"AbortIncompleteMultipartUpload"`
}

type xmlTransition struct {
	Date                    string `xml:"Date"`
	Days                    int    `xml:"Days"`
	NoncurrentDays          int    `xml:"NoncurrentDays"`
	NewerNoncurrentVersions int    `xml:"NewerNoncurrentVersions"`
	StorageClass            string `xml:"StorageClass"`
}

type xmlTag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// xmlAnd is both a Filter and its And element: a Filter holds one
// condition or an And of several.
type xmlAnd struct {
	Prefix      string   `xml:"Prefix"`
	Tags        []xmlTag `xml:"Tag"`
	SizeGreater int64    `xml:"ObjectSizeGreaterThan"`
	SizeLess    int64    `xml:"ObjectSizeLessThan"`
	And         *xmlAnd  `xml:"And"`
}

// Parse reads a stored lifecycle configuration.
func Parse(raw []byte) (*Config, error) {
	var x xmlConfig
	if err := xml.Unmarshal(raw, &x); err != nil {
		return nil, fmt.Errorf("lifecycle: parse configuration: %w", err)
	}
	c := &Config{Rules: make([]Rule, 0, len(x.Rules))}
	for i := range x.Rules {
		r, err := x.Rules[i].rule()
		if err != nil {
			return nil, err
		}
		c.Rules = append(c.Rules, r)
	}
	return c, nil
}

func (x *xmlRule) rule() (Rule, error) {
	r := Rule{ID: x.ID, Enabled: strings.EqualFold(x.Status, "Enabled")}
	if x.Prefix != nil {
		r.Filter.Prefix = *x.Prefix
	}
	if f := x.Filter; f != nil {
		r.Filter.add(f)
		if f.And != nil {
			r.Filter.add(f.And)
		}
	}
	if e := x.Expiration; e != nil {
		r.ExpirationDays, r.ExpiredObjectDeleteMarker = e.Days, e.ExpiredObjectDeleteMarker
		d, err := parseDate(e.Date)
		if err != nil {
			return r, err
		}
		r.ExpirationDate = d
	}
	if n := x.NoncurrentVersionExpiration; n != nil {
		r.NoncurrentDays, r.NewerNoncurrentVersions = n.NoncurrentDays, n.NewerNoncurrentVersions
	}
	for _, t := range x.Transitions {
		d, err := parseDate(t.Date)
		if err != nil {
			return r, err
		}
		r.Transitions = append(r.Transitions, Transition{Days: t.Days, Date: d, StorageClass: t.StorageClass})
	}
	for _, t := range x.NoncurrentVersionTransitions {
		r.NoncurrentTransitions = append(r.NoncurrentTransitions, Transition{Days: t.NoncurrentDays,
			StorageClass: t.StorageClass, NewerNoncurrentVersions: t.NewerNoncurrentVersions})
	}
	if a := x.AbortIncompleteMultipartUpload; a != nil {
		r.AbortDays = a.DaysAfterInitiation
	}
	return r, nil
}

func (f *Filter) add(x *xmlAnd) {
	if x.Prefix != "" {
		f.Prefix = x.Prefix
	}
	for _, t := range x.Tags {
		if f.Tags == nil {
			f.Tags = make(map[string]string)
		}
		f.Tags[t.Key] = t.Value
	}
	if x.SizeGreater > 0 {
		f.SizeGreater = x.SizeGreater
	}
	if x.SizeLess > 0 {
		f.SizeLess = x.SizeLess
	}
}

// parseDate reads a rule's Date (ISO 8601, midnight UTC); "" is none.
func parseDate(s string) (*time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, fmt.Errorf("lifecycle: bad date %q", s)
}

// Matches reports whether the filter selects a version of key with the
// given tags and size.
func (f *Filter) Matches(key string, tags map[string]string, size int64) bool {
	if !strings.HasPrefix(key, f.Prefix) {
		return false
	}
	for k, v := range f.Tags {
		if got, ok := tags[k]; !ok || got != v {
			return false
		}
	}
	if f.SizeGreater > 0 && size <= f.SizeGreater {
		return false
	}
	return f.SizeLess <= 0 || size < f.SizeLess
}
