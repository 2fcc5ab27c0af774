package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/cairn-s3/cairn/internal/store"
)

var listTests = []test{
	{"Empty", testListEmpty},
	{"Basic", testListBasic},
	{"Paging", testListPaging},
	{"MarkerOnCommonPrefix", testListMarkerOnPrefix},
	{"SkipsDeleteMarkers", testListSkipsDeleteMarkers},
}

// listKeys is a key set with nested prefixes, keys that are prefixes of
// others, and bytes that sort around the delimiter.
var listKeys = []string{
	"a", "a-b", "a.b", "a/", "a/1", "a/2", "a/b/c", "a/b/d", "a0", "b", "b/1", "b/2/3",
	"c/", "c//d", "d!", "photos/2024/01.jpg", "photos/2024/02.jpg", "photos/2025/01.jpg", "z",
}

// entry is one listing entry: an object key or a common prefix.
type entry struct {
	key    string
	prefix bool
}

func (e entry) String() string {
	if e.prefix {
		return "P:" + e.key
	}
	return e.key
}

// refList is the reference ListObjects over sorted keys.
func refList(keys []string, o store.ListOptions) (out []entry, truncated bool) {
	max := o.MaxKeys
	if max <= 0 {
		max = 1000
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, o.Prefix) {
			continue
		}
		en := entry{key: k}
		if o.Delimiter != "" {
			if i := strings.Index(k[len(o.Prefix):], o.Delimiter); i >= 0 {
				en = entry{key: k[:len(o.Prefix)+i+len(o.Delimiter)], prefix: true}
			}
		}
		if en.key <= o.Marker || (len(out) > 0 && out[len(out)-1] == en) {
			continue
		}
		if len(out) == max {
			return out, true
		}
		out = append(out, en)
	}
	return out, false
}

