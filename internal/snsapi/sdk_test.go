package snsapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sns"

	"github.com/cairn-s3/cairn/internal/notify"
)

// TestSDKTopicLifecycle drives the topic API with aws-sdk-go-v2's SNS client
// (SigV4, service "sns", form bodies, Attributes.entry.N maps).
func TestSDKTopicLifecycle(t *testing.T) {
	h := newHarness(t, notify.Options{})
	c := h.client("ALICEKEY", false)

	out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{
		Name: aws.String("t1"),
		Attributes: map[string]string{
			"push-endpoint": "http://127.0.0.1:9/hook", "OpaqueData": "ops@example.com", "persistent": "true",
			"max_retries": "3", "verify-ssl": "false", "cloudevents": "true",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := aws.ToString(out.TopicArn), "arn:aws:sns:default::t1"; got != want {
		t.Fatalf("TopicArn = %s, want %s", got, want)
	}

	attrs, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: out.TopicArn})
	if err != nil {
		t.Fatal(err)
	}
	a := attrs.Attributes
	if a["User"] != "alice" || a["Name"] != "t1" || a["TopicArn"] != "arn:aws:sns:default::t1" || a["OpaqueData"] != "ops@example.com" {
		t.Errorf("attributes = %v", a)
	}
	if _, ok := a["Policy"]; !ok {
		t.Error("no Policy attribute (Squid has one, empty)")
	}
	var ep struct {
		EndpointAddress, EndpointArgs, EndpointTopic string
		HasStoredSecret, Persistent                  bool
		TimeToLive, MaxRetries, RetrySleepDuration   string
	}
	if err := json.Unmarshal([]byte(a["EndPoint"]), &ep); err != nil {
		t.Fatalf("EndPoint %q: %v", a["EndPoint"], err)
	}
	if ep.EndpointAddress != "http://127.0.0.1:9/hook" || ep.EndpointArgs != "cloudevents=true&verify-ssl=false" || ep.EndpointTopic != "t1" ||
		ep.HasStoredSecret || !ep.Persistent || ep.TimeToLive != "None" || ep.MaxRetries != "3" || ep.RetrySleepDuration != "None" {
		t.Errorf("EndPoint = %+v", ep)
	}

	if _, err := c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
		TopicArn: out.TopicArn, AttributeName: aws.String("OpaqueData"), AttributeValue: aws.String("new"),
	}); err != nil {
		t.Fatal(err)
	}
	_, err = c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{
		TopicArn: out.TopicArn, AttributeName: aws.String("DisplayName"), AttributeValue: aws.String("x"),
	})
	if status(err) != http.StatusBadRequest {
		t.Errorf("unknown AttributeName: %v", err)
	}
	attrs, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: out.TopicArn})
	if err != nil || attrs.Attributes["OpaqueData"] != "new" {
		t.Errorf("after SetTopicAttributes: %v %v", attrs, err)
	}

	// Re-creating replaces the whole configuration.
	if _, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("t1")}); err != nil {
		t.Fatal(err)
	}
	attrs, _ = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: out.TopicArn})
	if attrs.Attributes["OpaqueData"] != "" {
		t.Errorf("re-create kept OpaqueData %q", attrs.Attributes["OpaqueData"])
	}

	if _, err := c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: out.TopicArn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: out.TopicArn})
	if status(err) != http.StatusNotFound {
		t.Errorf("GetTopicAttributes after delete: %v", err)
	}
	if _, err := c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: out.TopicArn}); err != nil {
		t.Errorf("deleting a missing topic: %v", err)
	}
}

func TestSDKValidation(t *testing.T) {
	h := newHarness(t, notify.Options{})
	c := h.client("ALICEKEY", false)
	for _, name := range []string{"bad.name", "x y"} {
		_, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)})
		if status(err) != http.StatusBadRequest {
			t.Errorf("CreateTopic(%q): %v", name, err)
		}
	}
	_, err := c.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: aws.String("not-an-arn")})
	if status(err) != http.StatusBadRequest {
		t.Errorf("bad ARN: %v", err)
	}
}

// TestSDKListTopicsPaging creates 250 topics and reads them back with the
// SDK's paginator (100 per page, NextToken).
func TestSDKListTopicsPaging(t *testing.T) {
	h := newHarness(t, notify.Options{})
	c := h.client("ALICEKEY", false)
	var want []string
	for i := range 250 {
		name := fmt.Sprintf("topic-%03d", i)
		if _, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
		want = append(want, "arn:aws:sns:default::"+name)
	}
	var got []string
	pages := 0
	p := sns.NewListTopicsPaginator(c, &sns.ListTopicsInput{})
	for p.HasMorePages() && pages < 10 {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, tp := range out.Topics {
			got = append(got, aws.ToString(tp.TopicArn))
		}
	}
	if pages != 3 || !slices.Equal(got, want) {
		t.Errorf("%d pages, %d topics", pages, len(got))
	}
}

