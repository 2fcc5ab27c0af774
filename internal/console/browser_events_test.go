package console_test

// Browser test of the bucket settings, topics, notifications, the live
// events view (fed by a boto3 PUT) and pull subscriptions.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/chromedp"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// debianPython is Debian's interpreter with python3-boto3 (the first
// python3 on PATH may be another one).
const debianPython = "/usr/bin/python3"

// boto3Python returns the interpreter with boto3, or skips the test (fails
// it under CI=true) when there is none.
func boto3Python(t *testing.T) string {
	t.Helper()
	if err := exec.Command(debianPython, "-c", "import boto3").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s with boto3 (Debian python3-boto3) is required under CI: %v", debianPython, err)
		}
		t.Skipf("%s with boto3 not available: %v", debianPython, err)
	}
	return debianPython
}

// boto3Put writes one object with boto3.
const boto3Put = `import sys, boto3
url, ak, sk, bucket, key = sys.argv[1:6]
c = boto3.client("s3", endpoint_url=url, aws_access_key_id=ak, aws_secret_access_key=sk, region_name="us-east-1")
c.put_object(Bucket=bucket, Key=key, Body=b"written by boto3\n")
`

// liveEventBound is how long the test waits for the event to show; the
// page normally shows it within milliseconds (the time is logged).
const liveEventBound = 10 * time.Second

// TestBrowserBucketEvents, as a user without admin rights: topics are created, edited and deleted on the
// Topics page; the settings page rejects a policy that is not JSON (and
// shows the server's refusal of a bad one), saves a policy, CORS and
// lifecycle given as JSON, and adds a notification; an object written by
// boto3 appears in the live events view; the notification's pull
// subscription shows the pending event; the notification is deleted.
func TestBrowserBucketEvents(t *testing.T) {
	python := boto3Python(t)
	srv := startServer(t, servertest.Options{PubSub: server.PubSubConfig{Enabled: true}})
	// A user without admin rights: the user pages are everyone's.
	const ak, sk = "FRANKKEY000000000001", "frank-secret-000000000000000000000000001"
	createUser(t, rootClient(t, srv), "frank", ak, sk, "")
	s3c := s3ClientFor(srv, ak, sk)
	ctx := t.Context()
	const bucket = "evented"
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	b := startBrowser(t, srv)
	b.signIn(ak, sk)

	topicsPage(t, b)
	settingsPage(t, b, s3c, bucket)

	b.visit("#/buckets/" + bucket + "/events")
	b.run(b.waitJS(`document.getElementById('events-status').textContent.startsWith('Connected')`))
	const key = "boto3/hello.txt"
	start := time.Now()
	if out, err := exec.Command(python, "-c", boto3Put, srv.URL, ak, sk, bucket, key).CombinedOutput(); err != nil {
		t.Fatalf("boto3 put: %v\n%s", err, out)
	}
	put := time.Since(start)
	b.run(chromedp.Poll[chromedp.Void](`!!document.querySelector('#events-list li[data-key="`+key+`"]')`,
		chromedp.WithPollingTimeout(liveEventBound), chromedp.WithPollingInterval(10*time.Millisecond)))
	t.Logf("the boto3 PUT showed in the live view %v after the client started (the PUT itself took %v)", time.Since(start), put)
	if ev := b.text(`#events-list li[data-key="` + key + `"] strong`); ev != "ObjectCreated:Put" {
		t.Errorf("live event name %q", ev)
	}
	b.checkAccessibility("events-live")

	b.visit("#/subscriptions")
	b.click(`#subscription-list button`)
	b.click(`#sub-peek`)
	b.run(b.waitJS(`document.getElementById('subscription-detail').textContent.includes('` + key + `')`))
	b.checkAccessibility("subscriptions")

	b.visit("#/buckets/" + bucket + "/settings")
	b.click(`button[aria-label="Delete notification n1"]`)
	b.confirm()
	b.run(b.waitJS(`!document.querySelector('button[aria-label="Delete notification n1"]')`))
	nc, err := s3c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil || len(nc.TopicConfigurations) != 0 {
		t.Errorf("after deleting the notification: %+v, %v", nc, err)
	}
	lockAndHold(t, b, s3c)
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions in the page: %q", ex)
	}
}

