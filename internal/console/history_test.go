package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// historyDoc is the JSON of GET /api/metrics/history.
type historyDoc struct {
	Step   float64 `json:"step"`
	Start  int64   `json:"start"`
	Points int     `json:"points"`
	Series struct {
		Requests   map[string][]*float64 `json:"requests"`
		Errors     map[string][]*float64 `json:"errors"`
		LatencyP50 []*float64            `json:"latencyP50"`
		BytesIn    []*float64            `json:"bytesIn"`
		QueueDepth []*float64            `json:"queueDepth"`
	} `json:"series"`
}

// An admin reads the server's metrics history, with the requests made
// through the console in it; a user without admin capabilities is refused.
func TestMetricsHistoryForAdminsOnly(t *testing.T) {
	srv := startServer(t, servertest.Options{Metrics: server.MetricsConfig{HistoryStep: 20 * time.Millisecond}})
	root := newClient(t, srv.ConsoleURL)
	root.signIn(srv.RootAccessKey, srv.RootSecretKey)
	q := url.Values{"uid": {"plain"}, "display-name": {"Plain"}, "access-key": {plainAccessKey},
		"secret-key": {plainSecretKey}}
	root.expect(http.StatusOK, "PUT", "/api/admin/user?"+q.Encode(), nil, nil)
	root.expect(http.StatusOK, "PUT", "/api/s3/charted", nil, nil)
	root.expect(http.StatusNotFound, "GET", "/api/s3/no-such-bucket", nil, nil)

	var doc historyDoc
	for i := 0; i < 500; i++ { // until a sample after the requests above
		body := root.expect(http.StatusOK, "GET", "/api/metrics/history", nil, nil)
		doc = historyDoc{}
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("history %q: %v", body, err)
		}
		if sum(doc.Series.Requests["CreateBucket"]) > 0 && sum(doc.Series.Errors["NoSuchBucket"]) > 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if sum(doc.Series.Requests["CreateBucket"]) <= 0 || sum(doc.Series.Errors["NoSuchBucket"]) <= 0 {
		t.Fatalf("the history never showed the requests: %+v", doc)
	}
	if doc.Step != 0.02 || doc.Points < 1 || len(doc.Series.LatencyP50) != doc.Points || len(doc.Series.QueueDepth) != doc.Points {
		t.Errorf("step %v points %d latency %d queue %d", doc.Step, doc.Points, len(doc.Series.LatencyP50), len(doc.Series.QueueDepth))
	}

	plain := newClient(t, srv.ConsoleURL)
	if s := plain.signIn(plainAccessKey, plainSecretKey); s.Admin {
		t.Fatalf("plain user is admin: %+v", s)
	}
	body := plain.expect(http.StatusForbidden, "GET", "/api/metrics/history", nil, nil)
	var e struct{ Code string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code != "AccessDenied" {
		t.Errorf("non-admin history answer %q, want AccessDenied", body)
	}
	plain.expect(http.StatusForbidden, "GET", "/api/admin/user?list", nil, nil)
}

func sum(vs []*float64) float64 {
	s := 0.0
	for _, v := range vs {
		if v != nil {
			s += *v
		}
	}
	return s
}
