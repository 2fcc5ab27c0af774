package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/notify/notifytest"
	"github.com/cairn-s3/cairn/internal/s3err"
)

func opts() *Options {
	o := &Options{}
	o.ensureDefaults()
	return o
}

func TestNewTopic(t *testing.T) {
	o := opts()
	attrs := map[string]string{
		"push-endpoint": "http://127.0.0.1:9/hook?x=1", "OpaqueData": "ops@example.com", "persistent": "true",
		"max_retries": "3", "time_to_live": "bogus", "verify-ssl": "false", "cloudevents": "true",
		"Attributes.entry.1.key": "push-endpoint", "Version": "2010-03-31", "Action": "CreateTopic", "Name": "t1",
		"X-Amz-Date": "20260101T000000Z", "unknown-arg": "kept",
	}
	tp, err := o.NewTopic("acme", "t1", "acme$bob", attrs, false)
	if err != nil {
		t.Fatal(err)
	}
	if tp.Endpoint != "http://127.0.0.1:9/hook?x=1" || tp.OpaqueData != "ops@example.com" || !tp.Persistent {
		t.Errorf("fields: %+v", tp)
	}
	if got, want := tp.Args, "cloudevents=true&unknown-arg=kept&verify-ssl=false"; got != want {
		t.Errorf("Args = %q, want %q (sorted, first-class and structural parameters removed)", got, want)
	}
	if tp.MaxRetriesString() != "3" || tp.TimeToLiveString() != "None" || tp.RetrySleepString() != "None" {
		t.Errorf("retry fields %s %s %s", tp.TimeToLiveString(), tp.MaxRetriesString(), tp.RetrySleepString())
	}
	if got, want := tp.ARN(o.Zonegroup), "arn:aws:sns:default:acme:t1"; got != want {
		t.Errorf("ARN = %s, want %s", got, want)
	}
	if v, ok := tp.Arg("verify-ssl"); !ok || v != "false" {
		t.Errorf("Arg(verify-ssl) = %q %v", v, ok)
	}
	if tp.StoredSecret {
		t.Error("no secret expected")
	}
}

func TestTopicValidation(t *testing.T) {
	o := opts()
	cases := []struct {
		name, topic string
		attrs       map[string]string
		secure      bool
		code, msg   string
	}{
		{"empty name", "", nil, false, "InvalidArgument", "Missing required element Name"},
		{"bad name", "a.b", nil, false, "InvalidArgument", "Name must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens"},
		{"long name", strings.Repeat("a", 257), nil, false, "InvalidArgument", "Name cannot be longer than 256 characters"},
		{"malformed url", "t", map[string]string{"push-endpoint": "::nope"}, false, "InvalidArgument", "Malformed URL for push-endpoint"},
		{"secret over http", "t", map[string]string{"push-endpoint": "amqp://guest:guest@127.0.0.1:5672"}, false, "InvalidInput", "Topic contains secrets that must be transmitted over a secure transport"},
		{"kafka password arg over http", "t", map[string]string{"push-endpoint": "kafka://127.0.0.1", "password": "p"}, false, "InvalidInput", ""},
		{"bad policy", "t", map[string]string{"Policy": "{"}, true, "MalformedPolicyDocument", ""},
		{"policy without statement", "t", map[string]string{"Policy": `{"Version":"2012-10-17","Statement":[]}`}, true, "MalformedPolicyDocument", ""},
		{"reserved persistent", "queues_list_object", map[string]string{"persistent": "true"}, true, "InvalidArgument", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := o.NewTopic("", c.topic, "u", c.attrs, c.secure)
			e := s3err.As(err)
			if e == nil || e.Code != c.code || e.Status != 400 || (c.msg != "" && e.Message != c.msg) {
				t.Errorf("err = %v, want %s %q", err, c.code, c.msg)
			}
		})
	}
	t.Run("secret over TLS", func(t *testing.T) {
		tp, err := o.NewTopic("", "t", "u", map[string]string{"push-endpoint": "amqp://guest:guest@127.0.0.1:5672"}, true)
		if err != nil || !tp.StoredSecret {
			t.Errorf("%v %+v", err, tp)
		}
	})
	t.Run("secret in cleartext allowed", func(t *testing.T) {
		o := opts()
		o.AllowSecretsInCleartext = true
		if _, err := o.NewTopic("", "t", "u", map[string]string{"push-endpoint": "http://a:b@h/"}, false); err != nil {
			t.Error(err)
		}
	})
	t.Run("relaxed names", func(t *testing.T) {
		o := opts()
		o.RelaxedTopicNames = true
		if _, err := o.NewTopic("", "a.b/c", "u", nil, false); err != nil {
			t.Error(err)
		}
	})
	t.Run("no endpoint, unknown scheme are fine", func(t *testing.T) {
		for _, ep := range []string{"", "ftp://h/x", "nats://127.0.0.1:4222"} {
			if _, err := o.NewTopic("", "t", "u", map[string]string{"push-endpoint": ep}, false); err != nil {
				t.Errorf("%q: %v", ep, err)
			}
		}
	})
}