// topicsPage creates two topics, edits one and deletes the other.
func topicsPage(t *testing.T, b *consoleBrowser) {
	b.visit("#/topics")
	for _, name := range []string{"pull-topic", "doomed"} {
		b.click(`#topic-new`)
		b.run(chromedp.WaitVisible(chromedp.CSS(`#topic-name`)), chromedp.SetValue(chromedp.CSS(`#topic-name`), name),
			b.clickStep(`#topic-save`),
			b.waitJS(`!!document.querySelector('button[aria-label="Edit topic `+name+`"]')`))
	}
	b.click(`button[aria-label="Edit topic pull-topic"]`)
	b.run(chromedp.WaitVisible(chromedp.CSS(`#topic-opaque`)), chromedp.SetValue(chromedp.CSS(`#topic-opaque`), "kept-opaque"),
		b.clickStep(`#topic-save`), b.waitJS(`!document.getElementById('topic-opaque')`))
	b.click(`button[aria-label="Edit topic pull-topic"]`)
	b.run(b.waitJS(`document.getElementById('topic-opaque')?.value === 'kept-opaque'`))
	b.checkAccessibility("topics")
	if b.text(`#topic-list`) == "" || b.text(`button[aria-label^="Send a test event"]`) != "" {
		t.Error("the topics page offers a user without admin rights the admin API's test event")
	}
	b.click(`button[aria-label="Delete topic doomed"]`)
	b.confirm()
	b.run(b.waitJS(`!document.querySelector('button[aria-label="Delete topic doomed"]') && !!document.querySelector('button[aria-label="Delete topic pull-topic"]')`))
}

// settingsPage edits the policy (bad JSON, a policy the server refuses, a
// good one), CORS and lifecycle as JSON, and adds notification n1.
func settingsPage(t *testing.T, b *consoleBrowser, s3c *s3.Client, bucket string) {
	ctx := t.Context()
	b.visit("#/buckets/" + bucket + "/settings")
	// setDoc saves text in an editor and waits for the outcome (the
	// section's data-state: saved, invalid or refused).
	setDoc := func(id, text, want string) {
		b.run(chromedp.WaitVisible(chromedp.CSS(`#`+id+`-doc`)), chromedp.SetValue(chromedp.CSS(`#`+id+`-doc`), text),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('`+id+`-section').dataset.state = ''`),
			b.clickStep(`#`+id+`-save`),
			b.waitJS(`document.getElementById('`+id+`-section').dataset.state === '`+want+`'`))
	}
	errText := `document.querySelector('#policy-doc').closest('section').querySelector('.error-text').textContent`
	setDoc("policy", `{"Version": "2012-10-17", "Statement": [`, "invalid")
	b.run(b.waitJS(errText + `.startsWith('Not valid') && document.querySelector('#policy-doc').getAttribute('aria-invalid') === 'true'`))
	b.checkAccessibility("settings-invalid-policy")
	resource := `"arn:aws:s3:::` + bucket + `/*"`
	setDoc("policy", `{"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "s3:GetObject", "Resource": `+resource+`}]}`, "refused")
	b.run(b.waitJS(errText + `.startsWith('The server refused it: MalformedPolicy')`))
	good := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": ` + resource + `}]}`
	setDoc("policy", good, "saved")
	b.run(b.waitJS(errText + ` === '' && document.querySelector('#policy-doc').getAttribute('aria-invalid') === null`))
	if p, err := s3c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)}); err != nil || !strings.Contains(aws.ToString(p.Policy), "s3:GetObject") {
		t.Errorf("policy saved by the page: %v, %v", p, err)
	}

	b.run(chromedp.SetValue(chromedp.CSS(`#cors-format`), "json"))
	setDoc("cors", `{"CORSRules": [{"AllowedOrigins": ["https://example.test"], "AllowedMethods": ["GET", "PUT"]}]}`, "saved")
	b.run(b.waitJS(`document.querySelector('#cors-doc').value.includes('CORSConfiguration')`))
	if c, err := s3c.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bucket)}); err != nil || len(c.CORSRules) != 1 || len(c.CORSRules[0].AllowedMethods) != 2 {
		t.Errorf("CORS saved by the page: %+v, %v", c, err)
	}
	b.run(chromedp.SetValue(chromedp.CSS(`#lifecycle-format`), "json"))
	setDoc("lifecycle", `{"Rules": [{"ID": "old-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/"}, "Expiration": {"Days": 30}}]}`, "saved")
	b.run(b.waitJS(`document.querySelector('#lifecycle-doc').value.includes('LifecycleConfiguration')`))
	if l, err := s3c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)}); err != nil || len(l.Rules) != 1 {
		t.Errorf("lifecycle saved by the page: %+v, %v", l, err)
	}

	b.click(`#notif-add`)
	b.run(chromedp.WaitVisible(chromedp.CSS(`#notif-id`)), chromedp.SetValue(chromedp.CSS(`#notif-id`), "n1"),
		b.clickStep(`#notif-save`), b.waitJS(`!!document.querySelector('button[aria-label="Delete notification n1"]')`))
	b.click(`button[aria-label="Send a test event for n1"]`)
	b.run(b.waitJS(`document.getElementById('toasts').textContent.includes('Wrote cairn-console-test-event')`))
	if _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("cairn-console-test-event")}); err != nil {
		t.Errorf("the notification's test event wrote no object: %v", err)
	}
	nc, err := s3c.GetBucketNotificationConfiguration(ctx, &s3.GetBucketNotificationConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil || len(nc.TopicConfigurations) != 1 || aws.ToString(nc.TopicConfigurations[0].Id) != "n1" ||
		!strings.HasSuffix(aws.ToString(nc.TopicConfigurations[0].TopicArn), ":pull-topic") {
		t.Fatalf("notification saved by the page: %+v, %v", nc, err)
	}
	b.checkAccessibility("settings")
}

