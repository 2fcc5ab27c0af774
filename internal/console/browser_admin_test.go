package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// Keys of the user without admin capabilities.
const (
	plainAccessKey = "PLAINUSERKEY00000000"
	plainSecretKey = "plain-user-secret-0000000000000000000000"
)

// TestBrowserAdmin drives the admin pages in a real chromium against the
// real server: the charts show the requests made before, a user is created
// and its key rotated (the new secret works, the old one no longer does),
// suspended and deleted, a dead letter is replayed from the topics page,
// every admin page passes the accessibility check in both themes and at
// phone width, and a user without admin capabilities sees no admin nav, is
// told access is denied at #/admin and is refused by the admin API.
func TestBrowserAdmin(t *testing.T) {
	srv := startServer(t, servertest.Options{Metrics: server.MetricsConfig{HistoryStep: 250 * time.Millisecond},
		Notifications: server.NotificationConfig{RetryBackoffMin: 20 * time.Millisecond, RetryBackoffMax: 200 * time.Millisecond,
			PollInterval: 200 * time.Millisecond}})
	api := newClient(t, srv.ConsoleURL)
	api.signIn(srv.RootAccessKey, srv.RootSecretKey)
	deadLetter(t, api, "doomed")
	tenantTopic(t, api, srv)
	api.expect(http.StatusOK, "PUT", "/api/s3/charted", nil, nil)
	api.expect(http.StatusNotFound, "GET", "/api/s3/no-such-bucket", nil, nil)
	q := url.Values{"uid": {"plain"}, "display-name": {"Plain"}, "access-key": {plainAccessKey}, "secret-key": {plainSecretKey}}
	api.expect(http.StatusOK, "PUT", "/api/admin/user?"+q.Encode(), nil, nil)

	b := startBrowser(t, srv)
	b.signIn(srv.RootAccessKey, srv.RootSecretKey)
	if nav := navLinks(b); !slices.Contains(nav, "Admin") {
		t.Fatalf("admin nav links %q, want Admin", nav)
	}
	adminCharts(t, b)
	adminUsers(t, b, srv)
	adminTopics(t, b, api)
	nonAdmin(t, b)
	if errs := b.errors(); len(errs) > 0 {
		t.Logf("page errors (expected refusals show here too): %q", errs)
	}
}

func navLinks(b *consoleBrowser) []string {
	var nav []string
	b.eval(`[...document.querySelectorAll('#nav a')].map((a) => a.textContent.trim())`, &nav)
	return nav
}

// acceptDialog clicks the confirmation dialog's button that is not Cancel.
func (b *consoleBrowser) acceptDialog() {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.CSS(`dialog[open]`)),
		chromedp.Click(chromedp.CSS(`dialog[open] button:first-of-type`)),
		b.waitJS(`!document.querySelector('dialog[open]')`))
}

// adminCharts: the metrics page charts the requests made before, in both
// themes and at phone width, accessibly.
func adminCharts(t *testing.T, b *consoleBrowser) {
	b.open("#/admin")
	hasRow := func(name string) string {
		return `[...document.querySelectorAll('figure.chart .chart-summary th[scope=row]')].some((th) => th.textContent === ` + jsString(name) + `)`
	}
	// The page refreshes itself; wait for a sample after the requests.
	b.run(b.waitJS(hasRow("CreateBucket") + ` && ` + hasRow("NoSuchBucket") +
		` && document.querySelectorAll('figure.chart svg[role=img] path').length >= 4`))
	var headings []string
	b.eval(`[...document.querySelectorAll('main h1')].map((h) => h.textContent)`, &headings)
	if len(headings) != 1 {
		t.Errorf("main holds the pages %q: a page still loading was appended below the next one", headings)
	}
	var charts []string
	b.eval(`[...document.querySelectorAll('figure.chart figcaption')].map((c) => c.textContent.trim())`, &charts)
	if len(charts) != 6 {
		t.Errorf("charts %q, want 6", charts)
	}
	b.run(chromedp.Click(chromedp.CSS(`figure.chart details summary`)),
		b.waitJS(`document.querySelectorAll('figure.chart details[open] tbody tr').length > 0`))
	b.checkAccessibility("admin-metrics")
	b.colorScheme("dark")
	b.checkAccessibility("admin-metrics-dark")
	b.colorScheme("light")
	b.viewport(375, 800)
	// The charts are redrawn for the narrow width (not scaled down).
	b.run(b.waitJS(`[...document.querySelectorAll('svg.chart-svg')].every((s) => ` +
		`Number(s.getAttribute('width')) <= s.closest('figure').clientWidth)`))
	var overflow bool
	b.eval(`document.documentElement.scrollWidth > window.innerWidth`, &overflow)
	if overflow {
		t.Error("the metrics page is wider than a 375 px screen")
	}
	b.checkAccessibility("admin-metrics-narrow")
	b.viewport(1280, 900)
}