func TestSetAttribute(t *testing.T) {
	o := opts()
	tp, err := o.NewTopic("", "t", "alice", map[string]string{"push-endpoint": "http://h/", "verify-ssl": "true"}, false)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct{ name, value string }{
		{"verify-ssl", "false"}, {"amqp-exchange", "ex"}, {"OpaqueData", "od"}, {"persistent", "true"},
		{"max_retries", "5"}, {"time_to_live", "x"}, {"retry_sleep_duration", "2"}, {"push-endpoint", "http://other/"},
	}
	for _, s := range steps {
		if tp, err = o.SetAttribute(tp, s.name, s.value, false); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
	}
	if tp.Args != "verify-ssl=false&amqp-exchange=ex" || tp.OpaqueData != "od" || !tp.Persistent ||
		tp.MaxRetriesString() != "5" || tp.TimeToLiveString() != "None" || tp.RetrySleepString() != "2" ||
		tp.Endpoint != "http://other/" || tp.Owner != "alice" {
		t.Errorf("topic after sets: %+v", tp)
	}
	_, err = o.SetAttribute(tp, "bogus", "1", false)
	if e := s3err.As(err); e == nil || e.Message != "Invalid value for AttributeName 'bogus'" {
		t.Errorf("bogus attribute: %v", err)
	}
	if _, err := o.SetAttribute(tp, "push-endpoint", "http://u:p@h/", false); s3err.As(err) == nil {
		t.Error("secret over plain HTTP accepted")
	}
	if _, err := o.SetAttribute(tp, "Policy", "nope", false); s3err.As(err) == nil || s3err.As(err).Code != "MalformedPolicyDocument" {
		t.Errorf("bad policy: %v", err)
	}
}

func TestAuthorize(t *testing.T) {
	o := opts()
	policy := func(effect, principal, action string) string {
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":%q,"Principal":{"AWS":[%q]},"Action":[%q],"Resource":["arn:aws:sns:default::t"]}]}`, effect, principal, action)
	}
	cases := []struct {
		name, owner, policy, user, action string
		allowed                           bool
	}{
		{"owner", "alice", "", "alice", ActionDeleteTopic, true},
		{"other user", "alice", "", "bob", ActionGetTopicAttributes, false},
		{"legacy ownerless", "", "", "bob", ActionDeleteTopic, true},
		{"policy allows", "alice", policy("Allow", "arn:aws:iam:::user/bob", "sns:GetTopicAttributes"), "bob", ActionGetTopicAttributes, true},
		{"policy wildcard action", "alice", policy("Allow", "*", "sns:*"), "bob", ActionSetTopicAttributes, true},
		{"policy for someone else", "alice", policy("Allow", "arn:aws:iam:::user/carol", "sns:*"), "bob", ActionDeleteTopic, false},
		{"policy present: publish needs a grant", "alice", policy("Allow", "arn:aws:iam:::user/carol", "sns:Publish"), "bob", ActionPublish, false},
		{"explicit deny beats ownership", "alice", policy("Deny", "arn:aws:iam:::user/alice", "sns:DeleteTopic"), "alice", ActionDeleteTopic, false},
	}
	for _, c := range cases {
		tp := &Topic{Name: "t", Owner: c.owner, Policy: c.policy}
		if err := o.Authorize(tp, c.user, c.action); (err == nil) != c.allowed {
			t.Errorf("%s: err = %v, allowed want %v", c.name, err, c.allowed)
		}
	}
}

// TestAuthorizePublish: who may use a topic in a bucket notification.
func TestAuthorizePublish(t *testing.T) {
	policy := func(effect, principal string) string {
		return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":%q,"Principal":{"AWS":[%q]},"Action":["sns:Publish"],"Resource":["arn:aws:sns:default::t"]}]}`, effect, principal)
	}
	cases := []struct {
		name, owner, policy, bucketOwner, caller string
		permissive, allowed                      bool
	}{
		{"own topic, own bucket", "alice", "", "alice", "alice", false, true},
		{"owner's topic on owner's bucket, delegated caller", "alice", "", "alice", "bob", false, true},
		{"another user's topic", "alice", "", "bob", "bob", false, false},
		{"another user's topic, caller is its owner", "alice", "", "bob", "alice", false, false},
		{"policy allows the bucket owner", "alice", policy("Allow", "arn:aws:iam:::user/bob"), "bob", "bob", false, true},
		{"policy allows everyone", "alice", policy("Allow", "*"), "bob", "carol", false, true},
		{"policy allows only the caller", "alice", policy("Allow", "arn:aws:iam:::user/carol"), "bob", "carol", false, false},
		{"policy denies the caller", "alice", policy("Deny", "arn:aws:iam:::user/carol"), "alice", "carol", false, false},
		{"policy denies the bucket owner", "alice", policy("Deny", "arn:aws:iam:::user/alice"), "alice", "alice", false, false},
		{"no policy, permissive", "alice", "", "bob", "bob", true, true},
		{"policy without a grant, permissive", "alice", policy("Allow", "arn:aws:iam:::user/carol"), "bob", "bob", true, false},
		{"legacy ownerless topic", "", "", "bob", "bob", false, false},
		{"legacy ownerless topic, permissive", "", "", "bob", "bob", true, true},
		{"tenanted bucket owner", "acme$alice", policy("Allow", "arn:aws:iam::acme:user/bob"), "acme$bob", "acme$bob", false, true},
	}
	for _, c := range cases {
		o := opts()
		o.PublishWithoutPolicy = c.permissive
		tp := &Topic{Name: "t", Owner: c.owner, Policy: c.policy}
		if c.owner == "acme$alice" {
			tp.Tenant = "acme"
			tp.Policy = strings.ReplaceAll(tp.Policy, "arn:aws:sns:default::t", "arn:aws:sns:default:acme:t")
		}
		err := o.AuthorizePublish(tp, c.bucketOwner, c.caller)
		if (err == nil) != c.allowed {
			t.Errorf("%s: err = %v, allowed want %v", c.name, err, c.allowed)
		}
		if e := s3err.As(err); err != nil && (e == nil || e.Code != "AccessDenied" || e.Status != 403 || e.Message == "") {
			t.Errorf("%s: error %v, want 403 AccessDenied with a message", c.name, err)
		}
	}
}

