//go:build rados

package radosopen_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/radosopen"
	"github.com/cairn-s3/cairn/internal/server/servertest"
	"github.com/cairn-s3/cairn/internal/store/rados/radostest"
)

// pubsubGateways starts n gateways on one fresh pool with the PubSub API.
func pubsubGateways(t *testing.T, n int) []*servertest.Running {
	t.Helper()
	conf := radostest.ConfPath(t)
	prefix := radostest.PoolPrefix(t, radostest.Conn(t))
	gws := make([]*servertest.Running, n)
	for i := range gws {
		gws[i] = servertest.Start(t, servertest.Options{
			Store: server.StoreRados, RadosOpener: radosopen.Open, Notifications: fastDelivery,
			Ceph:   server.CephConfig{ConfFile: conf, User: "client.admin", PoolPrefix: prefix},
			PubSub: server.PubSubConfig{Enabled: true},
		})
	}
	return gws
}

// pulled is one page of GET /subscriptions/<s>?events.
type pulled struct {
	NextMarker  string `json:"next_marker"`
	IsTruncated string `json:"is_truncated"`
	Events      []struct {
		ID   string `json:"id"`
		Info struct {
			Key struct{ Name string } `json:"key"`
		} `json:"info"`
	} `json:"events"`
}

func pull(t *testing.T, gw *servertest.Running, sub, marker string) pulled {
	t.Helper()
	status, body := admin(t, gw, "GET", "/subscriptions/"+sub+"?events&max-entries=50&marker="+url.QueryEscape(marker))
	if status != http.StatusOK {
		t.Fatalf("pull: %d %s", status, body)
	}
	var p pulled
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("pull: %v: %s", err, body)
	}
	return p
}

// A pull subscription fed by commits through two gateways is read with
// markers and acked through alternating gateways while the writes go on:
// every event is pulled (a reader never passes an event another gateway is
// still committing), and acks through one gateway remove what the other
// serves.
func TestTwoGatewaysPullSubscription(t *testing.T) {
	gws := pubsubGateways(t, 2)
	if _, err := rootClient(gws[0]).CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("psb")}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/topics/t", "/notifications/bucket/psb?topic=t&events=OBJECT_CREATE", "/subscriptions/s?topic=t"} {
		if status, body := admin(t, gws[0], "PUT", p); status != http.StatusOK {
			t.Fatalf("PUT %s: %d %s", p, status, body)
		}
	}
	const n = 240
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				_, err := rootClient(gws[i%2]).PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("psb"),
					Key: aws.String(fmt.Sprintf("k%03d", i)), Body: strings.NewReader("x")})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	writing := make(chan struct{})
	go func() { wg.Wait(); close(writing) }()

	got := map[string]int{}
	marker := ""
	deadline := time.Now().Add(60 * time.Second)
	for round := 0; len(got) < n && time.Now().Before(deadline); round++ {
		p := pull(t, gws[round%2], "s", marker)
		var ids []string
		for _, e := range p.Events {
			got[e.Info.Key.Name]++
			ids = append(ids, "event-id="+url.QueryEscape(e.ID))
		}
		if len(ids) > 0 {
			marker = p.Events[len(p.Events)-1].ID
			if status, body := admin(t, gws[(round+1)%2], "POST", "/subscriptions/s?ack&"+strings.Join(ids, "&")); status != http.StatusOK {
				t.Fatalf("ack: %d %s", status, body)
			}
		}
		if len(p.Events) == 0 {
			time.Sleep(20 * time.Millisecond)
		}
	}
	<-writing
	dups := 0
	for _, c := range got {
		dups += c - 1
	}
	left := len(pull(t, gws[0], "s", "").Events) + len(pull(t, gws[1], "s", "").Events)
	t.Logf("FIGURES events=%d pulled=%d duplicates=%d left_after_acks=%d", n, len(got), dups, left)
	if len(got) != n {
		t.Fatalf("%d of %d events pulled with markers", len(got), n)
	}
	if left != 0 {
		t.Fatalf("%d events left after every pulled one was acked through the other gateway", left)
	}

	pullLate(t, gws, marker)
}

// pullLate PUTs 20 objects through gws[1] only and pulls their events
// through gws[0] (which made no commit of its own since) from marker.
func pullLate(t *testing.T, gws []*servertest.Running, marker string) {
	for i := range 20 {
		if _, err := rootClient(gws[1]).PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String("psb"),
			Key: aws.String(fmt.Sprintf("late%02d", i)), Body: strings.NewReader("x")}); err != nil {
			t.Fatal(err)
		}
	}
	late := map[string]bool{}
	for end := time.Now().Add(20 * time.Second); len(late) < 20 && time.Now().Before(end); {
		p := pull(t, gws[0], "s", marker)
		for _, e := range p.Events {
			late[e.Info.Key.Name] = true
		}
		if len(p.Events) > 0 {
			marker = p.Events[len(p.Events)-1].ID
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if len(late) != 20 {
		t.Fatalf("%d of 20 events committed through one gateway pulled through the other", len(late))
	}
}
