package notify

import (
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

func tc(inner string) string {
	return `<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TopicConfiguration>` + inner + `</TopicConfiguration></NotificationConfiguration>`
}

const arn = "<Topic>arn:aws:sns:default::t1</Topic>"

// TestParseConfigurationErrors is the validation table of spec §3.1; the
// codes and statuses of the cases RGW was captured answering
// (put-notification-*-error.txt) are theirs.
func TestParseConfigurationErrors(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		code, msg  string
	}{
		{"empty body", "", 400, "InvalidArgument", ""},
		{"not xml", "<Notif", 400, "MalformedXML", ""},
		{"wrong root", "<Foo/>", 400, "MalformedXML", ""},
		{"missing Id (sample)", tc(arn + "<Event>s3:ObjectCreated:*</Event>"), 400, "MalformedXML", ""},
		{"empty Id", tc("<Id></Id>" + arn), 400, "InvalidArgument", "Missing required element Id"},
		{"missing Topic", tc("<Id>n</Id>"), 400, "MalformedXML", ""},
		{"empty Topic", tc("<Id>n</Id><Topic></Topic>"), 400, "InvalidArgument", "Missing required element Topic"},
		{"not an ARN", tc("<Id>n</Id><Topic>t1</Topic>"), 400, "InvalidArgument", "Invalid Topic ARN"},
		{"ARN without resource", tc("<Id>n</Id><Topic>arn:aws:sns:default::</Topic>"), 400, "InvalidArgument", "Invalid Topic ARN"},
		{"bad event (sample)", tc("<Id>n</Id>" + arn + "<Event>s3:ObjectCreated:Bogus</Event>"), 400, "InvalidArgument", "Unknown Event type: s3:ObjectCreated:Bogus"},
		{"event case-sensitive", tc("<Id>n</Id>" + arn + "<Event>s3:objectcreated:*</Event>"), 400, "InvalidArgument", "Unknown Event type: s3:objectcreated:*"},
		{"rule without Value", tc("<Id>n</Id>" + arn + "<Filter><S3Key><FilterRule><Name>prefix</Name></FilterRule></S3Key></Filter>"), 400, "MalformedXML", ""},
		{"rule without Name", tc("<Id>n</Id>" + arn + "<Filter><S3Tags><FilterRule><Value>x</Value></FilterRule></S3Tags></Filter>"), 400, "MalformedXML", ""},
		{"S3Key name not lower case", tc("<Id>n</Id>" + arn + "<Filter><S3Key><FilterRule><Name>Prefix</Name><Value>a</Value></FilterRule></S3Key></Filter>"), 400, "MalformedXML", ""},
		{"S3Key duplicate", tc("<Id>n</Id>" + arn + "<Filter><S3Key><FilterRule><Name>suffix</Name><Value>a</Value></FilterRule><FilterRule><Name>suffix</Name><Value>b</Value></FilterRule></S3Key></Filter>"), 400, "MalformedXML", ""},
		{"bad regex", tc("<Id>n</Id>" + arn + "<Filter><S3Key><FilterRule><Name>regex</Name><Value>([0-9]+</Value></FilterRule></S3Key></Filter>"), 400, "InvalidArgument", "Invalid regex filter: ([0-9]+"},
		{"first failure wins", `<NotificationConfiguration><TopicConfiguration><Id>a</Id>` + arn + `<Event>bad</Event></TopicConfiguration><TopicConfiguration><Id></Id></TopicConfiguration></NotificationConfiguration>`, 400, "InvalidArgument", "Unknown Event type: bad"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseConfiguration([]byte(c.body))
			e := s3err.As(err)
			if e == nil {
				t.Fatalf("err = %v, want %s", err, c.code)
			}
			if e.Status != c.status || e.Code != c.code || (c.msg != "" && e.Message != c.msg) {
				t.Errorf("got %d %s %q, want %d %s %q", e.Status, e.Code, e.Message, c.status, c.code, c.msg)
			}
		})
	}
}

