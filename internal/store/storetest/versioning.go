package storetest

import (
	"errors"
	"fmt"
	"slices"

	"github.com/cairn-s3/cairn/internal/store"
)

var versioningTests = []test{
	{"NewVersionIDs", testNewVersionIDs},
	{"DeleteMarker", testDeleteMarker},
	{"DeleteVersionPromotesPrevious", testDeleteVersion},
	{"NoSuchVersion", testNoSuchVersion},
	{"NullVersionAfterEnabling", testNullAfterEnabling},
	{"Suspended", testSuspended},
	{"ListVersionsOrder", testListVersionsOrder},
	{"ListVersionsPaging", testListVersionsPaging},
	{"ListVersionsDelimiter", testListVersionsDelimiter},
}

func (e *env) del(bucket, key, versionID string) store.DeleteResult {
	e.t.Helper()
	res, err := e.b.DeleteObject(e.ctx, bucket, key, store.DeleteOptions{VersionID: versionID})
	if err != nil {
		e.t.Fatalf("DeleteObject(%s/%s@%q): %v", bucket, key, versionID, err)
	}
	return res
}

func testNewVersionIDs(e *env) {
	e.mkbucket("b", store.Enabled)
	seen := map[string]bool{}
	var infos []store.ObjectInfo
	for i, n := range []int{10, 1 << 20, 20} {
		info := e.put("b", "k", data(n, uint64(i)))
		if info.VersionID == "" || info.VersionID == store.NullVersion || seen[info.VersionID] {
			e.t.Fatalf("version id %q: want a new, non-null id", info.VersionID)
		}
		seen[info.VersionID] = true
		infos = append(infos, info)
	}
	e.put("b", "other", []byte("x"))
	latest := e.mustGet("b", "k", "", data(20, 2))
	if latest.VersionID != infos[2].VersionID || !latest.IsLatest {
		e.t.Errorf("latest = %+v, want version %s", latest, infos[2].VersionID)
	}
	for i, n := range []int{10, 1 << 20, 20} {
		got := e.mustGet("b", "k", infos[i].VersionID, data(n, uint64(i)))
		if got.VersionID != infos[i].VersionID || got.ETag != infos[i].ETag || got.IsLatest != (i == 2) {
			e.t.Errorf("GetObject by version %d = %+v", i, got)
		}
	}
}

func testDeleteMarker(e *env) {
	e.mkbucket("b", store.Enabled)
	v1 := e.put("b", "k", []byte("one"))
	dm := e.del("b", "k", "")
	if !dm.DeleteMarker || dm.VersionID == "" || dm.VersionID == v1.VersionID || dm.VersionID == store.NullVersion {
		e.t.Fatalf("DeleteObject in a versioned bucket = %+v, want a new delete marker", dm)
	}
	info, err := e.b.HeadObject(e.ctx, "b", "k", store.GetOptions{})
	wantErr(e.t, "HeadObject of a deleted key", err, store.ErrNoSuchKey)
	if !info.DeleteMarker || info.VersionID != dm.VersionID {
		e.t.Errorf("HeadObject of a deleted key returned %+v, want the marker's info", info)
	}
	info, _, err = e.get("b", "k", store.GetOptions{})
	wantErr(e.t, "GetObject of a deleted key", err, store.ErrNoSuchKey)
	if !info.DeleteMarker || info.VersionID != dm.VersionID {
		e.t.Errorf("GetObject of a deleted key returned %+v, want the marker's info", info)
	}
	info, _, err = e.get("b", "k", store.GetOptions{VersionID: dm.VersionID})
	wantErr(e.t, "GetObject of a delete marker by id", err, store.ErrMethodNotAllowed)
	if !info.DeleteMarker {
		e.t.Errorf("GetObject of a delete marker by id returned %+v", info)
	}
	_, err = e.b.HeadObject(e.ctx, "b", "k", store.GetOptions{VersionID: dm.VersionID})
	wantErr(e.t, "HeadObject of a delete marker by id", err, store.ErrMethodNotAllowed)
	e.mustGet("b", "k", v1.VersionID, []byte("one"))

	// A second delete stacks another marker.
	dm2 := e.del("b", "k", "")
	vs := e.versions("b", "")
	if len(vs) != 3 || vs[0].VersionID != dm2.VersionID || !vs[0].DeleteMarker || !vs[0].IsLatest ||
		vs[1].VersionID != dm.VersionID || vs[1].IsLatest || vs[2].VersionID != v1.VersionID {
		e.t.Fatalf("versions = %+v", vs)
	}
	// Removing the markers brings the object back.
	for _, id := range []string{dm2.VersionID, dm.VersionID} {
		if res := e.del("b", "k", id); !res.DeleteMarker || res.VersionID != id {
			e.t.Errorf("DeleteObject of marker %s = %+v", id, res)
		}
	}
	if got := e.mustGet("b", "k", "", []byte("one")); got.VersionID != v1.VersionID || !got.IsLatest {
		e.t.Errorf("after removing the markers: %+v", got)
	}
}