func TestTopicStore(t *testing.T) {
	ctx := context.Background()
	s := NewTopics(notifytest.NewMemKV())
	for i := range 250 {
		if err := s.Put(ctx, &Topic{Tenant: "", Name: fmt.Sprintf("t%03d", i), Owner: "u"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, &Topic{Tenant: "other", Name: "t000"}); err != nil {
		t.Fatal(err)
	}
	var all []string
	next, pages := "", 0
	for pages < 10 {
		page, n, err := s.List(ctx, "", next, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, tp := range page {
			all = append(all, tp.Name)
		}
		if n == "" {
			break
		}
		next = n
	}
	if pages != 3 || len(all) != 250 || all[0] != "t000" || all[249] != "t249" {
		t.Errorf("pages %d, %d topics (%s..%s)", pages, len(all), all[0], all[len(all)-1])
	}
	// Filtering does not count against the page.
	page, next, err := s.List(ctx, "", "", 10, func(tp *Topic) bool { return strings.HasSuffix(tp.Name, "0") })
	if err != nil || len(page) != 10 || page[9].Name != "t090" || next != "t100" {
		t.Errorf("filtered page: %d, next %q, %v", len(page), next, err)
	}
	got, err := s.Get(ctx, "other", "t000")
	if err != nil || got.Tenant != "other" {
		t.Errorf("Get other tenant: %v %v", got, err)
	}
	if err := s.Delete(ctx, "", "t001"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "", "t001"); err != nil {
		t.Errorf("deleting a missing topic: %v", err)
	}
	if _, err := s.Get(ctx, "", "t001"); !errors.Is(err, ErrNoSuchTopic) {
		t.Errorf("Get deleted: %v", err)
	}
}

func TestParseTopicARN(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:sns:default::t1":       "/t1",
		"arn:aws:sns:default:acme:t1":   "acme/t1",
		"arn:aws:sns:us-east-1:123:a:b": "123/a:b",
		"arn:aws:sns:default::":         "!",
		"t1":                            "!",
		"urn:aws:sns:default::t1":       "!",
	} {
		tenant, name, ok := ParseTopicARN(arn)
		got := tenant + "/" + name
		if !ok {
			got = "!"
		}
		if got != want {
			t.Errorf("%s: got %s, want %s", arn, got, want)
		}
	}
}

func TestQueueAttributes(t *testing.T) {
	o := opts()
	tp, err := o.NewTopic("", "q", "alice", map[string]string{
		AttrPushEndpoint: "http://127.0.0.1:1", AttrPersistent: "true",
		AttrMaxQueueSize: "4096", AttrOverflowPolicy: "drop-oldest",
	}, false)
	if err != nil {
		t.Fatal(err)
	}
	c, ov, err := tp.queueSettings()
	if err != nil || c != 4096 || ov.String() != "drop-oldest" {
		t.Errorf("queueSettings: %d %v %v", c, ov, err)
	}
	tp, err = o.SetAttribute(tp, AttrOverflowPolicy, "drop-newest", false)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := tp.Arg(AttrOverflowPolicy); v != "drop-newest" {
		t.Errorf("args %q", tp.Args)
	}
	for _, bad := range []map[string]string{{AttrMaxQueueSize: "lots"}, {AttrMaxQueueSize: "-5"}, {AttrOverflowPolicy: "ignore"}} {
		if _, err := o.NewTopic("", "q", "alice", bad, false); s3err.As(err) == nil || s3err.As(err).Code != "InvalidArgument" {
			t.Errorf("%v: %v", bad, err)
		}
	}
	if _, err := o.SetAttribute(tp, AttrMaxQueueSize, "x", false); err == nil {
		t.Error("SetAttribute accepted a bad max-queue-size")
	}
}