func TestParseConfiguration(t *testing.T) {
	t.Run("defaults and spellings", func(t *testing.T) {
		ns, err := ParseConfiguration([]byte(`<NotificationConfiguration>
			<TopicConfiguration><Id>a</Id>` + arn + `</TopicConfiguration>
			<TopicConfiguration><Id>b</Id>` + arn + `<Event>ObjectRemoved:Delete</Event><Event>s3:ObjectLifecycle:Expiration:Noncurrent</Event><Event>OBJECT_CREATE</Event></TopicConfiguration>
			<QueueConfiguration><Id>ignored</Id></QueueConfiguration>
		</NotificationConfiguration>`))
		if err != nil {
			t.Fatal(err)
		}
		if len(ns) != 2 {
			t.Fatalf("got %d notifications", len(ns))
		}
		if !slices.Equal(ns[0].Events, DefaultEvents) {
			t.Errorf("default events = %v", ns[0].Events)
		}
		if want := []string{"ObjectRemoved:Delete", "s3:ObjectLifecycle:Expiration:Noncurrent", "OBJECT_CREATE"}; !slices.Equal(ns[1].Events, want) {
			t.Errorf("events = %v, want the client's spellings %v", ns[1].Events, want)
		}
	})
	t.Run("empty configuration", func(t *testing.T) {
		for _, body := range []string{`<NotificationConfiguration/>`, `<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></NotificationConfiguration>`} {
			ns, err := ParseConfiguration([]byte(body))
			if err != nil || len(ns) != 0 {
				t.Errorf("%s: %v, %v", body, ns, err)
			}
		}
	})
	t.Run("duplicate metadata and tag rules keep the first", func(t *testing.T) {
		ns, err := ParseConfiguration([]byte(tc("<Id>n</Id>" + arn + `<Filter>
			<S3Metadata><FilterRule><Name>x-amz-meta-color</Name><Value>blue</Value></FilterRule><FilterRule><Name>x-amz-meta-color</Name><Value>red</Value></FilterRule></S3Metadata>
			<S3Tags><FilterRule><Name>p</Name><Value>1</Value></FilterRule><FilterRule><Name>p</Name><Value>2</Value></FilterRule></S3Tags></Filter>`)))
		if err != nil {
			t.Fatal(err)
		}
		f := ns[0].Filter
		if len(f.Metadata) != 1 || f.Metadata[0].Value != "blue" || len(f.Tags) != 1 || f.Tags[0].Value != "1" {
			t.Errorf("filter = %+v", f)
		}
	})
}

