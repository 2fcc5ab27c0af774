package probe

import (
	"math"
	"net"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	dto "github.com/prometheus/client_model/go"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

func serverConfig(srv *servertest.Running) Config {
	return Config{
		Endpoints:      []string{srv.URL},
		Objects:        5,
		ObjectSize:     1000,
		RequestTimeout: 5 * time.Second,
		AWS: aws.Config{
			Region:      "us-east-1",
			Credentials: credentials.NewStaticCredentialsProvider(srv.RootAccessKey, srv.RootSecretKey, ""),
		},
	}
}

// One cycle against the real server succeeds, and /metrics exports the
// exact names, types and buckets the Grafana panels expect.
func TestCycleAgainstServer(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	p, err := New(serverConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	res := p.RunOnce(t.Context())[0]
	if !res.OK() {
		t.Fatalf("cycle failed: %v", res.Failures)
	}
	fams := scrape(t, p)
	for name, typ := range map[string]dto.MetricType{
		MetricDuration:          dto.MetricType_SUMMARY,
		MetricLastDuration:      dto.MetricType_GAUGE,
		MetricDurationHistogram: dto.MetricType_HISTOGRAM,
		MetricFails:             dto.MetricType_COUNTER,
		MetricIntegrityFailures: dto.MetricType_COUNTER,
	} {
		if fams[name] == nil || fams[name].GetType() != typ {
			t.Fatalf("%s: family %v, want type %v", name, fams[name], typ)
		}
	}
	for _, task := range Tasks {
		labels := map[string]string{"target": srv.URL, "task": string(task)}
		want := uint64(1)
		if task == TaskPut {
			want = 1 + 5
		}
		if m := find(fams, MetricDuration, labels); m.GetSummary().GetSampleCount() != want {
			t.Errorf("%s%v count = %d, want %d", MetricDuration, labels, m.GetSummary().GetSampleCount(), want)
		}
		if m := find(fams, MetricLastDuration, labels); m == nil || m.GetGauge().GetValue() <= 0 {
			t.Errorf("%s%v = %v, want > 0", MetricLastDuration, labels, m)
		}
		h := find(fams, MetricDurationHistogram, labels).GetHistogram()
		if h.GetSampleCount() != want {
			t.Errorf("%s%v count = %d, want %d", MetricDurationHistogram, labels, h.GetSampleCount(), want)
		}
		var bounds []float64
		for _, b := range h.GetBucket() {
			if !math.IsInf(b.GetUpperBound(), 1) { // the text format lists +Inf
				bounds = append(bounds, b.GetUpperBound())
			}
		}
		if !slices.Equal(bounds, HistogramBuckets) {
			t.Errorf("%s buckets %v, want %v", MetricDurationHistogram, bounds, HistogramBuckets)
		}
	}
	if v := counter(t, fams, MetricFails, map[string]string{"target": srv.URL}); v != 0 {
		t.Errorf("%s = %v, want 0", MetricFails, v)
	}
	if fams[MetricFailures] != nil {
		t.Errorf("%s: %v, want no series", MetricFailures, fams[MetricFailures])
	}
}

// With the server stopped the probe counts connection failures; when a
// server comes back on the same address and data, the probe recovers.
func TestServerDownAndBack(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	cfg := serverConfig(srv)
	cfg.RequestTimeout = 2 * time.Second
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res := p.RunOnce(t.Context())[0]; !res.OK() {
		t.Fatalf("first cycle failed: %v", res.Failures)
	}

	srv.Stop()
	res := p.RunOnce(t.Context())[0]
	if len(res.Failures) != 1 || res.Failures[0].Task != TaskCreate || res.Failures[0].Code != CodeConnection {
		t.Fatalf("failures with the server down: %v, want one create/connection", res.Failures)
	}
	fams := scrape(t, p)
	if v := counter(t, fams, MetricFailures, map[string]string{"target": srv.URL, "task": "create", "code": CodeConnection}); v != 1 {
		t.Fatalf("%s create/connection = %v, want 1", MetricFailures, v)
	}

	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	srv2 := servertest.Start(t, servertest.Options{DataDir: srv.DataDir, Address: u.Host})
	if srv2.URL != srv.URL {
		t.Fatalf("restarted on %s, want %s", srv2.URL, srv.URL)
	}
	if res := p.RunOnce(t.Context())[0]; !res.OK() {
		t.Fatalf("cycle after restart failed: %v", res.Failures)
	}
	fams = scrape(t, p)
	if v := counter(t, fams, MetricFails, map[string]string{"target": srv.URL}); v != 1 {
		t.Fatalf("%s = %v, want 1 (only the cycle while down)", MetricFails, v)
	}
}

// The event-delivery check measures PUT→event latency through a topic
// pushing to the probe, and counts an event that never arrives.
func TestEventDelivery(t *testing.T) {
	srv := servertest.Start(t, servertest.Options{})
	cfg := serverConfig(srv)
	cfg.EventListen = "127.0.0.1:0"
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if res := p.RunOnce(t.Context())[0]; !res.OK() {
		t.Fatalf("cycle failed: %v", res.Failures)
	}
	fams := scrape(t, p)
	if h := find(fams, MetricEventLatency, map[string]string{"target": srv.URL}).GetHistogram(); h.GetSampleCount() != 1 {
		t.Fatalf("%s: %v, want one observation", MetricEventLatency, h)
	}
	if v := counter(t, fams, MetricEventsMissing, map[string]string{"target": srv.URL}); v != 0 {
		t.Fatalf("%s = %v, want 0", MetricEventsMissing, v)
	}

	// A push endpoint where nothing listens: the event goes missing.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close()
	cfg.EventURL, cfg.EventTimeout = dead, time.Second
	p2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p2.Close()
	res := p2.RunOnce(t.Context())[0]
	if len(res.Failures) != 1 || res.Failures[0].Task != TaskEvent || res.Failures[0].Code != CodeMissing {
		t.Fatalf("failures %v, want one missing event", res.Failures)
	}
	if v := counter(t, scrape(t, p2), MetricEventsMissing, map[string]string{"target": srv.URL}); v != 1 {
		t.Fatalf("%s = %v, want 1", MetricEventsMissing, v)
	}
}
