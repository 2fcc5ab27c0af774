package s3api

import (
	"context"
	"encoding/xml"
	"net/http"
	"slices"
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
	resp := ts.Do(t, userRoot, http.MethodGet, "/"+bucket+"?versions"+query, nil, nil)
	body := readAll(t, resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("list versions: %d %s", resp.StatusCode, body)
	}
	d := xml.NewDecoder(strings.NewReader(string(body)))
	var out []string
	for {
		tok, err := d.Token()
		if err != nil {
			break
		}
		se, ok := tok.(xml.StartElement)
		if !ok || (se.Name.Local != "Version" && se.Name.Local != "DeleteMarker") {
			continue
		}
		var e struct {
			Key, VersionId string
			IsLatest       bool
		}
		if err := d.DecodeElement(&e, &se); err != nil {
			t.Fatal(err)
		}
		latest := ""
		if e.IsLatest {
			latest = " latest"
		}
		out = append(out, se.Name.Local+" "+e.Key+" "+e.VersionId+latest)
	}
	return out
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
	for _, size := range []int32{1, 2, 4} {
		var got []string
		in := &s3.ListObjectVersionsInput{Bucket: b, MaxKeys: aws.Int32(size)}
		for i := 0; i < 20; i++ {
			out, err := c.ListObjectVersions(ctx, in)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, mergeVersions(out)...)
			if !aws.ToBool(out.IsTruncated) {
				break
			}
			if out.NextKeyMarker == nil || out.NextVersionIdMarker == nil {
				t.Fatalf("truncated page without markers: %+v", out)
			}
			in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
		}
		if !slices.Equal(got, full) {
			t.Fatalf("max-keys %d: paged %q, want %q", size, got, full)
		}
	}

	t.Run("delimiter", func(t *testing.T) {
		out, err := c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b, Delimiter: aws.String("/")})
		if err != nil || len(out.CommonPrefixes) != 1 || aws.ToString(out.CommonPrefixes[0].Prefix) != "z/" {
			t.Fatalf("prefixes %+v, %v", out.CommonPrefixes, err)
		}
	})
}

// mergeVersions puts an SDK page back in document order (key, then the
// order the server sent, which the SDK splits into two lists).
func mergeVersions(out *s3.ListObjectVersionsOutput) []string {
	type entry struct {
		key, s string
		t      int64
	}
	var es []entry
	for _, v := range out.Versions {
		l := ""
		if aws.ToBool(v.IsLatest) {
			l = " latest"
		}
		es = append(es, entry{aws.ToString(v.Key), "Version " + aws.ToString(v.Key) + " " + aws.ToString(v.VersionId) + l, v.LastModified.UnixNano()})
	}
	for _, m := range out.DeleteMarkers {
		l := ""
		if aws.ToBool(m.IsLatest) {
			l = " latest"
		}
		es = append(es, entry{aws.ToString(m.Key), "DeleteMarker " + aws.ToString(m.Key) + " " + aws.ToString(m.VersionId) + l, m.LastModified.UnixNano()})
	}
	slices.SortStableFunc(es, func(a, b entry) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return int(b.t - a.t) // newest first
	})
	res := make([]string, len(es))
	for i, e := range es {
		res[i] = e.s
	}
	return res
}
