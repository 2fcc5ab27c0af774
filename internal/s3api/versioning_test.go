package s3api

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// rawVersions lists a bucket's versions over raw HTTP and returns the
// entries in document order as "Version|DeleteMarker key id latest".
func rawVersions(t *testing.T, ts *testServer, bucket, query string) []string {
	t.Helper()
	return rawVersionsPage(t, ts, bucket, query).entries
}

// versionsPage is one ListObjectVersions answer read in document order:
// the order of Version and DeleteMarker elements is the order the server
// lists them in, which an SDK loses by splitting them into two lists.
type versionsPage struct {
	entries                []string
	truncated              bool
	nextKey, nextVersionID string
}

func rawVersionsPage(t *testing.T, ts *testServer, bucket, query string) versionsPage {
	t.Helper()
	resp := ts.Do(t, userRoot, http.MethodGet, "/"+bucket+"?versions"+query, nil, nil)
	body := readAll(t, resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("list versions: %d %s", resp.StatusCode, body)
	}
	d := xml.NewDecoder(strings.NewReader(string(body)))
	var page versionsPage
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "Version", "DeleteMarker":
			page.entries = append(page.entries, decodeVersionEntry(t, d, se))
		case "IsTruncated":
			var v bool
			decodeElement(t, d, se, &v)
			page.truncated = v
		case "NextKeyMarker":
			decodeElement(t, d, se, &page.nextKey)
		case "NextVersionIdMarker":
			decodeElement(t, d, se, &page.nextVersionID)
		}
	}
	return page
}

func decodeVersionEntry(t *testing.T, d *xml.Decoder, se xml.StartElement) string {
	t.Helper()
	var e struct {
		Key, VersionId string
		IsLatest       bool
	}
	decodeElement(t, d, se, &e)
	latest := ""
	if e.IsLatest {
		latest = " latest"
	}
	return se.Name.Local + " " + e.Key + " " + e.VersionId + latest
}

func decodeElement(t *testing.T, d *xml.Decoder, se xml.StartElement, v any) {
	t.Helper()
	if err := d.DecodeElement(v, &se); err != nil {
		t.Fatal(err)
	}
}

func TestVersioningFlow(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	c := ts.Root
	ts.CreateBucket(t, c, "ver")
	b := aws.String("ver")
	setVersioning := func(s types.BucketVersioningStatus) {
		t.Helper()
		if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
			VersioningConfiguration: &types.VersioningConfiguration{Status: s}}); err != nil {
			t.Fatal(err)
		}
	}
	get := func(key, version string) (string, error) {
		t.Helper()
		in := &s3.GetObjectInput{Bucket: b, Key: aws.String(key)}
		if version != "" {
			in.VersionId = aws.String(version)
		}
		out, err := c.GetObject(ctx, in)
		if err != nil {
			return "", err
		}
		return string(readAll(t, out.Body)), nil
	}

	if out := ts.PutObject(t, c, "ver", "k", []byte("null-1")); out.VersionId != nil {
		t.Fatalf("unversioned put returned version %q", *out.VersionId)
	}
	setVersioning(types.BucketVersioningStatusEnabled)
	v1 := aws.ToString(ts.PutObject(t, c, "ver", "k", []byte("v1")).VersionId)
	v2 := aws.ToString(ts.PutObject(t, c, "ver", "k", []byte("v2")).VersionId)
	if v1 == "" || v2 == "" || v1 == v2 || v1 == "null" {
		t.Fatalf("version ids %q %q", v1, v2)
	}
	want := []string{"Version k " + v2 + " latest", "Version k " + v1, "Version k null"}
	if got := rawVersions(t, ts, "ver", ""); !slices.Equal(got, want) {
		t.Fatalf("versions = %q, want %q", got, want)
	}

	del, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("k")})
	if err != nil || !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) == "" {
		t.Fatalf("delete: %+v, %v", del, err)
	}
	dm := aws.ToString(del.VersionId)
	want = append([]string{"DeleteMarker k " + dm + " latest"}, "Version k "+v2, "Version k "+v1, "Version k null")
	if got := rawVersions(t, ts, "ver", ""); !slices.Equal(got, want) {
		t.Fatalf("after delete: versions = %q, want %q", got, want)
	}
	if _, err := get("k", ""); errCode(err) != "NoSuchKey" {
		t.Fatalf("GET after delete marker: %v, want NoSuchKey", err)
	}
	for id, body := range map[string]string{v1: "v1", v2: "v2", "null": "null-1"} {
		if got, err := get("k", id); err != nil || got != body {
			t.Fatalf("GET version %s = %q, %v; want %q", id, got, err, body)
		}
	}
	if out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b}); err != nil || len(out.Contents) != 0 {
		t.Fatalf("ListObjectsV2 shows deleted key: %+v, %v", out.Contents, err)
	}

	sdk, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b})
	if err != nil || len(sdk.Versions) != 3 || len(sdk.DeleteMarkers) != 1 {
		t.Fatalf("SDK ListObjectVersions: %+v, %v", sdk, err)
	}
	if m := sdk.DeleteMarkers[0]; !aws.ToBool(m.IsLatest) || m.Owner == nil || aws.ToString(m.Owner.ID) != userRoot.ID {
		t.Fatalf("delete marker %+v", m)
	}
	if v := sdk.Versions[0]; aws.ToString(v.ETag) != `"`+md5Hex([]byte("v2"))+`"` || aws.ToInt64(v.Size) != 2 || v.StorageClass != types.ObjectVersionStorageClassStandard {
		t.Fatalf("version entry %+v", v)
	}

	// Suspended: a new write replaces the null version; its answer names
	// no version (RGW, checked by the conformance suite).
	setVersioning(types.BucketVersioningStatusSuspended)
	if out := ts.PutObject(t, c, "ver", "k", []byte("s1")); out.VersionId != nil {
		t.Fatalf("suspended put answered version %q, want none", aws.ToString(out.VersionId))
	}
	want = []string{"Version k null latest", "DeleteMarker k " + dm, "Version k " + v2, "Version k " + v1}
	if got := rawVersions(t, ts, "ver", ""); !slices.Equal(got, want) {
		t.Fatalf("after suspended put: versions = %q, want %q", got, want)
	}
	if got, err := get("k", ""); err != nil || got != "s1" {
		t.Fatalf("GET latest = %q, %v", got, err)
	}

	// Removing a version by id.
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: b, Key: aws.String("k"), VersionId: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	want = want[:3]
	if got := rawVersions(t, ts, "ver", ""); !slices.Equal(got, want) {
		t.Fatalf("after version delete: versions = %q, want %q", got, want)
	}

	// Paging through versions of several keys with markers.
	setVersioning(types.BucketVersioningStatusEnabled)
	for _, k := range []string{"a", "a", "a", "b", "z/1", "z/2"} {
		ts.PutObject(t, c, "ver", k, []byte(k))
	}
	full := rawVersions(t, ts, "ver", "")
	if len(full) != 9 {
		t.Fatalf("full listing %q", full)
	}
	for _, size := range []int{1, 2, 4} {
		if got := pageRawVersions(t, ts, "ver", size); !slices.Equal(got, full) {
			t.Fatalf("max-keys %d: paged %q, want %q", size, got, full)
		}
		gotVersions, gotMarkers := pageSDKVersions(t, c, "ver", int32(size))
		if wantVersions := withKind(full, "Version "); !slices.Equal(gotVersions, wantVersions) {
			t.Fatalf("SDK max-keys %d: versions %q, want %q", size, gotVersions, wantVersions)
		}
		if wantMarkers := withKind(full, "DeleteMarker "); !slices.Equal(gotMarkers, wantMarkers) {
			t.Fatalf("SDK max-keys %d: delete markers %q, want %q", size, gotMarkers, wantMarkers)
		}
	}

	t.Run("delimiter", func(t *testing.T) {
		out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b, Delimiter: aws.String("/")})
		if err != nil || len(out.CommonPrefixes) != 1 || aws.ToString(out.CommonPrefixes[0].Prefix) != "z/" {
			t.Fatalf("prefixes %+v, %v", out.CommonPrefixes, err)
		}
	})
}