func testDeleteVersion(e *env) {
	e.mkbucket("b", store.Enabled)
	v1 := e.put("b", "k", data(1<<20, 1))
	v2 := e.put("b", "k", []byte("two"))
	v3 := e.put("b", "k", data(300<<10, 3))
	if res := e.del("b", "k", v3.VersionID); res.DeleteMarker || res.VersionID != v3.VersionID {
		e.t.Errorf("DeleteObject(v3) = %+v", res)
	}
	if got := e.mustGet("b", "k", "", []byte("two")); got.VersionID != v2.VersionID || !got.IsLatest {
		e.t.Errorf("after deleting the latest version: %+v", got)
	}
	_, _, err := e.get("b", "k", store.GetOptions{VersionID: v3.VersionID})
	wantErr(e.t, "GetObject of a deleted version", err, store.ErrNoSuchVersion)
	// Deleting a middle version leaves the latest alone.
	e.del("b", "k", v1.VersionID)
	if got := e.mustGet("b", "k", "", []byte("two")); got.VersionID != v2.VersionID {
		e.t.Errorf("after deleting an old version: %+v", got)
	}
	e.del("b", "k", v2.VersionID)
	e.absent("b", "k")
	if vs := e.versions("b", ""); len(vs) != 0 {
		e.t.Errorf("versions after deleting all = %+v", vs)
	}
	// Deleting a version that is gone succeeds.
	e.del("b", "k", v2.VersionID)
}

func testNoSuchVersion(e *env) {
	e.mkbucket("b", store.Enabled)
	v := e.put("b", "k", []byte("x"))
	e.put("b", "other", []byte("y"))
	e.del("b", "k", v.VersionID)
	e.put("b", "k", []byte("z"))
	_, _, err := e.get("b", "k", store.GetOptions{VersionID: v.VersionID})
	wantErr(e.t, "GetObject of a removed version", err, store.ErrNoSuchVersion)
	_, err = e.b.HeadObject(e.ctx, "b", "k", store.GetOptions{VersionID: store.NullVersion})
	wantErr(e.t, "HeadObject of a missing null version", err, store.ErrNoSuchVersion)
	other := e.versions("b", "other")[0].VersionID
	_, err = e.b.HeadObject(e.ctx, "b", "k", store.GetOptions{VersionID: other})
	wantErr(e.t, "HeadObject with another key's version id", err, store.ErrNoSuchVersion)
	_, err = e.b.HeadObject(e.ctx, "b", "k", store.GetOptions{VersionID: "not-a-version-id"})
	if !errors.Is(err, store.ErrNoSuchVersion) && !errors.Is(err, store.ErrInvalidVersionID) {
		e.t.Errorf("HeadObject with a malformed version id: %v, want ErrNoSuchVersion or ErrInvalidVersionID", err)
	}
}

