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
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
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

// s3Client is an aws-sdk-go-v2 client of the server signing as root.
func s3Client(srv *servertest.Running) *s3.Client {
	return s3ClientFor(srv, srv.RootAccessKey, srv.RootSecretKey)
}

// s3ClientFor is an aws-sdk-go-v2 client of the server with a key pair.
func s3ClientFor(srv *servertest.Running, ak, sk string) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
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

// click clicks the element of a CSS selector once it is visible. It is
// the element's click(), not a mouse event at its place: a toast that
// happens to cover the place must not take the click.
func (b *consoleBrowser) click(sel string) {
	b.t.Helper()
	b.run(chromedp.WaitVisible(chromedp.CSS(sel)), b.clickStep(sel))
}

// clickStep is a step that clicks the element of a CSS selector the way
// click does.
func (b *consoleBrowser) clickStep(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`document.querySelector(` + jsString(sel) + `).click()`)
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
		b.clickStep(`#new-bucket-versioning`),
		b.clickStep(`#new-bucket-submit`),
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

	dropUpload(t, b, s3c, bucket)
	paging(t, b, s3c, bucket)
	browseAndShare(t, b, s3c, bucket, aws.ToString(head.ETag))
	downloadAndCompare(t, b, bucket, data)
	deleteAndVersions(t, b, s3c, bucket)

	b.visit("#/topics")
	pushTestEvent(t, b)
	otherPagesAndThemes(t, b, bucket)
	sessionEnds(t, b)
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
		Body: strings.NewReader(readme), ContentType: aws.String("text/plain"), Metadata: map[string]string{"owner": "ada"},
		ChecksumAlgorithm: types.ChecksumAlgorithmSha256}); err != nil {
		t.Fatal(err)
	}
	b.visit("#/buckets/" + bucket)
	b.run(chromedp.WaitVisible(chromedp.CSS(`#new-folder`)), chromedp.SetValue(chromedp.CSS(`#new-folder`), "made"))
	b.click(`form[aria-label="New folder"] button[type=submit]`)
	b.run(b.waitJS(`!!document.querySelector('tr[data-prefix="made/"]')`))
	if _, err := s3c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("made/")}); err != nil {
		t.Errorf("the folder made by the page: %v", err)
	}
	b.click(`tr[data-prefix="docs/"] a`)
	b.run(chromedp.WaitVisible(chromedp.CSS(`tr[data-key="docs/readme.txt"]`)))
	b.checkAccessibility("objects-folder")

	b.visit("#/buckets/" + bucket)
	b.run(chromedp.WaitVisible(chromedp.CSS(`#prefix-search`)), chromedp.SetValue(chromedp.CSS(`#prefix-search`), "bi"),
		b.clickStep(`form[role=search] button[type=submit]`),
		b.waitJS(`location.hash.includes('q=bi') && document.querySelectorAll('#object-rows tr').length === 1 && !!document.querySelector('#object-rows tr[data-key="big.bin"]')`))

	b.click(`tr[data-key="big.bin"] button[aria-label="Details of big.bin"]`)
	b.run(b.waitJS(`!!document.querySelector('#detail-etag')`))
	if got := b.text(`#detail-etag`); got != etag {
		t.Errorf("detail panel ETag %q, want %s", got, etag)
	}
	b.checkAccessibility("objects-detail")

	b.visit("#/buckets/" + bucket + "?prefix=docs%2F")
	detailAndTags(t, b, s3c, bucket)
	oddKey(t, b, s3c, bucket)
	b.click(`tr[data-key="docs/readme.txt"] button[aria-label="Share docs/readme.txt"]`)
	b.run(chromedp.WaitVisible(chromedp.CSS(`#share-create`)), chromedp.SetValue(chromedp.CSS(`#share-expiry`), "900"),
		b.clickStep(`#share-create`), b.waitJS(`document.querySelector('#share-url').value.startsWith('http')`))
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
	var gone string // a.txt's version, downloaded through its link
	b.eval(`fetch(document.querySelector('tr[data-key="a.txt"] a[download]').href).then((r) => r.text())`, &gone)
	if gone != "a.txt" {
		t.Errorf("the deleted a.txt's version downloads as %q", gone)
	}
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