// TestSDKOwnershipAndTenants: topics belong to their user (Squid) and live
// in the user's tenant.
func TestSDKOwnershipAndTenants(t *testing.T) {
	h := newHarness(t, notify.Options{})
	alice, bob, carol := h.client("ALICEKEY", false), h.client("BOBKEY", false), h.client("CAROLKEY", false)
	out, err := alice.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("mine")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: out.TopicArn}); status(err) != http.StatusForbidden {
		t.Errorf("bob reads alice's topic: %v", err)
	}
	if _, err := bob.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: out.TopicArn}); status(err) != http.StatusForbidden {
		t.Errorf("bob deletes alice's topic: %v", err)
	}
	if _, err := bob.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("mine")}); status(err) != http.StatusForbidden {
		t.Errorf("bob overwrites alice's topic: %v", err)
	}
	list, err := bob.ListTopics(ctx, &sns.ListTopicsInput{})
	if err != nil || len(list.Topics) != 0 {
		t.Errorf("bob lists %v, %v", list, err)
	}
	// A policy can grant others read access.
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/bob"]},"Action":["sns:GetTopicAttributes"],"Resource":["arn:aws:sns:default::mine"]}]}`
	if _, err := alice.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: out.TopicArn, AttributeName: aws.String("Policy"), AttributeValue: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: out.TopicArn}); err != nil {
		t.Errorf("bob with a policy grant: %v", err)
	}
	// A grant to set attributes never carries alice's secrets to an
	// endpoint bob chooses.
	secret, err := h.client("ALICEKEY", true).CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("secret"), Attributes: map[string]string{
		"push-endpoint": "amqp://127.0.0.1:5672", "amqp-exchange": "ex", "user-name": "alice", "password": "pw&x=y", "OpaqueData": "token",
		"Policy": `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/bob"]},"Action":["sns:SetTopicAttributes"],"Resource":["arn:aws:sns:default::secret"]}]}`}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.client("BOBKEY", true).SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: secret.TopicArn,
		AttributeName: aws.String("push-endpoint"), AttributeValue: aws.String("amqp://127.0.0.1:5673")}); err != nil {
		t.Fatalf("bob redirects with a grant: %v", err)
	}
	got, err := h.client("ALICEKEY", true).GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: secret.TopicArn})
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range got.Attributes {
		if strings.Contains(v, "pw") || strings.Contains(v, "token") || strings.Contains(v, "user-name") {
			t.Errorf("after bob's redirect, %s = %q keeps alice's secret", name, v)
		}
	}
	// Tenanted user: own namespace, ARN carries the tenant.
	cout, err := carol.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String("mine")})
	if err != nil || aws.ToString(cout.TopicArn) != "arn:aws:sns:default:acme:mine" {
		t.Fatalf("carol: %v %v", cout, err)
	}
	attrs, err := carol.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: cout.TopicArn})
	if err != nil || attrs.Attributes["User"] != "acme$carol" {
		t.Errorf("carol's topic: %v %v", attrs, err)
	}
}

// TestSDKSecrets: credentials in the endpoint need TLS to be stored and to
// be read back (spec §2.11).
func TestSDKSecrets(t *testing.T) {
	h := newHarness(t, notify.Options{})
	plain, secure := h.client("ALICEKEY", false), h.client("ALICEKEY", true)
	in := &sns.CreateTopicInput{Name: aws.String("creds"), Attributes: map[string]string{
		"push-endpoint": "amqp://guest:guest@127.0.0.1:5672", "amqp-exchange": "rgw-ex",
	}}
	if _, err := plain.CreateTopic(ctx, in); status(err) != http.StatusBadRequest || errCode(err) == "" {
		t.Errorf("secret over HTTP: %v", err)
	}
	out, err := secure.CreateTopic(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := plain.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: out.TopicArn}); status(err) != http.StatusForbidden {
		t.Errorf("read secret over HTTP: %v", err)
	}
	if _, err := plain.ListTopics(ctx, &sns.ListTopicsInput{}); status(err) != http.StatusForbidden {
		t.Errorf("list with a secret over HTTP: %v", err)
	}
	attrs, err := secure.GetTopicAttributes(ctx, &sns.GetTopicAttributesInput{TopicArn: out.TopicArn})
	if err != nil {
		t.Fatal(err)
	}
	var ep struct{ HasStoredSecret bool }
	if err := json.Unmarshal([]byte(attrs.Attributes["EndPoint"]), &ep); err != nil || !ep.HasStoredSecret {
		t.Errorf("HasStoredSecret: %v %s", err, attrs.Attributes["EndPoint"])
	}

	relaxed := newHarness(t, notify.Options{AllowSecretsInCleartext: true})
	if _, err := relaxed.client("ALICEKEY", false).CreateTopic(ctx, in); err != nil {
		t.Errorf("AllowSecretsInCleartext: %v", err)
	}
}