func testNullAfterEnabling(e *env) {
	e.mkbucket("b", store.Unversioned)
	old := e.put("b", "k", []byte("old"))
	if old.VersionID != "" {
		e.t.Errorf("version id in an unversioned bucket = %q, want empty", old.VersionID)
	}
	e.mustGet("b", "k", store.NullVersion, []byte("old"))
	e.setVersioning("b", store.Enabled)
	if got := e.mustGet("b", "k", "", []byte("old")); got.VersionID != store.NullVersion {
		e.t.Errorf("unversioned object after enabling: version %q, want null", got.VersionID)
	}
	v2 := e.put("b", "k", []byte("new"))
	e.mustGet("b", "k", store.NullVersion, []byte("old"))
	vs := e.versions("b", "")
	if len(vs) != 2 || vs[0].VersionID != v2.VersionID || !vs[0].IsLatest || vs[1].VersionID != store.NullVersion || vs[1].IsLatest {
		e.t.Fatalf("versions = %+v", vs)
	}
	e.del("b", "k", store.NullVersion)
	if vs := e.versions("b", ""); len(vs) != 1 || vs[0].VersionID != v2.VersionID {
		e.t.Errorf("versions after deleting null = %+v", vs)
	}
}

func testSuspended(e *env) {
	e.mkbucket("b", store.Enabled)
	v1 := e.put("b", "k", []byte("one"))
	e.setVersioning("b", store.Suspended)
	n1 := e.put("b", "k", data(1<<20, 2))
	if n1.VersionID != store.NullVersion {
		e.t.Fatalf("put while suspended: version %q, want null", n1.VersionID)
	}
	n2 := e.put("b", "k", []byte("three"))
	if n2.VersionID != store.NullVersion {
		e.t.Fatalf("put while suspended: version %q, want null", n2.VersionID)
	}
	vs := e.versions("b", "")
	if len(vs) != 2 || vs[0].VersionID != store.NullVersion || vs[0].ETag != n2.ETag || vs[1].VersionID != v1.VersionID {
		e.t.Fatalf("versions after two null puts = %+v, want null (overwritten) and v1", vs)
	}
	e.mustGet("b", "k", store.NullVersion, []byte("three"))
	// A delete while suspended makes a null marker that replaces the null version.
	res := e.del("b", "k", "")
	if !res.DeleteMarker || res.VersionID != store.NullVersion {
		e.t.Errorf("delete while suspended = %+v, want a null delete marker", res)
	}
	e.absent("b", "k")
	vs = e.versions("b", "")
	if len(vs) != 2 || !vs[0].DeleteMarker || vs[0].VersionID != store.NullVersion || vs[1].VersionID != v1.VersionID {
		e.t.Fatalf("versions after delete = %+v", vs)
	}
	// The null version sits where it was written: a later enabled put
	// goes above it, and overwriting it later keeps v-ids stable.
	e.setVersioning("b", store.Enabled)
	v3 := e.put("b", "k", []byte("four"))
	e.setVersioning("b", store.Suspended)
	e.put("b", "k", []byte("five"))
	vs = e.versions("b", "")
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.VersionID)
	}
	if want := []string{store.NullVersion, v3.VersionID, v1.VersionID}; !slices.Equal(ids, want) {
		e.t.Errorf("version order = %q, want %q", ids, want)
	}
	e.mustGet("b", "k", "", []byte("five"))
}

// versionFixture writes several keys with versions and delete markers and
// returns the expected listing.
func (e *env) versionFixture() []store.ObjectInfo {
	e.mkbucket("b", store.Unversioned)
	e.put("b", "a", []byte("a-null"))
	e.setVersioning("b", store.Enabled)
	ops := []struct {
		key string
		del bool
	}{
		{"a", false}, {"b/1", false}, {"a", true}, {"b/1", false}, {"c", false},
		{"b/2", true}, {"a", false}, {"d/e/f", false}, {"c", true}, {"b/1", false},
	}
	for i, op := range ops {
		if op.del {
			e.del("b", op.key, "")
		} else {
			e.put("b", op.key, []byte(fmt.Sprint(i)))
		}
	}
	return e.versions("b", "")
}

