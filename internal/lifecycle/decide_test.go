package lifecycle

import (
	"testing"
	"time"
)

const doc = `<LifecycleConfiguration>
<Rule><ID>exp</ID><Filter><And><Prefix>logs/</Prefix><Tag><Key>t</Key><Value>1</Value></Tag><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>100</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule>
<Rule><ID>date</ID><Prefix>old/</Prefix><Status>Enabled</Status><Expiration><Date>2020-01-01T00:00:00Z</Date></Expiration></Rule>
<Rule><ID>off</ID><Filter><Prefix>off/</Prefix></Filter><Status>Disabled</Status><Expiration><Days>1</Days></Expiration></Rule>
<Rule><ID>nc</ID><Filter><Prefix>nc/</Prefix></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>
<Rule><ID>dm</ID><Filter><Prefix>dm/</Prefix></Filter><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>
<Rule><ID>tr</ID><Filter><Prefix>tr/</Prefix></Filter><Status>Enabled</Status><Transition><Days>1</Days><StorageClass>STANDARD_IA</StorageClass></Transition><Transition><Days>3</Days><StorageClass>GLACIER</StorageClass></Transition></Rule>
<Rule><ID>mpu</ID><Filter><Prefix>up/</Prefix></Filter><Status>Enabled</Status><AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
</LifecycleConfiguration>`

func TestDecide(t *testing.T) {
	c, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	clk := Clock{Day: time.Second}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0.Add(5 * time.Second)
	tags := map[string]string{"t": "1"}
	cases := []struct {
		name string
		v    Version
		want Action
		rule string
	}{
		{"all filters hold", Version{Key: "logs/a", Tags: tags, Size: 50, LastModified: t0, IsLatest: true}, ExpireCurrent, "exp"},
		{"too young", Version{Key: "logs/a", Tags: tags, Size: 50, LastModified: now.Add(-time.Second), IsLatest: true}, Keep, ""},
		{"tag missing", Version{Key: "logs/a", Size: 50, LastModified: t0, IsLatest: true}, Keep, ""},
		{"size not greater", Version{Key: "logs/a", Tags: tags, Size: 10, LastModified: t0, IsLatest: true}, Keep, ""},
		{"size not less", Version{Key: "logs/a", Tags: tags, Size: 100, LastModified: t0, IsLatest: true}, Keep, ""},
		{"prefix differs", Version{Key: "other/a", Tags: tags, Size: 50, LastModified: t0, IsLatest: true}, Keep, ""},
		{"date passed", Version{Key: "old/a", LastModified: now, IsLatest: true}, ExpireCurrent, "date"},
		{"disabled", Version{Key: "off/a", LastModified: t0, IsLatest: true}, Keep, ""},
		{"noncurrent kept by newer count", Version{Key: "nc/a", NoncurrentSince: t0, NewerNoncurrent: 1}, Keep, ""},
		{"noncurrent expired", Version{Key: "nc/a", NoncurrentSince: t0, NewerNoncurrent: 2}, ExpireNoncurrent, "nc"},
		{"noncurrent too young", Version{Key: "nc/a", NoncurrentSince: now, NewerNoncurrent: 5}, Keep, ""},
		{"lone marker", Version{Key: "dm/a", IsLatest: true, DeleteMarker: true, Alone: true}, ExpireDeleteMarker, "dm"},
		{"marker hiding a version", Version{Key: "dm/a", IsLatest: true, DeleteMarker: true}, Keep, ""},
		{"furthest transition", Version{Key: "tr/a", LastModified: t0, IsLatest: true}, TransitionCurrent, "tr"},
		{"already there", Version{Key: "tr/a", LastModified: t0, IsLatest: true, StorageClass: "GLACIER"}, Keep, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := c.Decide(&tc.v, now, clk)
			if d.Action != tc.want || d.RuleID != tc.rule {
				t.Errorf("got %v by %q, want %v by %q", d.Action, d.RuleID, tc.want, tc.rule)
			}
			if d.Action == TransitionCurrent && d.StorageClass != "GLACIER" {
				t.Errorf("class %s, want GLACIER (the furthest due)", d.StorageClass)
			}
		})
	}
	if d := c.DecideUpload("up/x", t0, now, clk); d.Action != AbortUpload {
		t.Errorf("upload: %v, want abort", d.Action)
	}
	if d := c.DecideUpload("other/x", t0, now, clk); d.Action != Keep {
		t.Errorf("upload of another prefix: %v, want keep", d.Action)
	}
}

// TestClockRealDays: S3 rounds a deadline up to the next midnight UTC.
func TestClockRealDays(t *testing.T) {
	start := time.Date(2026, 3, 1, 15, 4, 0, 0, time.UTC)
	if got, want := (Clock{}).After(start, 2), time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if got, want := (Clock{Day: time.Second}).After(start, 2), start.Add(2*time.Second); !got.Equal(want) {
		t.Errorf("debug day: got %v, want %v", got, want)
	}
}

func TestWindow(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 1, 1, h, m, 0, 0, time.UTC) }
	w, err := ParseWindow("22:00-06:30")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		t    time.Time
		want bool
	}{{at(23, 0), true}, {at(3, 0), true}, {at(6, 30), false}, {at(12, 0), false}, {at(22, 0), true}} {
		if got := w.Contains(tc.t); got != tc.want {
			t.Errorf("%v in %s: %v, want %v", tc.t, w, got, tc.want)
		}
	}
	for _, bad := range []string{"6-7", "25:00-01:00", "01:60-02:00", "x"} {
		if _, err := ParseWindow(bad); err == nil {
			t.Errorf("ParseWindow(%q): no error", bad)
		}
	}
	if w, _ := ParseWindow(""); !w.Contains(at(12, 0)) {
		t.Error("the empty window is not all day")
	}
}

// TestClockFarDays: no number of days wraps into the past, with S3 days
// or a debug day.
func TestClockFarDays(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, clk := range []Clock{{}, {Day: time.Hour}, {Day: time.Second}} {
		prev := t0
		for _, days := range []int{1, 106_000, 107_000, 3_000_000, 1 << 31, 1<<63 - 1} {
			at := clk.After(t0, days)
			if at.Before(prev) {
				t.Errorf("Day %v: %d days end at %v, before %v", clk.Day, days, at, prev)
			}
			prev = at
		}
	}
}
