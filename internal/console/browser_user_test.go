package console_test

// Browser tests of the user views (js/views/*.js): a whole session of a
// user in one chromium each, checked against the server through real S3
// clients (aws-sdk-go-v2, and boto3 for the live events).

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// The page's multipart part size for a 100 MiB file (js/upload.js
// partSizeFor) and the test file's size.
const (
	pagePartSize = 8 << 20
	bigFileSize  = 100 << 20
)

// longStep bounds the steps that move 100 MiB through the browser.
const longStep = 5 * time.Minute

func s3Client(srv *servertest.Running) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.RootAccessKey, srv.RootSecretKey, ""),
		Retryer:     aws.NopRetryer{},
	})
}

// multipartETag is S3's ETag of data uploaded in parts of partSize.
func multipartETag(data []byte, partSize int) string {
	var sums []byte
	n := 0
	for off := 0; off < len(data); off += partSize {
		s := md5.Sum(data[off:min(off+partSize, len(data))])
		sums = append(sums, s[:]...)
		n++
	}
	return fmt.Sprintf(`"%x-%d"`, md5.Sum(sums), n)
}

// runLong runs steps with a longer bound than b.run's.
func (b *consoleBrowser) runLong(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, longStep)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.screenshot("failure")
		b.t.Fatalf("browser: %v (page errors: %q)", err, b.errors())
	}
}

// throttleUploads limits the tab's upload rate (bytes/s; -1: off), so that
// a reload lands in the middle of an upload however fast the machine is.
func (b *consoleBrowser) throttleUploads(rate float64) {
	b.t.Helper()
	b.run(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
			MatchedNetworkConditions: []*network.Conditions{{DownloadThroughput: -1, UploadThroughput: rate}}})
		return err
	}))
}

// visit loads the console at a hash route afresh (a navigation to the same
// URL with another hash alone would not reload the page).
func (b *consoleBrowser) visit(hash string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.base+"/"+hash), chromedp.Reload(), chromedp.WaitReady(chromedp.CSS("main h1")))
}

// text is the trimmed textContent of the first element sel matches.
func (b *consoleBrowser) text(sel string) string {
	b.t.Helper()
	var s string
	b.eval(`(document.querySelector(`+jsString(sel)+`)?.textContent || '').trim()`, &s)
	return s
}

// click clicks the element of a CSS selector once it is visible.
func (b *consoleBrowser) click(sel string) {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel)))
}

// confirm accepts the page's confirmation dialog.
func (b *consoleBrowser) confirm() { b.t.Helper(); b.click(`dialog[open] button.danger`) }

// exceptions are the page's uncaught exceptions so far (refused requests
// the page reports are expected and not counted).
func (b *consoleBrowser) exceptions() []string {
	var out []string
	for _, e := range b.errors() {
		if strings.HasPrefix(e, string(chromedp.ConsoleException)) {
			out = append(out, e)
		}
	}
	return out
}