func testListVersionsOrder(e *env) {
	vs := e.versionFixture()
	type row struct {
		key    string
		dm     bool
		latest bool
	}
	want := []row{
		{"a", false, true}, {"a", true, false}, {"a", false, false}, {"a", false, false},
		{"b/1", false, true}, {"b/1", false, false}, {"b/1", false, false},
		{"b/2", true, true},
		{"c", true, true}, {"c", false, false},
		{"d/e/f", false, true},
	}
	var got []row
	for _, v := range vs {
		got = append(got, row{v.Key, v.DeleteMarker, v.IsLatest})
	}
	if !slices.Equal(got, want) {
		e.t.Fatalf("ListObjectVersions = %v, want %v", got, want)
	}
	if vs[3].VersionID != store.NullVersion {
		e.t.Errorf("oldest version of a = %q, want null", vs[3].VersionID)
	}
	for i := 1; i < len(vs); i++ {
		if vs[i].Key == vs[i-1].Key && vs[i].LastModified.After(vs[i-1].LastModified) {
			e.t.Errorf("versions of %s not newest first: %v after %v", vs[i].Key, vs[i].LastModified, vs[i-1].LastModified)
		}
	}
}

func testListVersionsPaging(e *env) {
	all := e.versionFixture()
	for max := 1; max <= len(all)+1; max++ {
		o := store.ListVersionsOptions{MaxKeys: max}
		var got []store.ObjectInfo
		for page := 0; ; page++ {
			if page > len(all)+1 {
				e.t.Fatalf("paging with max %d does not end", max)
			}
			res, err := e.b.ListObjectVersions(e.ctx, "b", o)
			if err != nil {
				e.t.Fatal(err)
			}
			if len(res.Versions) > max {
				e.t.Fatalf("page of %d versions with max %d", len(res.Versions), max)
			}
			got = append(got, res.Versions...)
			if !res.IsTruncated {
				break
			}
			last := res.Versions[len(res.Versions)-1]
			if res.NextKeyMarker != last.Key || res.NextVersionIDMarker != last.VersionID {
				e.t.Fatalf("next markers %q %q, last version %s %s", res.NextKeyMarker, res.NextVersionIDMarker, last.Key, last.VersionID)
			}
			o.KeyMarker, o.VersionIDMarker = res.NextKeyMarker, res.NextVersionIDMarker
		}
		if len(got) != len(all) {
			e.t.Fatalf("paging with max %d: %d versions, want %d", max, len(got), len(all))
		}
		for i := range all {
			if got[i].Key != all[i].Key || got[i].VersionID != all[i].VersionID || got[i].IsLatest != all[i].IsLatest {
				e.t.Errorf("paging with max %d: version %d = %s@%s latest=%v, want %s@%s latest=%v", max, i,
					got[i].Key, got[i].VersionID, got[i].IsLatest, all[i].Key, all[i].VersionID, all[i].IsLatest)
			}
		}
	}
	// A key marker without a version marker starts after the key.
	res, err := e.b.ListObjectVersions(e.ctx, "b", store.ListVersionsOptions{KeyMarker: "b/1"})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res.Versions) == 0 || res.Versions[0].Key != "b/2" {
		e.t.Errorf("after key marker b/1: %+v", res.Versions)
	}
}

func testListVersionsDelimiter(e *env) {
	e.versionFixture()
	res, err := e.b.ListObjectVersions(e.ctx, "b", store.ListVersionsOptions{Delimiter: "/", MaxKeys: 5})
	if err != nil {
		e.t.Fatal(err)
	}
	// a (4 versions) and the prefix b/ fill the page.
	if len(res.Versions) != 4 || !slices.Equal(res.CommonPrefixes, []string{"b/"}) || !res.IsTruncated || res.NextKeyMarker != "b/" {
		e.t.Fatalf("first page = %d versions, prefixes %q, truncated %v, next %q", len(res.Versions), res.CommonPrefixes, res.IsTruncated, res.NextKeyMarker)
	}
	res, err = e.b.ListObjectVersions(e.ctx, "b", store.ListVersionsOptions{Delimiter: "/", KeyMarker: res.NextKeyMarker, VersionIDMarker: res.NextVersionIDMarker})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(res.Versions) != 2 || res.Versions[0].Key != "c" || !slices.Equal(res.CommonPrefixes, []string{"d/"}) || res.IsTruncated {
		e.t.Errorf("second page = %+v", res)
	}
}