// TestMarshalMatchesRGW round-trips requests into the GET bodies RGW was
// captured returning: no declaration, no namespace, Filter before Event.
func TestMarshalMatchesRGW(t *testing.T) {
	var req struct{ Body string }
	data, err := os.ReadFile("testdata/rgw/put-bucket-notification-configuration-request.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &req); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ body, golden string }{
		{req.Body, "get-bucket-notification-configuration-response.xml"},
		{tc("<Id>h</Id><Topic>arn:aws:sns:default::http-topic</Topic><Filter><S3Key><FilterRule><Name>suffix</Name><Value>.txt</Value></FilterRule><FilterRule><Name>prefix</Name><Value>in/</Value></FilterRule></S3Key></Filter>"),
			"get-bucket-notification-configuration-filter-response.xml"},
		{"<NotificationConfiguration/>", "get-bucket-notification-configuration-empty-response.xml"},
	}
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			ns, err := ParseConfiguration([]byte(c.body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := MarshalXML(ns)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile("testdata/rgw/" + c.golden)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != strings.TrimSpace(string(want)) {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
	t.Run("all filter kinds", func(t *testing.T) {
		ns, err := ParseConfiguration([]byte(tc("<Id>n</Id>" + arn + `<Event>s3:ObjectCreated:Put</Event><Filter><S3Tags><FilterRule><Name>p</Name><Value>1</Value></FilterRule></S3Tags><S3Key><FilterRule><Name>regex</Name><Value>a.*</Value></FilterRule></S3Key><S3Metadata><FilterRule><Name>x-amz-meta-c</Name><Value>b</Value></FilterRule></S3Metadata></Filter>`)))
		if err != nil {
			t.Fatal(err)
		}
		got, _ := MarshalXML(ns)
		want := `<NotificationConfiguration><TopicConfiguration><Id>n</Id><Topic>arn:aws:sns:default::t1</Topic><Filter><S3Key><FilterRule><Name>regex</Name><Value>a.*</Value></FilterRule></S3Key><S3Metadata><FilterRule><Name>x-amz-meta-c</Name><Value>b</Value></FilterRule></S3Metadata><S3Tags><FilterRule><Name>p</Name><Value>1</Value></FilterRule></S3Tags></Filter><Event>s3:ObjectCreated:Put</Event></TopicConfiguration></NotificationConfiguration>`
		if string(got) != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
}

func TestMergeAndRemove(t *testing.T) {
	n := func(id, topic string) Notification {
		return Notification{ID: id, TopicARN: "arn:aws:sns:default::" + topic}
	}
	c := &Configuration{}
	c.Merge([]Notification{n("a", "t1"), n("b", "t1")})
	c.Merge([]Notification{n("c", "t2"), n("a", "t3")}) // upsert: b kept, a replaced in place
	var got []string
	for _, x := range c.Notifications {
		got = append(got, x.ID+"="+x.TopicARN[len("arn:aws:sns:default::"):])
	}
	if want := "a=t3,b=t1,c=t2"; strings.Join(got, ",") != want {
		t.Errorf("after merge: %v, want %s", got, want)
	}
	c.Remove("missing")
	c.Remove("b")
	if len(c.Notifications) != 2 {
		t.Errorf("after remove: %v", c.Notifications)
	}
	c.Merge(nil)
	if len(c.Notifications) != 0 {
		t.Errorf("empty merge kept %v", c.Notifications)
	}
	data, _ := (&Configuration{Notifications: []Notification{n("x", "t")}}).Encode()
	back, err := DecodeConfiguration(data)
	if err != nil || len(back.Notifications) != 1 || back.Notifications[0].ID != "x" {
		t.Errorf("round trip: %v %v", back, err)
	}
}

func TestEventMatching(t *testing.T) {
	cases := []struct {
		sub   string
		ev    EventType
		match bool
	}{
		{"s3:ObjectCreated:*", ObjectCreatedPut, true},
		{"s3:ObjectCreated:*", ObjectCreatedCompleteMultipartUpload, true},
		{"s3:ObjectCreated:*", ObjectRemovedDelete, false},
		{"s3:ObjectCreated:Post", ObjectCreatedPut, false},
		{"ObjectCreated:Copy", ObjectCreatedCopy, true},
		{"s3:ObjectRemoved:*", ObjectRemovedDeleteMarkerCreated, true},
		{"s3:ObjectRemoved:Delete", ObjectRemovedDeleteMarkerCreated, false},
		{"s3:ObjectLifecycle:*", ObjectLifecycleExpirationAbortMultipartUpload, true},
		{"s3:ObjectLifecycle:Expiration:AbortMPU", ObjectLifecycleExpirationAbortMultipartUpload, true},
		{"s3:ObjectLifecycle:Transition:Noncurrent", ObjectLifecycleTransitionNonCurrent, true},
		{"s3:LifecycleExpiration:*", LifecycleExpirationDelete, true},
		{"s3:LifecycleExpiration:*", ObjectLifecycleExpirationCurrent, false},
		{"s3:Replication:*", ReplicationCreate, true},
		{"s3:ObjectSynced:*", ReplicationCreate, false},
		{"OBJECT_DELETE", ObjectRemovedDelete, true},
	}
	for _, c := range cases {
		n := Notification{ID: "n", TopicARN: "arn:aws:sns:default::t", Events: []string{c.sub}}
		if got := n.Matches(c.ev, &store.ObjectInfo{Key: "k"}); got != c.match {
			t.Errorf("%s vs %s: got %v, want %v", c.sub, c.ev, got, c.match)
		}
	}
	if got := ObjectCreated.Singles(); len(got) != 4 || got[0] != ObjectCreatedPut {
		t.Errorf("Singles = %v", got)
	}
	for typ := range emittedNames {
		if typ.String() == "" || strings.HasPrefix(typ.String(), "s3:") {
			t.Errorf("bad eventName for %d", typ)
		}
	}
}

func TestChangeEvent(t *testing.T) {
	cases := []struct {
		kind store.ChangeKind
		op   string
		v    store.Versioning
		want EventType
	}{
		{store.ChangePut, "PutObject", store.Unversioned, ObjectCreatedPut},
		{store.ChangePut, "PostObject", store.Unversioned, ObjectCreatedPost},
		{store.ChangeCopy, "CopyObject", store.Enabled, ObjectCreatedCopy},
		{store.ChangeCompleteMultipart, "CompleteMultipartUpload", store.Unversioned, ObjectCreatedCompleteMultipartUpload},
		{store.ChangeDelete, "DeleteObjects", store.Unversioned, ObjectRemovedDelete},
		{store.ChangeDeleteMarkerCreated, "DeleteObject", store.Enabled, ObjectRemovedDeleteMarkerCreated},
		{store.ChangeDeleteMarkerCreated, "DeleteObject", store.Suspended, ObjectRemovedDelete},
	}
	for _, c := range cases {
		if got := ChangeEvent(c.kind, c.op, c.v); got != c.want {
			t.Errorf("%s/%s/%s: got %s, want %s", c.kind, c.op, c.v, got, c.want)
		}
	}
}

func TestFilters(t *testing.T) {
	s := func(v string) *string { return &v }
	obj := &store.ObjectInfo{Key: "images/2024/42.jpg", Meta: store.Metadata{
		User: map[string]string{"color": "blue", "size": "xl"},
		Tags: map[string]string{"project": "apollo", "team": "a"},
	}}
	cases := []struct {
		name  string
		f     Filter
		match bool
	}{
		{"none", Filter{}, true},
		{"prefix", Filter{Key: KeyFilter{Prefix: s("images/")}}, true},
		{"prefix case-sensitive", Filter{Key: KeyFilter{Prefix: s("Images/")}}, false},
		{"suffix", Filter{Key: KeyFilter{Suffix: s(".jpg")}}, true},
		{"prefix and bad suffix", Filter{Key: KeyFilter{Prefix: s("images/"), Suffix: s(".png")}}, false},
		{"regex full match", Filter{Key: KeyFilter{Regex: s(`images/.*/([0-9]+)\.jpg`)}}, true},
		{"regex is not a search", Filter{Key: KeyFilter{Regex: s(`([0-9]+)\.jpg`)}}, false},
		{"regex alternation anchored", Filter{Key: KeyFilter{Regex: s(`x|images/.*`)}}, true},
		{"metadata", Filter{Metadata: []Rule{{"x-amz-meta-color", "blue"}}}, true},
		{"metadata header case", Filter{Metadata: []Rule{{"X-Amz-Meta-Color", "blue"}}}, true},
		{"metadata value differs", Filter{Metadata: []Rule{{"x-amz-meta-color", "red"}}}, false},
		{"metadata missing", Filter{Metadata: []Rule{{"x-amz-meta-shape", "round"}}}, false},
		{"tags subset", Filter{Tags: []Rule{{"project", "apollo"}}}, true},
		{"tags all must hold", Filter{Tags: []Rule{{"project", "apollo"}, {"team", "b"}}}, false},
	}
	for _, c := range cases {
		n := Notification{ID: "n", TopicARN: "arn:aws:sns:default::t", Events: DefaultEvents, Filter: c.f}
		if got := n.Matches(ObjectCreatedPut, obj); got != c.match {
			t.Errorf("%s: got %v, want %v", c.name, got, c.match)
		}
	}
	// Keys are compared raw, never URL-encoded.
	n := Notification{ID: "n", TopicARN: "arn:aws:sns:default::t", Events: DefaultEvents, Filter: Filter{Key: KeyFilter{Prefix: s("dir/hello w")}}}
	if !n.Matches(ObjectRemovedDelete, &store.ObjectInfo{Key: "dir/hello world.txt"}) {
		t.Error("raw key with a space did not match")
	}
}

func TestStatusOfCodes(t *testing.T) {
	for _, e := range []*s3err.Error{s3err.InvalidInput, s3err.MalformedPolicyDocument} {
		if e.Status != http.StatusBadRequest {
			t.Errorf("%s: %d", e.Code, e.Status)
		}
	}
	if s3err.NoSuchTopic.Status != http.StatusNotFound || s3err.NoSuchTopic.Code != "Not Found" {
		t.Errorf("NoSuchTopic = %+v", s3err.NoSuchTopic)
	}
}
