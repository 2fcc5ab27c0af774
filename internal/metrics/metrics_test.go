package metrics_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cairn-s3/cairn/internal/metrics"
)

func TestObserveRequest(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.Sources{})
	m.ObserveRequest(metrics.Request{Op: "PutObject", Status: 200, BytesIn: 10, Duration: time.Millisecond})
	m.ObserveRequest(metrics.Request{Op: "GetObject", Status: 404, Code: "NoSuchKey", BytesOut: 7})
	got := series(t, reg)
	for _, want := range []string{
		`cairn_s3_requests_total{code="",op="PutObject",status="2xx"} 1`,
		`cairn_s3_requests_total{code="NoSuchKey",op="GetObject",status="4xx"} 1`,
		`cairn_s3_request_bytes_total{direction="in",op="PutObject"} 10`,
		`cairn_s3_request_bytes_total{direction="out",op="GetObject"} 7`,
		`cairn_s3_request_duration_seconds{op="PutObject"} 1`,
	} {
		if !got[want] {
			t.Errorf("missing %s in %v", want, got)
		}
	}
}

// TestLabelsBounded: requests on many keys and buckets land in the same
// series; only op, status class and code vary.
func TestLabelsBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.Sources{})
	for range 1000 {
		m.ObserveRequest(metrics.Request{Op: "PutObject", Status: 200, BytesIn: 1})
	}
	n := 0
	for k := range series(t, reg) {
		if strings.HasPrefix(k, "cairn_s3_request") && !strings.HasPrefix(k, "cairn_s3_requests_in_flight") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("series = %d, want 3", n)
	}
}

func TestEndpointLabel(t *testing.T) {
	for in, want := range map[string]string{
		"amqp://user:secret@127.0.0.1:5672/vhost?x=1": "amqp://127.0.0.1:5672",
		"HTTP://Sink.example:8080/path":               "http://sink.example:8080",
		"::nonsense":                                  "invalid",
	} {
		if got := metrics.EndpointLabel(in); got != want {
			t.Errorf("EndpointLabel(%q) = %q, want %q", in, got, want)
		}
	}
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, metrics.Sources{})
	m.ObserveEndpoint("amqp://user:secret@127.0.0.1:5672", errors.New("down"))
	got := series(t, reg)
	if !got[`cairn_endpoint_up{endpoint="amqp://127.0.0.1:5672"} 0`] {
		t.Errorf("endpoint metrics: %v", got)
	}
	for k := range got {
		if strings.Contains(k, "secret") {
			t.Errorf("credentials in %s", k)
		}
	}
}

func TestStatusClass(t *testing.T) {
	for in, want := range map[int]string{200: "2xx", 304: "3xx", 503: "5xx", 0: "0xx"} {
		if got := metrics.StatusClass(in); got != want {
			t.Errorf("StatusClass(%d) = %q, want %q", in, got, want)
		}
	}
}

// series gathers reg as `name{label="v",...} value` strings (histograms as
// name{labels} sample count), Go and process metrics left out.
func series(t *testing.T, reg *prometheus.Registry) map[string]bool {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "cairn_") {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			var v float64
			switch {
			case m.Counter != nil:
				v = m.GetCounter().GetValue()
			case m.Gauge != nil:
				v = m.GetGauge().GetValue()
			case m.Histogram != nil:
				v = float64(m.GetHistogram().GetSampleCount())
			}
			name := mf.GetName()
			if len(ls) > 0 {
				name += "{" + strings.Join(ls, ",") + "}"
			}
			out[fmt.Sprintf("%s %g", name, v)] = true
		}
	}
	return out
}

// TestQueueSeriesBounded: however many persistent topics tenants create,
// the queue gauges export at most MaxQueues topics (the deepest) plus one
// series summing the others.
func TestQueueSeriesBounded(t *testing.T) {
	const n = metrics.MaxQueues * 4
	queues := make([]metrics.QueueStats, 0, n)
	var othersDepth int64
	for i := range n {
		q := metrics.QueueStats{Topic: fmt.Sprintf("tenant%d:t", i), Depth: int64(i), OldestAge: time.Duration(i) * time.Second}
		if i < n-metrics.MaxQueues {
			othersDepth += q.Depth
		}
		queues = append(queues, q)
	}
	reg := prometheus.NewRegistry()
	metrics.New(reg, metrics.Sources{Queues: func() []metrics.QueueStats { return queues }})
	got := series(t, reg)
	depth := 0
	for k := range got {
		if strings.HasPrefix(k, "cairn_queue_depth{") {
			depth++
		}
	}
	if depth != metrics.MaxQueues+1 {
		t.Errorf("cairn_queue_depth series = %d, want %d", depth, metrics.MaxQueues+1)
	}
	for _, want := range []string{
		fmt.Sprintf(`cairn_queue_depth{topic="tenant%d:t"} %d`, n-1, n-1), // the deepest is kept
		fmt.Sprintf(`cairn_queue_depth{topic="_others"} %d`, othersDepth),
		fmt.Sprintf(`cairn_queue_oldest_age_seconds{topic="_others"} %d`, n-metrics.MaxQueues-1),
	} {
		if !got[want] {
			t.Errorf("missing %s", want)
		}
	}
	if got[`cairn_queue_depth{topic="tenant0:t"} 0`] {
		t.Error("a shallow queue beyond the bound has its own series")
	}
}