// lockAndHold creates a bucket with object lock through the form and
// places a legal hold on an object from the detail panel.
func lockAndHold(t *testing.T, b *consoleBrowser, s3c *s3.Client) {
	ctx := t.Context()
	const bucket = "locked"
	b.visit("#/buckets")
	b.run(chromedp.WaitVisible(chromedp.CSS(`#new-bucket-name`)), chromedp.SetValue(chromedp.CSS(`#new-bucket-name`), bucket))
	b.click(`#new-bucket-lock`)
	b.click(`#new-bucket-submit`)
	b.run(b.waitJS(`!!document.querySelector('a[href="#/buckets/` + bucket + `"]')`))
	lc, err := s3c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil || lc.ObjectLockConfiguration == nil || lc.ObjectLockConfiguration.ObjectLockEnabled != "Enabled" {
		t.Fatalf("object lock of the bucket made by the page: %+v, %v", lc, err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("held.txt"), Body: strings.NewReader("held")}); err != nil {
		t.Fatal(err)
	}
	b.visit("#/buckets/" + bucket)
	b.click(`tr[data-key="held.txt"] button[aria-label="Details of held.txt"]`)
	b.run(b.waitJS(`document.getElementById('legal-hold')?.textContent === 'Place legal hold'`))
	b.click(`#legal-hold`)
	b.run(b.waitJS(`document.getElementById('legal-hold').textContent === 'Release legal hold'`))
	lh, err := s3c.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String(bucket), Key: aws.String("held.txt")})
	if err != nil || lh.LegalHold == nil || lh.LegalHold.Status != "ON" {
		t.Fatalf("legal hold placed by the page: %+v, %v", lh, err)
	}
	b.click(`#legal-hold`) // released again, so that the test's cleanup can remove the bucket
	b.run(b.waitJS(`document.getElementById('legal-hold').textContent === 'Place legal hold'`))
	b.checkAccessibility("object-lock-detail")
}

// pushTestEvent makes a topic that pushes to an HTTP endpoint on loopback
// and sends it a test event from the Topics page (the admin API).
func pushTestEvent(t *testing.T, b *consoleBrowser) {
	got := make(chan string, 4)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		select {
		case got <- string(body):
		default:
		}
	}))
	t.Cleanup(endpoint.Close)
	b.click(`#topic-new`)
	b.run(chromedp.WaitVisible(chromedp.CSS(`#topic-name`)), chromedp.SetValue(chromedp.CSS(`#topic-name`), "pushed"),
		chromedp.SetValue(chromedp.CSS(`#topic-endpoint`), endpoint.URL+"/hook"),
		b.clickStep(`#topic-save`),
		b.waitJS(`!!document.querySelector('button[aria-label="Send a test event to pushed"]')`))
	b.click(`button[aria-label="Send a test event to pushed"]`)
	b.run(b.waitJS(`document.getElementById('toasts').textContent.includes('Test event for pushed: delivered')`))
	select {
	case body := <-got:
		if !strings.Contains(body, "cairn-test-event") {
			t.Errorf("the endpoint got %q", body)
		}
	case <-time.After(liveEventBound):
		t.Fatal("the test event never reached the endpoint")
	}
}