// TestBrowserObjectJourney: sign in, create a versioned bucket through the
// form, upload 100 MiB through the file picker with a visible progress bar
// as a parallel multipart upload that is interrupted by a page reload and
// resumed (only the missing parts are sent), check bytes and ETag with an
// S3 client, browse folders, search by prefix, the detail panel, download
// and compare bytes, a share link opened in a clean browser context, bulk
// and single delete, versions and delete markers, and the pages'
// accessibility in both themes and at phone width.
func TestBrowserObjectJourney(t *testing.T) {
	srv := startServer(t, servertest.Options{})
	s3c := s3Client(srv)
	ctx := t.Context()
	b := startBrowser(t, srv)
	b.signIn(srv.RootAccessKey, srv.RootSecretKey)

	const bucket = "journey"
	b.run(chromedp.WaitVisible(chromedp.CSS(`#new-bucket-name`)),
		chromedp.SetValue(chromedp.CSS(`#new-bucket-name`), bucket),
		chromedp.Click(chromedp.CSS(`#new-bucket-versioning`)),
		chromedp.Click(chromedp.CSS(`#new-bucket-submit`)),
		b.waitJS(`!!document.querySelector('a[href="#/buckets/`+bucket+`"]')`))
	v, err := s3c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil || v.Status != "Enabled" {
		t.Fatalf("bucket made by the page: versioning %v, %v", v, err)
	}
	b.checkAccessibility("buckets")

	data := make([]byte, bigFileSize)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	uploadResumed(t, b, bucket, file)

	head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if want := multipartETag(data, pagePartSize); aws.ToString(head.ETag) != want || aws.ToInt64(head.ContentLength) != bigFileSize {
		t.Fatalf("uploaded object: ETag %s, %d bytes; want %s, %d", aws.ToString(head.ETag), aws.ToInt64(head.ContentLength), want, bigFileSize)
	}
	got, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(got.Body)
	got.Body.Close()
	if err != nil || !bytes.Equal(body, data) {
		t.Fatalf("the uploaded bytes differ (%d bytes read, %v)", len(body), err)
	}

	browseAndShare(t, b, s3c, bucket, aws.ToString(head.ETag))
	downloadAndCompare(t, b, bucket, data)
	deleteAndVersions(t, b, s3c, bucket)

	for _, page := range []string{"/settings", "/events"} {
		b.visit("#/buckets/" + bucket + page)
		b.run(b.waitJS(`!!document.querySelector('main h1')`), chromedp.Sleep(300*time.Millisecond))
		b.checkAccessibility(strings.TrimPrefix(page, "/"))
	}
	b.colorScheme("dark")
	b.visit("#/buckets/" + bucket)
	b.run(b.waitJS(`document.documentElement.dataset.theme === 'dark' && !!document.querySelector('#object-rows tr')`))
	b.checkAccessibility("objects-dark")
	b.viewport(375, 812)
	b.run(chromedp.Sleep(200 * time.Millisecond))
	b.checkAccessibility("objects-phone-dark")
	var overflow int
	b.eval(`document.documentElement.scrollWidth - window.innerWidth`, &overflow)
	if overflow > 0 {
		t.Errorf("at 375 px the page scrolls sideways by %d px", overflow)
	}
	b.click(`#theme-toggle`) // the toggle overrides the system's scheme
	b.run(b.waitJS(`document.documentElement.dataset.theme === 'light'`))
	b.checkAccessibility("objects-phone-light")
	if ex := b.exceptions(); len(ex) > 0 {
		t.Errorf("uncaught exceptions in the page: %q", ex)
	}
}