// adminUsers creates a user (its first secret shown once), rotates its key,
// suspends it and deletes it, checking each step against the server.
func adminUsers(t *testing.T, b *consoleBrowser, srv *servertest.Running) {
	b.open("#/admin/users")
	b.run(b.waitJS(`!!document.querySelector('#user-list tr[data-user="root"] .tag')`),
		chromedp.SetValue(chromedp.CSS(`#new-user-id`), "alice"),
		chromedp.SetValue(chromedp.CSS(`#new-user-name`), "Alice"),
		chromedp.Click(chromedp.CSS(`#new-user-submit`)),
		chromedp.WaitVisible(chromedp.CSS(`#new-secret-key`)),
		b.waitJS(`!!document.querySelector('#user-list tr[data-user="alice"] .tag')`))
	oldKey, oldSecret := b.text(`#new-access-key`), b.text(`#new-secret-key`)
	newClient(t, srv.ConsoleURL).signIn(oldKey, oldSecret) // the shown key works
	b.checkAccessibility("admin-users")

	b.open("#/admin/users/alice")
	b.run(chromedp.Click(chromedp.CSS(`button[aria-label="Rotate key ` + oldKey + `"]`)))
	b.acceptDialog()
	b.run(b.waitJS(`(document.querySelector('#new-access-key')?.textContent || '') !== '' && ` +
		`!document.querySelector('tr[data-key=` + jsString(oldKey) + `]') && !!document.querySelector('#user-keys tr[data-key]')`))
	newKey, newSecret := b.text(`#new-access-key`), b.text(`#new-secret-key`)
	if newKey == oldKey || newSecret == "" {
		t.Fatalf("rotation showed %q/%q", newKey, newSecret)
	}
	if resp := newClient(t, srv.ConsoleURL).signInResp(oldKey, oldSecret); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the rotated-out key signs in: %d", resp.StatusCode)
	}
	newClient(t, srv.ConsoleURL).signIn(newKey, newSecret)
	b.checkAccessibility("admin-user")
	b.colorScheme("dark")
	b.checkAccessibility("admin-user-dark")
	b.colorScheme("light")
	b.run(chromedp.Click(chromedp.CSS(`#hide-new-secret`)))
	var leaked bool
	b.eval(`document.body.innerText.includes(`+jsString(newSecret)+`) || document.body.innerText.includes(`+jsString(oldSecret)+`)`, &leaked)
	if leaked {
		t.Error("a secret is still on the page after it was dismissed")
	}

	b.run(chromedp.Click(chromedp.CSS(`#user-suspend`)), b.waitJS(`document.querySelector('#user-status')?.textContent === 'suspended'`))
	if resp := newClient(t, srv.ConsoleURL).signInResp(newKey, newSecret); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a suspended user signs in: %d", resp.StatusCode)
	}
	b.run(chromedp.Click(chromedp.CSS(`#user-suspend`)), b.waitJS(`document.querySelector('#user-status')?.textContent === 'active'`))
	newClient(t, srv.ConsoleURL).signIn(newKey, newSecret)
	b.run(chromedp.Click(chromedp.CSS(`#user-delete`)))
	b.acceptDialog()
	b.run(b.waitJS(`location.hash === '#/admin/users' && !!document.querySelector('#user-list tr[data-user="root"]') && !document.querySelector('#user-list tr[data-user="alice"]')`))
	if resp := newClient(t, srv.ConsoleURL).signInResp(newKey, newSecret); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a deleted user signs in: %d", resp.StatusCode)
	}
}

