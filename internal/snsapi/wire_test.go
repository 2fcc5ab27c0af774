package snsapi_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/notify"
)

func init() { users["test"] = [2]string{"test", "test-secret"} }

// post sends a form body (and optional raw query) to the topic API as user
// "test" ("" accessKey: anonymous) and returns status and body.
func (h *harness) post(t *testing.T, useTLS bool, accessKey, query, body string) (int, string) {
	t.Helper()
	base, hc := h.url, http.DefaultClient
	if useTLS {
		base, hc = h.tlsURL, h.tls.Client()
	}
	req, err := http.NewRequest(http.MethodPost, base+"/"+query, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if accessKey != "" {
		signV2(req, accessKey)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("Content-Type = %q", ct)
	}
	if id := resp.Header.Get("x-amz-request-id"); id == "" || !strings.Contains(string(data), "<RequestId>"+id+"</RequestId>") {
		t.Errorf("RequestId in body does not match x-amz-request-id %q: %s", id, data)
	}
	return resp.StatusCode, string(data)
}

// signV2 signs a POST / with AWS signature version 2 the way boto3's
// signature_version="s3" does (RGW's test suite uses it): the string to
// sign is "POST\n<md5>\n<type>\n<date>\n/".
func signV2(req *http.Request, accessKey string) {
	date := time.Now().UTC().Format(http.TimeFormat)
	req.Header.Set("Date", date)
	sts := "POST\n\n" + req.Header.Get("Content-Type") + "\n" + date + "\n/"
	mac := hmac.New(sha1.New, []byte(users[accessKey][1]))
	mac.Write([]byte(sts))
	req.Header.Set("Authorization", "AWS "+accessKey+":"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
}

var ids = regexp.MustCompile(`<(RequestId|HostId)>[^<]*</(RequestId|HostId)>`)

func normIDs(s string) string { return ids.ReplaceAllString(strings.TrimSpace(s), "<$1>ID</$2>") }

func sample(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/rgw/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSpace(string(data))
	return strings.TrimSpace(strings.TrimPrefix(s, "HTTP 200"))
}

// capturedBody returns the form body of a captured boto3 request.
func capturedBody(t *testing.T, name string) string {
	var req struct{ Body string }
	if err := json.Unmarshal([]byte(sample(t, name)), &req); err != nil {
		t.Fatal(err)
	}
	return req.Body
}

// TestWireMatchesRGW replays the boto3 requests captured against RGW and
// compares our responses with RGW's, byte for byte where Squid and the
// captured Pacific agree (request ids normalised).
func TestWireMatchesRGW(t *testing.T) {
	h := newHarness(t, notify.Options{})

	code, body := h.post(t, false, "test", "", capturedBody(t, "create-topic-request-sigv4.json"))
	if code != 200 || normIDs(body) != normIDs(sample(t, "create-topic-response.xml")) {
		t.Errorf("CreateTopic: %d\n got %s\nwant %s", code, body, sample(t, "create-topic-response.xml"))
	}

	sigv2 := capturedBody(t, "create-topic-request-sigv2.json") // credentials in the endpoint
	code, body = h.post(t, false, "test", "", sigv2)
	want := strings.Replace(sample(t, "create-topic-insecure-secret-error.xml"), "<Message></Message>",
		"<Message>Topic contains secrets that must be transmitted over a secure transport</Message>", 1)
	if code != 400 || normIDs(body) != normIDs(want) {
		t.Errorf("insecure secret: %d\n got %s\nwant %s", code, body, want)
	}
	if code, body = h.post(t, true, "test", "", sigv2); code != 200 {
		t.Fatalf("secret over TLS: %d %s", code, body)
	}
	arnCreds := url.Values{"TopicArn": {"arn:aws:sns:default::amqp-creds"}}
	code, body = h.post(t, false, "test", "", "Action=GetTopicAttributes&"+arnCreds.Encode())
	if code != 403 || normIDs(body) != normIDs(sample(t, "get-topic-attributes-secret-over-http-error.xml")) {
		t.Errorf("read secret over HTTP: %d %s", code, body)
	}
	code, body = h.post(t, false, "test", "", "Action=ListTopics&Version=2010-03-31")
	if code != 403 || normIDs(body) != normIDs(sample(t, "list-topics-secret-over-http-error.xml")) {
		t.Errorf("list secret over HTTP: %d %s", code, body)
	}

	// GetTopicAttributes: same elements as RGW's, plus Squid's Policy entry;
	// EndPoint JSON with RGW's keys in order plus Squid's retry fields.
	code, body = h.post(t, false, "test", "", "Action=GetTopicAttributes&TopicArn=arn%3Aaws%3Asns%3Adefault%3A%3Aamqp-nocreds")
	if code != 200 {
		t.Fatalf("GetTopicAttributes: %d %s", code, body)
	}
	rgw := sample(t, "get-topic-attributes-response.xml")
	if got, want := elementPaths(t, body), elementPaths(t, rgw); !slices.Equal(got, want) {
		t.Errorf("element paths\n got %v\nwant %v", got, want)
	}
	if got, want := strings.Count(body, "<entry>"), strings.Count(rgw, "<entry>")+1; got != want {
		t.Errorf("%d attribute entries, want RGW's + Policy = %d", got, want)
	}
	if !strings.HasPrefix(body, `<GetTopicAttributesResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/"><GetTopicAttributesResult><Attributes><entry><key>User</key><value>test</value></entry><entry><key>Name</key><value>amqp-nocreds</value></entry><entry><key>EndPoint</key><value>{&quot;EndpointAddress&quot;:&quot;amqp://127.0.0.1:5672&quot;,&quot;EndpointArgs&quot;:&quot;amqp-ack-level=broker&amp;amqp-exchange=rgw-ex&quot;,&quot;EndpointTopic&quot;:&quot;amqp-nocreds&quot;,&quot;HasStoredSecret&quot;:false,&quot;Persistent&quot;:false,&quot;TimeToLive&quot;:&quot;None&quot;,&quot;MaxRetries&quot;:&quot;None&quot;,&quot;RetrySleepDuration&quot;:&quot;None&quot;}</value></entry><entry><key>TopicArn</key><value>arn:aws:sns:default::amqp-nocreds</value></entry><entry><key>OpaqueData</key><value></value></entry><entry><key>Policy</key><value></value></entry></Attributes></GetTopicAttributesResult>`) {
		t.Errorf("GetTopicAttributes body:\n%s", body)
	}

	// ListTopics over TLS: each member has RGW's children plus Squid's.
	code, body = h.post(t, true, "test", "", "Action=ListTopics")
	if code != 200 {
		t.Fatalf("ListTopics: %d %s", code, body)
	}
	got, rgwPaths := elementPaths(t, body), elementPaths(t, sample(t, "list-topics-response.xml"))
	for _, p := range rgwPaths {
		if !slices.Contains(got, p) {
			t.Errorf("ListTopics lacks RGW's %s", p)
		}
	}
	if !strings.Contains(body, "<member><User>test</User><Name>amqp-creds</Name><EndPoint><EndpointAddress>amqp://guest:guest@127.0.0.1:5672</EndpointAddress><EndpointArgs>amqp-ack-level=broker&amp;amqp-exchange=rgw-ex</EndpointArgs><EndpointTopic>amqp-creds</EndpointTopic><HasStoredSecret>true</HasStoredSecret><Persistent>false</Persistent><TimeToLive>None</TimeToLive><MaxRetries>None</MaxRetries><RetrySleepDuration>None</RetrySleepDuration></EndPoint><TopicArn>arn:aws:sns:default::amqp-creds</TopicArn><OpaqueData></OpaqueData><Policy></Policy></member>") {
		t.Errorf("ListTopics member:\n%s", body)
	}

	code, body = h.post(t, false, "test", "", "Action=DeleteTopic&TopicArn=arn%3Aaws%3Asns%3Adefault%3A%3Aamqp-nocreds")
	if code != 200 || normIDs(body) != normIDs(sample(t, "delete-topic-response.xml")) {
		t.Errorf("DeleteTopic: %d %s", code, body)
	}
	code, body = h.post(t, false, "test", "", "Action=DeleteTopic&TopicArn=arn%3Aaws%3Asns%3Adefault%3A%3Aamqp-nocreds")
	if code != 200 || normIDs(body) != normIDs(sample(t, "delete-topic-missing-response.xml")) {
		t.Errorf("DeleteTopic missing: %d %s", code, body)
	}
	// Missing topic: Squid's code ("Not Found", sic) in RGW's envelope
	// (Pacific answered NoSuchEntity).
	code, body = h.post(t, false, "test", "", "Action=GetTopicAttributes&TopicArn=arn%3Aaws%3Asns%3Adefault%3A%3Aamqp-nocreds")
	wantMissing := strings.Replace(sample(t, "get-topic-attributes-missing-error.xml"), "<Code>NoSuchEntity</Code><Message></Message>", "<Code>Not Found</Code><Message>No such TopicArn</Message>", 1)
	if code != 404 || normIDs(body) != normIDs(wantMissing) {
		t.Errorf("GetTopicAttributes missing: %d %s", code, body)
	}
}

// elementPaths lists the distinct element paths of an XML document in
// document order.
func elementPaths(t *testing.T, doc string) []string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(doc))
	var stack, out []string
	seen := map[string]bool{}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%v in %s", err, doc)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			stack = append(stack, el.Name.Local)
			p := "/" + strings.Join(stack, "/")
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
}