func entries(res store.ListResult) []entry {
	var out []entry
	for _, o := range res.Objects {
		out = append(out, entry{key: o.Key})
	}
	for _, p := range res.CommonPrefixes {
		out = append(out, entry{key: p, prefix: true})
	}
	slices.SortFunc(out, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	return out
}

func testListEmpty(e *env) {
	e.mkbucket("b", store.Unversioned)
	res, err := e.b.ListObjects(e.ctx, "b", store.ListOptions{Delimiter: "/"})
	if err != nil || len(res.Objects)+len(res.CommonPrefixes) != 0 || res.IsTruncated || res.NextMarker != "" {
		e.t.Errorf("ListObjects of an empty bucket = %+v, %v", res, err)
	}
}

func (e *env) putKeys(bucket string, keys []string) {
	for _, k := range keys {
		e.put(bucket, k, []byte(k))
	}
}

func testListBasic(e *env) {
	e.mkbucket("b", store.Unversioned)
	e.putKeys("b", listKeys)
	res, err := e.b.ListObjects(e.ctx, "b", store.ListOptions{})
	if err != nil {
		e.t.Fatal(err)
	}
	var keys []string
	for _, o := range res.Objects {
		keys = append(keys, o.Key)
		if o.ETag != md5hex([]byte(o.Key)) || o.Size != int64(len(o.Key)) || !o.IsLatest || !recent(o.LastModified) {
			e.t.Errorf("listed object %+v", o)
		}
	}
	if !reflect.DeepEqual(keys, listKeys) || res.IsTruncated {
		e.t.Errorf("ListObjects = %q (truncated %v), want %q", keys, res.IsTruncated, listKeys)
	}
	res, err = e.b.ListObjects(e.ctx, "b", store.ListOptions{Prefix: "photos/", Delimiter: "/"})
	if err != nil {
		e.t.Fatal(err)
	}
	if want := []string{"photos/2024/", "photos/2025/"}; !reflect.DeepEqual(res.CommonPrefixes, want) || len(res.Objects) != 0 {
		e.t.Errorf("ListObjects(photos/, /) = %+v, want prefixes %q", res, want)
	}
}

// testListPaging compares every page of many listings with the reference.
func testListPaging(e *env) {
	e.mkbucket("b", store.Unversioned)
	e.putKeys("b", listKeys)
	for _, prefix := range []string{"", "a", "a/", "photos/", "q"} {
		for _, delim := range []string{"", "/", "b", "//"} {
			for _, marker := range []string{"", "a/", "a/1", "b", "zz"} {
				o := store.ListOptions{Prefix: prefix, Delimiter: delim, Marker: marker}
				e.checkList(o)
				for max := 1; max <= 4; max++ {
					o.MaxKeys = max
					e.checkPaging(o)
				}
			}
		}
	}
}

func (e *env) checkList(o store.ListOptions) {
	e.t.Helper()
	want, wantTrunc := refList(listKeys, o)
	res, err := e.b.ListObjects(e.ctx, "b", o)
	if err != nil {
		e.t.Fatalf("ListObjects(%+v): %v", o, err)
	}
	if got := entries(res); !slices.Equal(got, want) || res.IsTruncated != wantTrunc {
		e.t.Errorf("ListObjects(%+v) = %v truncated=%v, want %v truncated=%v", o, got, res.IsTruncated, want, wantTrunc)
	}
}

// checkPaging follows NextMarker through all pages of a listing.
func (e *env) checkPaging(o store.ListOptions) {
	e.t.Helper()
	all, _ := refList(listKeys, store.ListOptions{Prefix: o.Prefix, Delimiter: o.Delimiter, Marker: o.Marker})
	var got []entry
	for page := 0; ; page++ {
		if page > len(listKeys)+1 {
			e.t.Fatalf("ListObjects(%+v) does not end", o)
		}
		res, err := e.b.ListObjects(e.ctx, "b", o)
		if err != nil {
			e.t.Fatalf("ListObjects(%+v): %v", o, err)
		}
		es := entries(res)
		if len(es) > o.MaxKeys {
			e.t.Fatalf("ListObjects(%+v) returned %d entries", o, len(es))
		}
		got = append(got, es...)
		if !res.IsTruncated {
			break
		}
		if len(es) == 0 || res.NextMarker != es[len(es)-1].key {
			e.t.Fatalf("ListObjects(%+v): NextMarker %q, last entry %v", o, res.NextMarker, es)
		}
		o.Marker = res.NextMarker
	}
	if !slices.Equal(got, all) {
		e.t.Errorf("pages of ListObjects(%+v) = %v, want %v", o, got, all)
	}
}

func testListMarkerOnPrefix(e *env) {
	e.mkbucket("b", store.Unversioned)
	e.putKeys("b", []string{"a/1", "a/2", "a0", "b"})
	res, err := e.b.ListObjects(e.ctx, "b", store.ListOptions{Delimiter: "/", MaxKeys: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	if !reflect.DeepEqual(res.CommonPrefixes, []string{"a/"}) || !res.IsTruncated || res.NextMarker != "a/" {
		e.t.Fatalf("first page = %+v", res)
	}
	res, err = e.b.ListObjects(e.ctx, "b", store.ListOptions{Delimiter: "/", Marker: "a/"})
	if err != nil {
		e.t.Fatal(err)
	}
	if got := fmt.Sprint(entries(res)); got != "[a0 b]" || res.IsTruncated {
		e.t.Errorf("after marker a/: %s truncated=%v, want [a0 b]", got, res.IsTruncated)
	}
}

func testListSkipsDeleteMarkers(e *env) {
	e.mkbucket("b", store.Enabled)
	e.putKeys("b", []string{"a", "b", "c", "d"})
	e.put("b", "b", []byte("b2"))
	for _, k := range []string{"a", "c"} {
		if _, err := e.b.DeleteObject(e.ctx, "b", k, store.DeleteOptions{}); err != nil {
			e.t.Fatal(err)
		}
	}
	res, err := e.b.ListObjects(e.ctx, "b", store.ListOptions{MaxKeys: 1})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res.Objects) != 1 || res.Objects[0].Key != "b" || res.Objects[0].ETag != md5hex([]byte("b2")) || !res.IsTruncated {
		e.t.Fatalf("first page = %+v", res)
	}
	res, err = e.b.ListObjects(e.ctx, "b", store.ListOptions{Marker: res.NextMarker})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res.Objects) != 1 || res.Objects[0].Key != "d" || res.IsTruncated {
		e.t.Errorf("second page = %+v", res)
	}
}