// pageRawVersions lists a bucket's versions maxKeys at a time, following the
// next markers, and returns the entries in the order the server sent them.
func pageRawVersions(t *testing.T, ts *testServer, bucket string, maxKeys int) []string {
	t.Helper()
	var got []string
	query := url.Values{"max-keys": {strconv.Itoa(maxKeys)}}
	for range 20 {
		page := rawVersionsPage(t, ts, bucket, "&"+query.Encode())
		got = append(got, page.entries...)
		if !page.truncated {
			return got
		}
		if page.nextKey == "" || page.nextVersionID == "" {
			t.Fatalf("truncated page without markers: %+v", page)
		}
		query.Set("key-marker", page.nextKey)
		query.Set("version-id-marker", page.nextVersionID)
	}
	t.Fatalf("max-keys %d: listing did not end in 20 pages", maxKeys)
	return nil
}

// pageSDKVersions pages through a bucket's versions with the SDK. The SDK
// splits each page into versions and delete markers, so the two come back
// separately: the order between a version and a delete marker cannot be
// rebuilt from LastModified, which has millisecond resolution and ties when
// both were written in the same millisecond.
func pageSDKVersions(t *testing.T, c *s3.Client, bucket string, maxKeys int32) (versions, markers []string) {
	t.Helper()
	in := &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(maxKeys)}
	for range 20 {
		out, err := c.ListObjectVersions(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.Versions {
			versions = append(versions, versionEntry("Version", v.Key, v.VersionId, v.IsLatest))
		}
		for _, m := range out.DeleteMarkers {
			markers = append(markers, versionEntry("DeleteMarker", m.Key, m.VersionId, m.IsLatest))
		}
		if !aws.ToBool(out.IsTruncated) {
			return versions, markers
		}
		if out.NextKeyMarker == nil || out.NextVersionIdMarker == nil {
			t.Fatalf("truncated page without markers: %+v", out)
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	t.Fatalf("max-keys %d: SDK listing did not end in 20 pages", maxKeys)
	return nil, nil
}

func versionEntry(kind string, key, id *string, isLatest *bool) string {
	latest := ""
	if aws.ToBool(isLatest) {
		latest = " latest"
	}
	return kind + " " + aws.ToString(key) + " " + aws.ToString(id) + latest
}

// withKind keeps the entries of one kind ("Version " or "DeleteMarker "),
// in their order.
func withKind(entries []string, prefix string) []string {
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e, prefix) {
			out = append(out, e)
		}
	}
	return out
}