// tenantTopic makes a persistent topic of a tenant's user (its stats are
// read with the tenant named).
func tenantTopic(t *testing.T, api *apiClient, srv *servertest.Running) {
	t.Helper()
	q := url.Values{"uid": {"acme$bob"}, "display-name": {"Bob"}, "access-key": {"ACMEBOBKEY0000000000"},
		"secret-key": {"acme-bob-secret-00000000000000000000000"}}
	api.expect(http.StatusOK, "PUT", "/api/admin/user?"+q.Encode(), nil, nil)
	bob := newClient(t, srv.ConsoleURL)
	bob.signIn("ACMEBOBKEY0000000000", "acme-bob-secret-00000000000000000000000")
	form := url.Values{"Action": {"CreateTopic"}, "Name": {"acme-events"},
		"Attributes.entry.1.key": {"push-endpoint"}, "Attributes.entry.1.value": {"http://127.0.0.1:1/"},
		"Attributes.entry.2.key": {"persistent"}, "Attributes.entry.2.value": {"true"}}
	bob.expect(http.StatusOK, "POST", "/api/s3/", strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
}

// deadLetter makes a persistent topic whose endpoint refuses, with one
// retry, and queues a test event on it, which becomes a dead letter.
func deadLetter(t *testing.T, api *apiClient, topic string) {
	t.Helper()
	form := url.Values{"Action": {"CreateTopic"}, "Name": {topic}}
	for i, kv := range [][2]string{{"push-endpoint", "http://127.0.0.1:1/"}, {"persistent", "true"}, {"max_retries", "1"}} {
		n := strconv.Itoa(i + 1)
		form.Set("Attributes.entry."+n+".key", kv[0])
		form.Set("Attributes.entry."+n+".value", kv[1])
	}
	api.expect(http.StatusOK, "POST", "/api/s3/", strings.NewReader(form.Encode()),
		http.Header{"Content-Type": {"application/x-www-form-urlencoded"}})
	api.expect(http.StatusOK, "POST", "/api/admin/topic?test-event&topic="+topic, nil, nil)
	waitStats(t, api, topic, "a dead letter", func(s topicQueue) bool { return s.DeadLetterDepth == 1 })
}

type topicQueue struct {
	Depth           int64 `json:"depth"`
	DeadLettered    int64 `json:"dead_lettered"`
	DeadLetterDepth int64 `json:"dead_letter_depth"`
}

func waitStats(t *testing.T, api *apiClient, topic, what string, ok func(topicQueue) bool) {
	t.Helper()
	var doc struct {
		Queue topicQueue `json:"queue"`
	}
	for range 1000 {
		body := api.expect(http.StatusOK, "GET", "/api/admin/topic?stats&topic="+topic, nil, nil)
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatalf("stats %q: %v", body, err)
		}
		if ok(doc.Queue) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("topic %s never had %s: %+v", topic, what, doc.Queue)
}

// adminTopics: the topics page shows the dead letter, and replaying it
// from the page puts it back into the queue (where it fails again).
func adminTopics(t *testing.T, b *consoleBrowser, api *apiClient) {
	b.open("#/admin/topics")
	dead := `#topic-list tr[data-topic$="/doomed"] button[aria-label^="Dead letters of doomed"]`
	b.run(b.waitJS(`document.querySelector(` + jsString(dead) + `)?.textContent === '1'`))
	// A tenant's topic: its stats are found (read with its tenant).
	b.run(b.waitJS(`document.querySelector('#topic-list tr[data-topic="acme$bob/acme-events"] td.num')?.textContent === '0'`))
	b.checkAccessibility("admin-topics")
	b.run(chromedp.Click(chromedp.CSS(dead)), chromedp.WaitVisible(chromedp.CSS(`#dead-letters button[aria-label^="Replay event"]`)))
	b.checkAccessibility("admin-topics-dlq")
	b.colorScheme("dark")
	b.checkAccessibility("admin-topics-dlq-dark")
	b.colorScheme("light")
	var nullText bool
	b.eval(`/\bnull\b/.test(document.querySelector('main').innerText)`, &nullText)
	if nullText {
		t.Error(`the dead letters show the text "null"`)
	}
	b.run(chromedp.Click(chromedp.CSS(`#dead-letters button[aria-label^="Replay event"]`)))
	b.acceptDialog()
	waitStats(t, api, "doomed", "the replayed event dead-lettered again", func(s topicQueue) bool { return s.DeadLettered == 2 && s.DeadLetterDepth == 1 })
}

// nonAdmin: a user without admin capabilities, in a clean browser context,
// sees no admin nav, is told access is denied at #/admin, and the admin
// API and the metrics history refuse it.
func nonAdmin(t *testing.T, admin *consoleBrowser) {
	b := admin.cleanContext()
	b.open("")
	b.signIn(plainAccessKey, plainSecretKey)
	if nav := navLinks(b); slices.Contains(nav, "Admin") || len(nav) == 0 {
		t.Errorf("a non-admin's nav links: %q", nav)
	}
	b.open("#/admin")
	b.run(b.waitJS(`document.querySelector('main h1')?.textContent === 'Access denied'`))
	b.checkAccessibility("admin-denied")
	var status []int
	b.eval(`Promise.all(['/api/admin/user?list', '/api/metrics/history', '/api/admin/topic'].map((u) => fetch(u).then((r) => r.status)))`, &status)
	if !slices.Equal(status, []int{403, 403, 403}) {
		t.Errorf("a non-admin's admin API answers %v, want 403s", status)
	}
	if nav := navLinks(b); slices.Contains(nav, "Admin") {
		t.Errorf("the access-denied page shows the admin nav: %q", nav)
	}
}
