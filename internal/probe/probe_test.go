package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func TestHistogramBuckets(t *testing.T) {
	want := []float64{0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 1}
	if !slices.Equal(HistogramBuckets, want) {
		t.Fatalf("buckets %v, want %v", HistogramBuckets, want)
	}
}

func TestBucketName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	long := strings.Repeat("p", 36)
	a, b := bucketName(long), bucketName(long)
	if !valid.MatchString(a) || a == b {
		t.Fatalf("bucket names %q, %q: want valid and distinct", a, b)
	}
}

func TestConfigValidate(t *testing.T) {
	for _, c := range []Config{
		{},
		{Endpoints: []string{"127.0.0.1:9000"}},
		{Endpoints: []string{"http://127.0.0.1:9000"}, BucketPrefix: "Upper"},
		{Endpoints: []string{"http://127.0.0.1:9000"}, BucketPrefix: strings.Repeat("p", 37)},
	} {
		if _, err := New(c); err == nil {
			t.Errorf("New(%+v): want an error", c)
		}
	}
}

func TestCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&smithy.OperationError{Err: &smithy.GenericAPIError{Code: "NoSuchBucket"}}, "NoSuchBucket"},
		{fmt.Errorf("op: %w", context.DeadlineExceeded), CodeTimeout},
		{&smithy.OperationError{Err: &net.OpError{Op: "dial", Err: errors.New("connection refused")}}, CodeConnection},
		{errors.New("boom"), CodeOther},
	} {
		if got := Code(tc.err); got != tc.want {
			t.Errorf("Code(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

// fakeS3 answers every request with 200 and an empty body, except those
// its fail function answers; it records "METHOD /path?query" of each.
type fakeS3 struct {
	mu   sync.Mutex
	reqs []string
	fail func(w http.ResponseWriter, r *http.Request) bool
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.reqs = append(f.reqs, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	f.mu.Unlock()
	if f.fail != nil && f.fail(w, r) {
		return
	}
	w.WriteHeader(http.StatusOK)
}

func s3Error(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<Error><Code>%s</Code><Message>injected</Message></Error>", code)
}

func isObjectGet(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.Count(strings.Trim(r.URL.Path, "/"), "/") == 1
}

func testConfig(endpoint string) Config {
	return Config{
		Endpoints:      []string{endpoint},
		Objects:        3,
		ObjectSize:     100,
		RequestTimeout: 5 * time.Second,
		AWS: aws.Config{
			Region:      "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider("AKIDPROBE", "secretprobe", ""),
		},
	}
}

// A failed get does not stop the cycle: the object and bucket are still
// deleted, and the failure is counted by task and code.
func TestFailedStepStillCleansUp(t *testing.T) {
	f := &fakeS3{fail: func(w http.ResponseWriter, r *http.Request) bool {
		if isObjectGet(r) {
			s3Error(w, http.StatusInternalServerError, "InternalError")
			return true
		}
		return false
	}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	p, err := New(testConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	res := p.RunOnce(t.Context())[0]
	if len(res.Failures) != 1 || res.Failures[0].Task != TaskGet || res.Failures[0].Code != "InternalError" {
		t.Fatalf("failures %v, want one get InternalError", res.Failures)
	}
	var deletes, bucketDeletes, deleteMany int
	for _, r := range f.reqs {
		switch {
		case strings.HasPrefix(r, "POST ") && strings.Contains(r, "delete"):
			deleteMany++
		case strings.HasPrefix(r, "DELETE /"+res.Bucket+"/"):
			deletes++
		case strings.HasPrefix(r, "DELETE /"+res.Bucket+"?"):
			bucketDeletes++
		}
	}
	if deletes != 1 || deleteMany != 1 || bucketDeletes != 1 {
		t.Fatalf("delete %d, delete_many %d, remove %d; want 1 each; requests %q", deletes, deleteMany, bucketDeletes, f.reqs)
	}
	fams := scrape(t, p)
	if v := counter(t, fams, MetricFailures, map[string]string{"target": srv.URL, "task": "get", "code": "InternalError"}); v != 1 {
		t.Fatalf("%s get InternalError = %v, want 1", MetricFailures, v)
	}
	if v := counter(t, fams, MetricFails, map[string]string{"target": srv.URL}); v != 1 {
		t.Fatalf("%s = %v, want 1", MetricFails, v)
	}
}

// An object read back with other bytes counts as an integrity failure.
func TestIntegrityFailure(t *testing.T) {
	f := &fakeS3{fail: func(w http.ResponseWriter, r *http.Request) bool {
		if isObjectGet(r) {
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, strings.Repeat("x", 100))
			return true
		}
		return false
	}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	p, err := New(testConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	res := p.RunOnce(t.Context())[0]
	if len(res.Failures) != 1 || res.Failures[0].Code != CodeIntegrity {
		t.Fatalf("failures %v, want one integrity failure", res.Failures)
	}
	if v := counter(t, scrape(t, p), MetricIntegrityFailures, map[string]string{"target": srv.URL}); v != 1 {
		t.Fatalf("%s = %v, want 1", MetricIntegrityFailures, v)
	}
}

// A failed create ends the cycle: nothing else was created.
func TestFailedCreate(t *testing.T) {
	f := &fakeS3{fail: func(w http.ResponseWriter, r *http.Request) bool {
		s3Error(w, http.StatusForbidden, "AccessDenied")
		return true
	}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	p, err := New(testConfig(srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	res := p.RunOnce(t.Context())[0]
	if len(res.Failures) != 1 || res.Failures[0].Task != TaskCreate || res.Failures[0].Code != "AccessDenied" || len(f.reqs) != 1 {
		t.Fatalf("failures %v after requests %q: want one create AccessDenied", res.Failures, f.reqs)
	}
}

// scrape reads the prober's metrics over HTTP on loopback and parses them.
func scrape(t *testing.T, p *Prober) map[string]*dto.MetricFamily {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/metrics", p.Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	return scrapeURL(t, srv.URL+"/metrics")
}

func scrapeURL(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

// find returns the metric of family name with exactly the labels want.
func find(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	fam := fams[name]
	if fam == nil {
		return nil
	}
	for _, m := range fam.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if len(got) == len(want) && func() bool {
			for k, v := range want {
				if got[k] != v {
					return false
				}
			}
			return true
		}() {
			return m
		}
	}
	return nil
}

// counter returns a counter's value, 0 if the series is absent.
func counter(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	if fam := fams[name]; fam != nil && fam.GetType() != dto.MetricType_COUNTER {
		t.Fatalf("%s: type %v, want counter", name, fam.GetType())
	}
	return find(fams, name, labels).GetCounter().GetValue()
}