func TestWireDetails(t *testing.T) {
	h := newHarness(t, notify.Options{})

	t.Run("parameters in the query string", func(t *testing.T) {
		code, body := h.post(t, false, "test", "?Action=CreateTopic&Name=q1&push-endpoint=http%3A%2F%2F127.0.0.1%3A9%2Fx&OpaqueData=a%3Db", "")
		if code != 200 || !strings.Contains(body, "<TopicArn>arn:aws:sns:default::q1</TopicArn>") {
			t.Fatalf("%d %s", code, body)
		}
		code, body = h.post(t, false, "test", "?Action=GetTopic&TopicArn=arn:aws:sns:default::q1", "")
		if code != 200 || !strings.HasPrefix(body, "<GetTopicResponse><GetTopicResult><Topic><User>test</User><Name>q1</Name><EndPoint><EndpointAddress>http://127.0.0.1:9/x</EndpointAddress><EndpointArgs></EndpointArgs>") ||
			!strings.Contains(body, "<OpaqueData>a=b</OpaqueData><Policy></Policy></Topic></GetTopicResult><ResponseMetadata>") {
			t.Errorf("GetTopic (no namespace): %d %s", code, body)
		}
	})
	t.Run("attribute entries in any order", func(t *testing.T) {
		form := "Action=CreateTopic&Name=q2&Attributes.entry.7.value=x%3Dy.z&Attributes.entry.10.key=verify-ssl" +
			"&Attributes.entry.7.key=OpaqueData&Attributes.entry.10.value=false&Attributes.entry.3.key=orphan"
		if code, body := h.post(t, false, "test", "", form); code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		tp, err := h.topics.Get(ctx, "", "q2")
		if err != nil || tp.OpaqueData != "x=y.z" || tp.Args != "verify-ssl=false" {
			t.Errorf("topic %+v %v", tp, err)
		}
	})
	t.Run("no or unknown Action is 405", func(t *testing.T) {
		for _, form := range []string{"", "Action=Publish", "Name=x"} {
			if code, body := h.post(t, false, "test", "", form); code != 405 || !strings.Contains(body, "<Code>MethodNotAllowed</Code>") {
				t.Errorf("%q: %d %s", form, code, body)
			}
		}
	})
	t.Run("anonymous is 400 InvalidRequest", func(t *testing.T) {
		// In the topic API's envelope: no Resource (spec §2.3).
		if code, body := h.post(t, false, "", "", "Action=ListTopics"); code != 400 || !strings.Contains(body, "<Code>InvalidRequest</Code>") ||
			strings.Contains(body, "<Resource>") {
			t.Errorf("%d %s", code, body)
		}
	})
	t.Run("signatures are verified", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, h.url+"/", strings.NewReader("Action=ListTopics"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		signV2(req, "test")
		req.Header.Set("Content-Type", "text/plain") // no longer what was signed
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("tampered request: %d", resp.StatusCode)
		}
	})
	t.Run("missing parameters", func(t *testing.T) {
		cases := map[string]string{
			"Action=CreateTopic":                                                           "Missing required element Name",
			"Action=GetTopicAttributes":                                                    "Missing required element TopicArn",
			"Action=GetTopic&TopicArn=arn:aws:sns:default::":                               "Invalid value for TopicArn",
			"Action=SetTopicAttributes&TopicArn=arn:aws:sns:default::q1":                   "Missing required element AttributeName",
			"Action=SetTopicAttributes&TopicArn=arn:aws:sns:default::q1&AttributeName=foo": "Invalid value for AttributeName &apos;foo&apos;",
		}
		for form, msg := range cases {
			if code, body := h.post(t, false, "test", "", form); code != 400 || !strings.Contains(body, "<Code>InvalidArgument</Code><Message>"+msg+"</Message>") {
				t.Errorf("%s: %d %s", form, code, body)
			}
		}
	})
	t.Run("empty list and NextToken positions", func(t *testing.T) {
		h := newHarness(t, notify.Options{})
		code, body := h.post(t, false, "BOBKEY", "", "Action=ListTopics")
		if code != 200 || !strings.Contains(body, "<ListTopicsResult><Topics/></ListTopicsResult>") {
			t.Errorf("empty: %d %s", code, body)
		}
		for i := range 101 {
			h.topics.Put(ctx, &notify.Topic{Name: "n" + strings.Repeat("x", i), Owner: "bob"})
		}
		code, body = h.post(t, false, "BOBKEY", "", "Action=ListTopics")
		last := "n" + strings.Repeat("x", 100)
		if code != 200 || !strings.Contains(body, "</Topics><NextToken>"+last+"</NextToken></ListTopicsResult>") ||
			!strings.HasSuffix(body, "</ResponseMetadata><NextToken>"+last+"</NextToken></ListTopicsResponse>") {
			t.Errorf("NextToken: %d %s", code, body[len(body)-300:])
		}
		code, body = h.post(t, false, "BOBKEY", "", "Action=ListTopics&NextToken="+last)
		if code != 200 || strings.Count(body, "<member>") != 1 || strings.Contains(body, "NextToken") {
			t.Errorf("second page: %d %s", code, body)
		}
	})
	t.Run("forwarded https is trusted only when configured", func(t *testing.T) {
		for _, trust := range []bool{false, true} {
			h := newHarness(t, notify.Options{TrustForwardedHTTPS: trust})
			req, _ := http.NewRequest(http.MethodPost, h.url+"/", strings.NewReader("Action=CreateTopic&Name=f&push-endpoint=http%3A%2F%2Fu%3Ap%40h%2F"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			signV2(req, "test")
			req.Header.Set("Forwarded", `for=1.2.3.4;proto=https`)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if want := map[bool]int{false: 400, true: 200}[trust]; resp.StatusCode != want {
				t.Errorf("trust=%v: %d, want %d", trust, resp.StatusCode, want)
			}
		}
	})
}