// dropUpload drops a file on the drop zone (a drop event carrying a File,
// as the browser makes for a file dragged from the desktop).
func dropUpload(t *testing.T, b *consoleBrowser, s3c *s3.Client, bucket string) {
	b.visit("#/buckets/" + bucket)
	b.run(chromedp.WaitVisible(chromedp.CSS(`#dropzone`)), chromedp.Evaluate[chromedp.Void](`(() => {
	  const dt = new DataTransfer();
	  dt.items.add(new File(['dropped on the page\n'], 'dropped.txt', {type: 'text/plain'}));
	  const zone = document.getElementById('dropzone');
	  zone.dispatchEvent(new DragEvent('dragover', {dataTransfer: dt, bubbles: true, cancelable: true}));
	  zone.dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));
	})()`), b.waitJS(`document.querySelector('#upload-list li[data-key="dropped.txt"]')?.dataset.state === 'done'`))
	out, err := s3c.GetObject(t.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("dropped.txt")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(out.Body)
	out.Body.Close()
	if string(body) != "dropped on the page\n" || aws.ToString(out.ContentType) != "text/plain" {
		t.Errorf("dropped file stored as %q (%s)", body, aws.ToString(out.ContentType))
	}
}

// paging lists a folder of 1,100 keys a page at a time: the page renders
// only the page's rows, and Next/Previous follow continuation tokens.
func paging(t *testing.T, b *consoleBrowser, s3c *s3.Client, bucket string) {
	const keys, writers = 1100, 8
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			for i := w; i < keys; i += writers {
				k := fmt.Sprintf("many/key-%05d", i)
				if _, err := s3c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rows := `document.querySelectorAll('#object-rows tr').length`
	first := `document.querySelector('#object-rows tr')?.dataset.key`
	b.visit("#/buckets/" + bucket + "?prefix=many%2F")
	b.run(b.waitJS(rows+` === 200`), chromedp.SetValue(chromedp.CSS(`#page-size`), "500"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('page-size').dispatchEvent(new Event('change'))`),
		b.waitJS(rows+` === 500 && `+first+` === 'many/key-00000'`))
	page := func(button, want string) {
		b.t.Helper()
		b.click(button)
		ctx, cancel := context.WithTimeout(b.ctx, browserStepTimeout)
		defer cancel()
		if err := chromedp.Do(ctx, b.waitJS(want)); err != nil {
			var state string
			b.eval(`JSON.stringify({rows: `+rows+`, first: `+first+`, status: document.getElementById('list-status').textContent, hash: location.hash})`, &state)
			t.Fatalf("after %s: %v; the page shows %s", button, err, state)
		}
	}
	page(`#page-next`, rows+` === 500 && `+first+` === 'many/key-00500'`)
	page(`#page-next`, rows+` === 100 && `+first+` === 'many/key-01000' && document.getElementById('page-next').disabled`)
	page(`#page-prev`, rows+` === 500 && `+first+` === 'many/key-00500'`)
	b.screenshot("paging")

	// Select the whole page and delete it: 500 keys in one DeleteObjects.
	b.click(`#select-all`)
	b.run(b.waitJS(`document.getElementById('delete-selected').textContent === 'Delete selected (500)'`))
	b.click(`#delete-selected`)
	b.confirm()
	b.run(b.waitJS(rows + ` === 100 && ` + first + ` === 'many/key-01000'`))
	left, err := s3c.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("many/")})
	if err != nil || aws.ToInt32(left.KeyCount) != 600 {
		t.Errorf("after deleting a page of 500: %v keys left, %v", left.KeyCount, err)
	}
}

// otherPagesAndThemes checks the accessibility of the bucket's other pages,
// and of the object browser dark, at phone width, and light again by the
// theme toggle.
func otherPagesAndThemes(t *testing.T, b *consoleBrowser, bucket string) {
	// Each page with what shows it has finished rendering.
	for _, p := range []struct{ name, hash, ready string }{
		{"settings", "#/buckets/" + bucket + "/settings", `!!document.getElementById('notif-add')`},
		{"events", "#/buckets/" + bucket + "/events", `document.getElementById('events-status').textContent.startsWith('Connected')`},
		{"events-refused", "#/buckets/no-such-bucket/events", `document.getElementById('events-status').textContent.startsWith('Refused: NoSuchBucket')`},
	} {
		b.visit(p.hash)
		b.run(b.waitJS(p.ready))
		b.checkAccessibility(p.name)
	}
	// The buckets page with the usage summed by listing: 600 keys under
	// many/, docs/readme.txt, dropped.txt and the folder made/.
	b.visit("#/buckets")
	b.run(b.waitJS(`[...document.querySelectorAll('tbody tr')].some((r) => r.textContent.includes('603 objects'))`))
	b.checkAccessibility("buckets-usage")
	b.colorScheme("dark")
	b.visit("#/buckets/" + bucket)
	b.run(b.waitJS(`document.documentElement.dataset.theme === 'dark' && !!document.querySelector('#object-rows tr')`))
	b.checkAccessibility("objects-dark")
	b.viewport(375, 812)
	b.run(b.waitJS(`window.innerWidth === 375`))
	b.checkAccessibility("objects-phone-dark")
	var overflow int
	b.eval(`document.documentElement.scrollWidth - window.innerWidth`, &overflow)
	if overflow > 0 {
		t.Errorf("at 375 px the page scrolls sideways by %d px", overflow)
	}
	b.click(`#theme-toggle`) // the toggle overrides the system's scheme
	b.run(b.waitJS(`document.documentElement.dataset.theme === 'light'`))
	b.checkAccessibility("objects-phone-light")
}

// sessionEnds: the session ends behind the page's back (as at expiry): the
// next call shows the sign-in page, and signing in again returns to the
// same view.
func sessionEnds(t *testing.T, b *consoleBrowser) {
	b.eval(`(async () => { const api = await import('/js/api.js'); await api.session(); await api.signOut(); return true; })()`, nil)
	b.click(`#refresh`)
	b.run(chromedp.WaitVisible(chromedp.CSS(`#signin-access`)))
	if msg := b.text(`#signin-error`); !strings.Contains(msg, "session ended") {
		t.Errorf("sign-in page after the session ended says %q", msg)
	}
	b.checkAccessibility("signin-again")
	b.signIn(b.srv.RootAccessKey, b.srv.RootSecretKey)
	b.run(chromedp.WaitVisible(chromedp.CSS(`#object-rows`)))
}

// detailAndTags opens the detail panel of docs/readme.txt (metadata and
// checksum shown) and saves two tags from it.
func detailAndTags(t *testing.T, b *consoleBrowser, s3c *s3.Client, bucket string) {
	b.click(`tr[data-key="docs/readme.txt"] button[aria-label="Details of docs/readme.txt"]`)
	b.run(b.waitJS(`!!document.getElementById('detail-tags')`))
	kv := b.text(`#detail-kv`)
	for _, want := range []string{"Metadata owner", "ada", "Checksum SHA256", "text/plain"} {
		if !strings.Contains(kv, want) {
			t.Errorf("the detail panel lacks %q: %s", want, kv)
		}
	}
	b.run(chromedp.SetValue(chromedp.CSS(`#detail-tags`), "team=storage\nenv=test"))
	b.click(`#detail-tags-save`)
	b.run(b.waitJS(`document.getElementById('detail-tags').dataset.state === 'saved'`))
	tags, err := s3c.GetObjectTagging(t.Context(), &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String("docs/readme.txt")})
	if err != nil || len(tags.TagSet) != 2 {
		t.Fatalf("tags saved by the page: %+v, %v", tags, err)
	}
}

// oddKey: a key with a space, a plus, a percent sign and a non-ASCII letter
// is listed, downloaded, shown and deleted under its own name.
func oddKey(t *testing.T, b *consoleBrowser, s3c *s3.Client, bucket string) {
	const key = "docs/odd name+1%é.txt"
	if _, err := s3c.PutObject(t.Context(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader("odd")}); err != nil {
		t.Fatal(err)
	}
	b.click(`#refresh`)
	row := `tr[data-key=` + jsString(key) + `]`
	b.run(chromedp.WaitVisible(chromedp.CSS(row)))
	var body string
	b.eval(`fetch(document.querySelector(`+jsString(row+` a[download]`)+`).href).then((r) => r.text())`, &body)
	if body != "odd" {
		t.Errorf("%q downloads as %q", key, body)
	}
	b.click(row + ` button[aria-label=` + jsString("Details of "+key) + `]`)
	b.run(b.waitJS(`document.getElementById('detail-kv')?.textContent.includes(` + jsString(key) + `)`))
	b.click(row + ` button[aria-label=` + jsString("Delete "+key) + `]`)
	b.confirm()
	b.run(b.waitJS(`!document.querySelector(` + jsString(row) + `)`))
	if _, err := s3c.HeadObject(t.Context(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err == nil {
		t.Errorf("%q is still there after the page deleted it", key)
	}
}