// uploadResumed uploads file through the picker, reloads the page once a
// few parts are stored, picks the file again in "Unfinished uploads" and
// waits for the upload to finish, checking the progress bar on the way.
func uploadResumed(t *testing.T, b *consoleBrowser, bucket, file string) {
	const item = `#upload-list li[data-key="big.bin"]`
	// watchBar records every value the progress bar shows.
	const watchBar = `(() => { window.barValues = []; new MutationObserver(() => {
	  const p = document.querySelector('` + item + ` progress');
	  if (p && window.barValues[window.barValues.length - 1] !== p.value) window.barValues.push(p.value);
	}).observe(document.getElementById('upload-list'), {subtree: true, childList: true, attributes: true}); return true; })()`
	b.visit("#/buckets/" + bucket)
	b.run(chromedp.WaitVisible(chromedp.CSS(`#upload-files`)))
	b.throttleUploads(8 << 20) // 8 MiB/s: the whole file would take 12 s
	b.eval(watchBar, nil)
	b.run(chromedp.SetUploadFiles(chromedp.CSS(`#upload-files`), []string{file}))
	b.runLong(b.waitJS(`+(document.querySelector('` + item + `')?.dataset.partsDone || 0) >= 2`))
	var before struct {
		Visible bool
		Parts   string
		Done    string
	}
	b.eval(`(() => { const li = document.querySelector('`+item+`'); const p = li.querySelector('progress');
	  return {Visible: p.getBoundingClientRect().width > 100, Parts: li.dataset.parts, Done: li.dataset.partsDone}; })()`, &before)
	b.screenshot("upload-in-progress")
	if !before.Visible || before.Parts != "13" || before.Done == "13" {
		t.Fatalf("during the upload: bar visible %v, parts %s, done %s", before.Visible, before.Parts, before.Done)
	}

	b.run(chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(`#resumable input[type=file]`)))
	b.throttleUploads(-1)
	b.screenshot("upload-unfinished")
	b.eval(watchBar, nil)
	b.run(chromedp.SetUploadFiles(chromedp.CSS(`#resumable input[type=file]`), []string{file}))
	b.runLong(b.waitJS(`document.querySelector('` + item + `')?.dataset.state === 'done'`))
	var after struct {
		Resumed string
		Value   float64
		Pct     string
		Status  string
		Values  []float64
		Pending int
	}
	b.eval(`(() => { const li = document.querySelector('`+item+`');
	  return {Resumed: li.dataset.resumedParts, Value: li.querySelector('progress').value, Pct: li.querySelector('.upct').textContent,
	    Status: li.querySelector('.ustatus').textContent, Values: window.barValues,
	    Pending: JSON.parse(localStorage.getItem('cairn.uploads') || '[]').length}; })()`, &after)
	b.screenshot("upload-done")
	if after.Resumed == "" || after.Resumed == "0" {
		t.Errorf("the upload after the reload skipped no part (resumed %q)", after.Resumed)
	}
	if after.Value != 100 || after.Pct != "100 %" || after.Status != "Done" {
		t.Errorf("finished bar: value %v, %q, status %q", after.Value, after.Pct, after.Status)
	}
	between := 0
	for _, v := range after.Values {
		if v > 0 && v < 100 {
			between++
		}
	}
	if between == 0 || after.Values[len(after.Values)-1] != 100 {
		t.Errorf("the bar did not move through intermediate values to 100: %v", after.Values)
	}
	if after.Pending != 0 {
		t.Errorf("%d uploads still remembered after completion", after.Pending)
	}
}

// browseAndShare: folders, search by prefix, the detail panel and a share
// link that works in a browser context without the session.
func browseAndShare(t *testing.T, b *consoleBrowser, s3c *s3.Client, bucket, etag string) {
	const readme = "hello from the console test\n"
	if _, err := s3c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("docs/readme.txt"),
		Body: strings.NewReader(readme), ContentType: aws.String("text/plain")}); err != nil {
		t.Fatal(err)
	}
	b.visit("#/buckets/" + bucket)
	b.click(`tr[data-prefix="docs/"] a`)
	b.run(chromedp.WaitVisible(chromedp.CSS(`tr[data-key="docs/readme.txt"]`)))
	b.checkAccessibility("objects-folder")

	b.visit("#/buckets/" + bucket)
	b.run(chromedp.WaitVisible(chromedp.CSS(`#prefix-search`)), chromedp.SetValue(chromedp.CSS(`#prefix-search`), "bi"),
		chromedp.Click(chromedp.CSS(`form[role=search] button[type=submit]`)),
		b.waitJS(`location.hash.includes('q=bi') && document.querySelectorAll('#object-rows tr').length === 1 && !!document.querySelector('#object-rows tr[data-key="big.bin"]')`))

	b.click(`tr[data-key="big.bin"] button[aria-label="Details of big.bin"]`)
	b.run(b.waitJS(`!!document.querySelector('#detail-etag')`))
	if got := b.text(`#detail-etag`); got != etag {
		t.Errorf("detail panel ETag %q, want %s", got, etag)
	}
	b.checkAccessibility("objects-detail")

	b.visit("#/buckets/" + bucket + "?prefix=docs%2F")
	b.click(`tr[data-key="docs/readme.txt"] button[aria-label="Share docs/readme.txt"]`)
	b.run(chromedp.WaitVisible(chromedp.CSS(`#share-create`)), chromedp.SetValue(chromedp.CSS(`#share-expiry`), "900"),
		chromedp.Click(chromedp.CSS(`#share-create`)), b.waitJS(`document.querySelector('#share-url').value.startsWith('http')`))
	link, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(`#share-url`)))
	if err != nil {
		t.Fatal(err)
	}
	b.checkAccessibility("share-dialog")
	if !strings.HasPrefix(link, b.srv.URL+"/"+bucket+"/docs/readme.txt?") || !strings.Contains(link, "X-Amz-Expires=900") {
		t.Errorf("share link %q", link)
	}
	clean := b.cleanContext()
	clean.run(chromedp.Navigate(link))
	var shown string
	clean.eval(`document.body.innerText`, &shown)
	if shown != strings.TrimSpace(readme) && shown != readme {
		t.Errorf("the share link shows %q in a clean context", shown)
	}
	var hasSession bool
	clean.eval(`document.cookie.length > 0`, &hasSession)
	if hasSession {
		t.Error("the clean context has cookies")
	}
	b.click(`dialog[open] button:not(.primary):not(#share-copy)`)
}


