package server_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cairn-s3/cairn/internal/syncbuf"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/server/servertest"
)

// blockSize and the header layout mirror local's data file format: the
// test flips bytes where bit rot would, knowing only the documented format.
const blockSize = 64 << 10

// dataFileOf returns the data file a PUT just created: the one not in seen.
func dataFileOf(t *testing.T, dir string, seen map[string]bool) string {
	t.Helper()
	var found string
	filepath.WalkDir(filepath.Join(dir, "data"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !seen[p] {
			found = p
			seen[p] = true
		}
		return nil
	})
	if found == "" {
		t.Fatal("no new data file")
	}
	return found
}

// flipByte flips the byte at body offset off of a data file.
func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw[:8]) != "CAIRNDAT" {
		t.Fatalf("%s has no header", path)
	}
	hdr := int64(binary.BigEndian.Uint32(raw[12:16]))
	raw[hdr+off/blockSize*(blockSize+4)+off%blockSize] ^= 1
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
}

func integrityCounter(t *testing.T, url string) string {
	t.Helper()
	_, body := httpGet(t, url+"/metrics")
	m := regexp.MustCompile(`(?m)^cairn_integrity_errors_total (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no cairn_integrity_errors_total in /metrics")
	}
	return m[1]
}

type scrubDoc struct {
	Objects      int64 `json:"objects"`
	DamagedCount int64 `json:"damaged_count"`
	Damaged      []struct {
		Bucket, Key string
		VersionID   string `json:"version_id"`
		Block       int64  `json:"block"`
	} `json:"damaged"`
}

func scrub(t *testing.T, srv *servertest.Running) scrubDoc {
	t.Helper()
	resp, body := send(t, rootCreds(srv), newRequest(t, http.MethodPost, srv.URL+"/admin/scrub", nil))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrub: %d %s", resp.StatusCode, body)
	}
	var doc scrubDoc
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("scrub: %v: %s", err, body)
	}
	return doc
}

// TestIntegrityBitRot: a flipped byte in an object's data file is never
// served. Damage in the first block answers 500 InternalError; damage
// further in cuts the connection after the verified bytes; ranges of other
// blocks still work; each detection is logged (bucket, key, version,
// block) and counted; scrub lists exactly the damaged objects.
func TestIntegrityBitRot(t *testing.T) {
	var logs syncbuf.Buffer
	srv := servertest.Start(t, servertest.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	creds := rootCreds(srv)
	if resp, body := send(t, creds, newRequest(t, http.MethodPut, srv.URL+"/rot", nil)); resp.StatusCode != 200 {
		t.Fatalf("create bucket: %d %s", resp.StatusCode, body)
	}
	body := make([]byte, 6*blockSize+123)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range body {
		body[i] = byte(rng.Uint32())
	}
	seen := map[string]bool{}
	files := map[string]string{}
	for _, key := range []string{"early", "late", "clean"} {
		resp, b := send(t, creds, newRequest(t, http.MethodPut, srv.URL+"/rot/"+key, bytes.NewReader(body)))
		if resp.StatusCode != 200 {
			t.Fatalf("put %s: %d %s", key, resp.StatusCode, b)
		}
		files[key] = dataFileOf(t, srv.DataDir, seen)
	}
	if doc := scrub(t, srv); doc.Objects != 3 || doc.DamagedCount != 0 {
		t.Fatalf("clean store: %+v", doc)
	}
	if c := integrityCounter(t, srv.URL); c != "0" {
		t.Fatalf("counter before damage: %s", c)
	}
	flipByte(t, files["early"], 10)
	flipByte(t, files["late"], 5*blockSize+10)

	get := func(key, rangeHdr string) (*http.Response, []byte, error) {
		req := newRequest(t, http.MethodGet, srv.URL+"/rot/"+key, nil)
		if rangeHdr != "" {
			req.Header.Set("Range", rangeHdr)
		}
		return trySend(http.DefaultClient, creds, req)
	}
	resp, b, err := get("early", "")
	if err != nil || resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(b), "<Code>InternalError</Code>") {
		t.Fatalf("GET early: %v %v %s", err, resp, b)
	}
	resp, b, err = get("late", "")
	if err == nil || resp.StatusCode != 200 || int64(len(b)) > 5*blockSize || !bytes.Equal(b, body[:len(b)]) {
		t.Fatalf("GET late: err %v, %d bytes, status %v: want a cut before block 5", err, len(b), resp)
	}
	if resp, b, err = get("early", "bytes=5-15"); err != nil || resp.StatusCode != 500 {
		t.Fatalf("range over the bad block: %v %v %s", err, resp, b)
	}
	for _, r := range []struct {
		hdr      string
		from, to int
	}{{"bytes=65536-65635", 65536, 65636}, {"bytes=131072-200000", 131072, 200001}, {"bytes=-50", len(body) - 50, len(body)}} {
		resp, b, err := get("early", r.hdr)
		if err != nil || resp.StatusCode != http.StatusPartialContent || !bytes.Equal(b, body[r.from:r.to]) {
			t.Fatalf("range %s of other blocks: %v %v, %d bytes", r.hdr, err, resp, len(b))
		}
	}
	if c := integrityCounter(t, srv.URL); c != "3" {
		t.Fatalf("counter: %s, want 3", c)
	}
	if !regexp.MustCompile(`integrity error.*bucket=rot key=early version_id="?"?.*block=0 `).MatchString(logs.String()) {
		t.Fatalf("no integrity log line naming bucket, key, version and block:\n%s", logs.String())
	}
	doc := scrub(t, srv)
	if doc.DamagedCount != 2 || len(doc.Damaged) != 2 {
		t.Fatalf("scrub: %+v", doc)
	}
	got := map[string]int64{}
	for _, d := range doc.Damaged {
		if d.Bucket != "rot" {
			t.Fatalf("damage %+v", d)
		}
		got[d.Key] = d.Block
	}
	if len(got) != 2 || got["early"] != 0 || got["late"] != 5 {
		t.Fatalf("scrub damage: %+v", doc.Damaged)
	}
}

// extractTarGz unpacks a test fixture into dir.
func extractTarGz(t *testing.T, path, dir string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dir, filepath.Clean("/"+h.Name))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(target, data, os.FileMode(h.Mode)&0o777); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestIntegrityLegacyStore opens a data directory written by Cairn before
// data files had headers and checksums (testdata/legacy-store.tar.gz: made
// by that version's `cairn server`, `cairn mb s3://old` and `cairn cp` of
// the 204,817-byte body below to s3://old/legacy-object): the old object
// reads back, unverified, scrub reports it as legacy, and new writes get
// checksums; a scrub with upgrade-legacy gives the old object checksums
// too, and it still reads back.
func TestIntegrityLegacyStore(t *testing.T) {
	dir := t.TempDir()
	extractTarGz(t, filepath.Join("testdata", "legacy-store.tar.gz"), dir)
	srv := servertest.Start(t, servertest.Options{DataDir: dir})
	creds := rootCreds(srv)
	want := make([]byte, 200*1024+17)
	for i := range want {
		want[i] = byte((i*7 + 3) % 251)
	}
	resp, got := send(t, creds, newRequest(t, http.MethodGet, srv.URL+"/old/legacy-object", nil))
	if resp.StatusCode != 200 || !bytes.Equal(got, want) {
		t.Fatalf("legacy GET: %d, %d bytes", resp.StatusCode, len(got))
	}
	req := newRequest(t, http.MethodGet, srv.URL+"/old/legacy-object", nil)
	req.Header.Set("Range", "bytes=70000-70009")
	if resp, got := send(t, creds, req); resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, want[70000:70010]) {
		t.Fatalf("legacy ranged GET: %d %q", resp.StatusCode, got)
	}
	seen := map[string]bool{}
	filepath.WalkDir(filepath.Join(dir, "data"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			seen[p] = true
		}
		return nil
	})
	if resp, b := send(t, creds, newRequest(t, http.MethodPut, srv.URL+"/old/new-object", bytes.NewReader(want))); resp.StatusCode != 200 {
		t.Fatalf("put: %d %s", resp.StatusCode, b)
	}
	if raw, err := os.ReadFile(dataFileOf(t, dir, seen)); err != nil || string(raw[:8]) != "CAIRNDAT" {
		t.Fatalf("new data file has no header: %v", err)
	}
	var rep struct {
		Objects      int64 `json:"objects"`
		DamagedCount int64 `json:"damaged_count"`
		LegacyCount  int64 `json:"legacy_count"`
		Legacy       []struct {
			Bucket, Key string
		} `json:"legacy"`
	}
	resp, b := send(t, creds, newRequest(t, http.MethodPost, srv.URL+"/admin/scrub", nil))
	if err := json.Unmarshal(b, &rep); err != nil || resp.StatusCode != 200 {
		t.Fatalf("scrub: %d %s", resp.StatusCode, b)
	}
	if rep.Objects != 2 || rep.DamagedCount != 0 || rep.LegacyCount != 1 || len(rep.Legacy) != 1 || rep.Legacy[0].Key != "legacy-object" {
		t.Fatalf("scrub: %s", b)
	}
	resp, b = send(t, creds, newRequest(t, http.MethodPost, srv.URL+"/admin/scrub?upgrade-legacy", nil))
	if !strings.Contains(string(b), `"upgraded":1`) || !strings.Contains(string(b), `"legacy_count":0`) || resp.StatusCode != 200 {
		t.Fatalf("upgrading scrub: %d %s", resp.StatusCode, b)
	}
	if resp, got := send(t, creds, newRequest(t, http.MethodGet, srv.URL+"/old/legacy-object", nil)); resp.StatusCode != 200 || !bytes.Equal(got, want) {
		t.Fatalf("GET after upgrade: %d, %d bytes", resp.StatusCode, len(got))
	}
	filepath.WalkDir(filepath.Join(dir, "data"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if raw, _ := os.ReadFile(p); string(raw[:8]) != "CAIRNDAT" {
				t.Errorf("%s has no header after the upgrade", p)
			}
		}
		return nil
	})
}

