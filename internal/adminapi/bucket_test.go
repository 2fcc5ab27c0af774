package adminapi_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/adminapi"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// bucketStats is the part of RGW's bucket stats document the tests read.
type bucketStats struct {
	Bucket            string `json:"bucket"`
	Tenant            string `json:"tenant"`
	Owner             string `json:"owner"`
	ID                string `json:"id"`
	Versioned         bool   `json:"versioned"`
	VersioningEnabled bool   `json:"versioning_enabled"`
	Usage             map[string]struct {
		Size         int64 `json:"size"`
		SizeActual   int64 `json:"size_actual"`
		SizeKB       int64 `json:"size_kb"`
		SizeKBActual int64 `json:"size_kb_actual"`
		NumObjects   int64 `json:"num_objects"`
	} `json:"usage"`
}

// newBucketEnv is an admin API with bucket operations over a store that
// holds the same bucket name in three tenants (stored names "t:b"):
//
//	shared        bob        a (10 B)
//	acme:shared   acme$bob   x (5000 B), y (1 B)
//	acme:only     acme$ann   (empty)
//	beta:shared   beta$bob   versioned: k (3 B, 4 B) under a delete marker
func newBucketEnv(t *testing.T) *env {
	e, st := newEnvWith(t, func(st *local.Store) adminapi.Config { return adminapi.Config{Buckets: st} })
	ctx := context.Background()
	for _, b := range []store.Bucket{
		{Name: "shared", Owner: "bob"}, {Name: "acme:shared", Owner: "acme$bob"}, {Name: "acme:only", Owner: "acme$ann"},
		{Name: "beta:shared", Owner: "beta$bob", Versioning: store.Enabled},
	} {
		if err := st.CreateBucket(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range []struct {
		bucket, key string
		size        int
	}{{"shared", "a", 10}, {"acme:shared", "x", 5000}, {"acme:shared", "y", 1}, {"beta:shared", "k", 3}, {"beta:shared", "k", 4}} {
		if _, err := st.PutObject(ctx, o.bucket, o.key, strings.NewReader(strings.Repeat("z", o.size)),
			store.PutOptions{Size: int64(o.size)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.DeleteObject(ctx, "beta:shared", "k", store.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestBucketListPerTenant: radosgw-admin bucket list — all buckets
// ("tenant/bucket" for a tenant's), one tenant's or one user's (S3 names).
func TestBucketListPerTenant(t *testing.T) {
	e := newBucketEnv(t)
	for target, want := range map[string][]string{
		"/admin/bucket":                       {"acme/only", "acme/shared", "beta/shared", "shared"},
		"/admin/bucket?tenant=acme":           {"only", "shared"},
		"/admin/bucket?tenant=":               {"shared"},
		"/admin/bucket?tenant=nobody":         {},
		"/admin/bucket?uid=bob":               {"shared"},
		"/admin/bucket?uid=bob&tenant=beta":   {"shared"},
		"/admin/bucket?uid=acme%24ann":        {"only"},
		"/admin/bucket?uid=ann&tenant=acme":   {"only"},
		"/admin/bucket?uid=carol&tenant=acme": {},
	} {
		var got []string
		e.ok("GET", target, &got)
		if !slices.Equal(got, want) {
			t.Errorf("GET %s = %v, want %v", target, got, want)
		}
	}
	e.fails(rootKey, "GET", "/admin/bucket?tenant=no-dash", http.StatusBadRequest, "InvalidArgument")
	e.fails(rootKey, "GET", "/admin/bucket?uid=acme%24bob&tenant=beta", http.StatusBadRequest, "InvalidArgument")
	e.fails(bobKey, "GET", "/admin/bucket", http.StatusForbidden, "AccessDenied")
}

// TestBucketStatsPerTenant: radosgw-admin bucket stats shows the S3 name
// and the tenant, and sums the objects of that tenant's bucket only.
func TestBucketStatsPerTenant(t *testing.T) {
	e := newBucketEnv(t)
	for _, c := range []struct {
		target                string
		tenant, owner         string
		objects, size, actual int64
		versioned             bool
	}{
		{"/admin/bucket?bucket=shared", "", "bob", 1, 10, 4096, false},
		{"/admin/bucket?bucket=shared&tenant=acme", "acme", "acme$bob", 2, 5001, 8192 + 4096, false},
		{"/admin/bucket?bucket=acme/shared", "acme", "acme$bob", 2, 5001, 8192 + 4096, false},
		{"/admin/bucket?bucket=acme:shared&tenant=acme", "acme", "acme$bob", 2, 5001, 8192 + 4096, false},
		{"/admin/bucket?bucket=shared&tenant=beta", "beta", "beta$bob", 2, 7, 8192, true},
		{"/admin/bucket?bucket=only&tenant=acme", "acme", "acme$ann", 0, 0, 0, false},
	} {
		var got bucketStats
		e.ok("GET", c.target, &got)
		main := got.Usage["rgw.main"]
		name := "shared"
		if c.owner == "acme$ann" {
			name = "only"
		}
		if got.Bucket != name || got.Tenant != c.tenant || got.Owner != c.owner || main.NumObjects != c.objects || main.Size != c.size ||
			main.SizeActual != c.actual || main.SizeKB != (c.size+1023)/1024 || main.SizeKBActual != c.actual/1024 ||
			got.Versioned != c.versioned || got.VersioningEnabled != c.versioned || got.ID == "" {
			t.Errorf("GET %s = %+v", c.target, got)
		}
		if c.objects == 0 && len(got.Usage) != 0 {
			t.Errorf("GET %s: an empty bucket has usage %+v, want {} as RGW", c.target, got.Usage)
		}
	}
	var all []bucketStats
	e.ok("GET", "/admin/bucket?tenant=acme&stats=true", &all)
	if len(all) != 2 || all[0].Bucket != "only" || all[1].Bucket != "shared" || all[1].Usage["rgw.main"].NumObjects != 2 {
		t.Errorf("stats of tenant acme: %+v", all)
	}
	e.fails(rootKey, "GET", "/admin/bucket?bucket=nope&tenant=acme", http.StatusNotFound, "NoSuchBucket")
	e.fails(rootKey, "GET", "/admin/bucket?bucket=only", http.StatusNotFound, "NoSuchBucket") // acme's, not the default tenant's
	e.fails(rootKey, "GET", "/admin/bucket?bucket=acme/shared&tenant=beta", http.StatusBadRequest, "InvalidArgument")
	e.fails(rootKey, "DELETE", "/admin/bucket?bucket=shared", http.StatusNotImplemented, "NotImplemented")
	e.fails(opsKey, "GET", "/admin/bucket?bucket=shared", http.StatusForbidden, "AccessDenied") // users=read is not buckets=read
}

// TestUserStatsPerTenant: a user's stats sum the buckets that user owns,
// in its tenant only.
func TestUserStatsPerTenant(t *testing.T) {
	e := newBucketEnv(t)
	e.ok("PUT", "/admin/user?tenant=acme&uid=bob&display-name=B", nil)
	for target, want := range map[string][2]int64{
		"/admin/user?uid=bob&stats=true":             {1, 10},
		"/admin/user?uid=bob&tenant=acme&stats=true": {2, 5001},
		"/admin/user?uid=ops&stats":                  {0, 0},
	} {
		var u adminapi.UserInfo
		e.ok("GET", target, &u)
		if u.Stats == nil || u.Stats.NumObjects != want[0] || u.Stats.Size != want[1] {
			t.Errorf("GET %s: stats %+v, want %d objects, %d bytes", target, u.Stats, want[0], want[1])
		}
	}
	status, body := e.do(rootKey, "GET", "/admin/user?uid=bob")
	if status != http.StatusOK || strings.Contains(string(body), `"stats"`) {
		t.Errorf("user info without stats: %d %s", status, body)
	}
}