// downloadAndCompare clicks the row's download link and compares the
// saved file with what was uploaded.
func downloadAndCompare(t *testing.T, b *consoleBrowser, bucket string, data []byte) {
	dir := b.allowDownloads()
	b.visit("#/buckets/" + bucket)
	b.click(`tr[data-key="big.bin"] a[download]`)
	path := filepath.Join(dir, "big.bin")
	deadline := time.Now().Add(longStep)
	for {
		if fi, err := os.Stat(path); err == nil && fi.Size() == int64(len(data)) {
			break
		}
		if time.Now().After(deadline) {
			entries, _ := os.ReadDir(dir)
			t.Fatalf("no complete download of big.bin in %s after %s (%v)", dir, longStep, entries)
		}
		time.Sleep(100 * time.Millisecond)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatal("the downloaded bytes differ from the uploaded ones")
	}
}

// deleteAndVersions: two objects deleted at once, one alone, then the
// versions view shows the delete marker and deletes the old version.
func deleteAndVersions(t *testing.T, b *consoleBrowser, s3c *s3.Client, bucket string) {
	ctx := t.Context()
	for _, k := range []string{"a.txt", "b.txt"} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	b.visit("#/buckets/" + bucket)
	b.click(`tr[data-key="a.txt"] input[type=checkbox]`)
	b.click(`tr[data-key="b.txt"] input[type=checkbox]`)
	b.click(`#delete-selected`)
	b.confirm()
	b.run(b.waitJS(`!document.querySelector('tr[data-key="a.txt"]') && !document.querySelector('tr[data-key="b.txt"]') && !!document.querySelector('tr[data-key="big.bin"]')`))
	b.click(`tr[data-key="big.bin"] button[aria-label="Delete big.bin"]`)
	b.confirm()
	b.run(b.waitJS(`!document.querySelector('tr[data-key="big.bin"]')`))
	for _, k := range []string{"a.txt", "b.txt", "big.bin"} {
		if _, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)}); err == nil {
			t.Errorf("%s is still there after the page deleted it", k)
		}
	}

	b.click(`#show-versions`)
	b.run(b.waitJS(`[...document.querySelectorAll('tr[data-key="big.bin"]')].some((r) => r.textContent.includes('delete marker'))`))
	b.checkAccessibility("versions")
	vs, err := s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String("big.bin")})
	if err != nil || len(vs.Versions) != 1 || len(vs.DeleteMarkers) != 1 {
		t.Fatalf("versions of big.bin: %v, %v", vs, err)
	}
	old := aws.ToString(vs.Versions[0].VersionId)
	b.click(`tr[data-key="big.bin"] button[aria-label="Delete big.bin version ` + old + `"]`)
	b.confirm()
	b.run(b.waitJS(`!document.querySelector('button[aria-label="Delete big.bin version ` + old + `"]')`))
	vs, err = s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String("big.bin")})
	if err != nil || len(vs.Versions) != 0 || len(vs.DeleteMarkers) != 1 {
		t.Errorf("after deleting the version: %d versions, %d markers, %v", len(vs.Versions), len(vs.DeleteMarkers), err)
	}
}