// TestIntegrityBackgroundScrub: the background scrub finds damage in an
// object nobody reads, logs it and counts it.
func TestIntegrityBackgroundScrub(t *testing.T) {
	var logs syncbuf.Buffer
	srv := servertest.Start(t, servertest.Options{Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		Scrub: server.ScrubConfig{Interval: 20 * time.Millisecond, Rate: 64 << 20}})
	creds := rootCreds(srv)
	send(t, creds, newRequest(t, http.MethodPut, srv.URL+"/cold", nil))
	body := bytes.Repeat([]byte("cold data "), 20000)
	if resp, b := send(t, creds, newRequest(t, http.MethodPut, srv.URL+"/cold/k", bytes.NewReader(body))); resp.StatusCode != 200 {
		t.Fatalf("put: %d %s", resp.StatusCode, b)
	}
	flipByte(t, dataFileOf(t, srv.DataDir, map[string]bool{}), 100)
	for i := 0; i < 500 && !strings.Contains(logs.String(), "damaged=1"); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), `msg="scrub done"`) || !strings.Contains(logs.String(), "damaged=1") {
		t.Fatalf("no background scrub found the damage:\n%s", logs.String())
	}
	if c := integrityCounter(t, srv.URL); c == "0" {
		t.Fatalf("counter: %s", c)
	}
}
