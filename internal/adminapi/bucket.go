package adminapi

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// BucketLister is what the bucket operations read (implemented by the
// store): bucket records, and every version of a bucket's objects to sum
// its usage.
type BucketLister interface {
	ListBuckets(ctx context.Context) ([]store.Bucket, error)
	GetBucket(ctx context.Context, name string) (store.Bucket, error)
	ListObjectVersions(ctx context.Context, bucket string, opts store.ListVersionsOptions) (store.ListVersionsResult, error)
}

// objectLockConfigKey is the bucket configuration document the S3 adapter
// keeps while object lock is enabled (s3api's objectLockConfigKey).
const objectLockConfigKey = "object-lock"

// maxUsagePages bounds the listing pages summed for one bucket's usage
// (a billion versions at the store's 1,000 per page).
const maxUsagePages = 1 << 20

// bucketDoc is RGW's bucket stats document (radosgw-admin bucket stats,
// GET /admin/bucket?bucket=B), with the fields Cairn has no notion of at
// RGW's values for a single-shard bucket in the default placement.
type bucketDoc struct {
	Bucket            string                  `json:"bucket"`
	NumShards         int                     `json:"num_shards"`
	Tenant            string                  `json:"tenant"`
	Zonegroup         string                  `json:"zonegroup"`
	PlacementRule     string                  `json:"placement_rule"`
	ExplicitPlacement explicitPlacementDoc    `json:"explicit_placement"`
	ID                string                  `json:"id"`
	Marker            string                  `json:"marker"`
	IndexType         string                  `json:"index_type"`
	Versioned         bool                    `json:"versioned"`
	VersioningEnabled bool                    `json:"versioning_enabled"`
	ObjectLockEnabled bool                    `json:"object_lock_enabled"`
	Owner             string                  `json:"owner"`
	Ver               string                  `json:"ver"`
	MasterVer         string                  `json:"master_ver"`
	Mtime             string                  `json:"mtime"`
	CreationTime      string                  `json:"creation_time"`
	MaxMarker         string                  `json:"max_marker"`
	Usage             map[string]StorageStats `json:"usage"`
	BucketQuota       Quota                   `json:"bucket_quota"`
}

type explicitPlacementDoc struct {
	DataPool      string `json:"data_pool"`
	DataExtraPool string `json:"data_extra_pool"`
	IndexPool     string `json:"index_pool"`
}

// StorageStats is RGW's storage stats document: one category of a
// bucket's usage ("rgw.main": object versions), or a user's total (user
// stats). RGW rounds the actual size of each entry up to 4 KiB.
type StorageStats struct {
	Size           int64 `json:"size"`
	SizeActual     int64 `json:"size_actual"`
	SizeUtilized   int64 `json:"size_utilized"`
	SizeKB         int64 `json:"size_kb"`
	SizeKBActual   int64 `json:"size_kb_actual"`
	SizeKBUtilized int64 `json:"size_kb_utilized"`
	NumObjects     int64 `json:"num_objects"`
}

func (u *StorageStats) add(size int64) {
	u.merge(StorageStats{NumObjects: 1, Size: size, SizeActual: (size + 4095) &^ 4095})
}

// merge adds o's objects and sizes to u.
func (u *StorageStats) merge(o StorageStats) {
	u.NumObjects += o.NumObjects
	u.Size += o.Size
	u.SizeActual += o.SizeActual
	u.SizeUtilized = u.Size
	u.SizeKB, u.SizeKBActual, u.SizeKBUtilized = kb(u.Size), kb(u.SizeActual), kb(u.SizeUtilized)
}

func kb(n int64) int64 { return (n + 1023) / 1024 }

func (a *API) bucketLister() (BucketLister, error) {
	if a.buckets == nil {
		return nil, errNotImplemented
	}
	return a.buckets, nil
}

// bucketParam is the stored name of the bucket a request names: bucket=B
// in tenant=T, or RGW's qualified spellings "T/B" and "T:B".
func bucketParam(q query) (string, error) {
	b := q.Get("bucket")
	if b == "" {
		return "", errInvalidArgument.with(errors.New("bucket is required"))
	}
	t := q.Get("tenant")
	if bt, name, ok := strings.Cut(b, "/"); ok {
		b = tenant.Bucket(bt, name)
	}
	if bt := tenant.OfBucket(b); strings.Contains(b, ":") {
		if t != "" && bt != t {
			return "", errInvalidArgument.with(fmt.Errorf("bucket %q is not in tenant %q", q.Get("bucket"), t))
		}
		t = bt
	}
	if err := tenant.Validate(t); err != nil {
		return "", errInvalidArgument.with(err)
	}
	return tenant.Bucket(t, tenant.BucketName(b)), nil
}

// selectBuckets returns the buckets a listing asks for: a user's
// (uid=U[&tenant=T]), a tenant's (tenant=T, "" for the default tenant),
// or all.
func (a *API) selectBuckets(ctx context.Context, bl BucketLister, q query) ([]store.Bucket, error) {
	all, err := bl.ListBuckets(ctx)
	if err != nil {
		return nil, err
	}
	keep := func(store.Bucket) bool { return true }
	switch {
	case q.Get("uid") != "":
		owner, err := q.uid()
		if err != nil {
			return nil, err
		}
		keep = func(b store.Bucket) bool { return b.Owner == owner }
	case q.Has("tenant"):
		t := q.Get("tenant")
		if err := tenant.Validate(t); err != nil {
			return nil, errInvalidArgument.with(err)
		}
		keep = func(b store.Bucket) bool { return tenant.OfBucket(b.Name) == t }
	}
	out := all[:0]
	for _, b := range all {
		if keep(b) {
			out = append(out, b)
		}
	}
	return out, nil
}

// getBucket: GET /admin/bucket?bucket=B[&tenant=T] → the bucket's stats;
// without bucket, the names of the buckets selected (see selectBuckets),
// or with stats=true their stats. Names of one tenant's (or one user's)
// buckets are S3 names; a listing of all buckets names another tenant's
// bucket "tenant/bucket", as RGW's metadata keys do.
func (a *API) getBucket(ctx context.Context, q query) (any, error) {
	bl, err := a.bucketLister()
	if err != nil {
		return nil, err
	}
	if q.Has("bucket") {
		name, err := bucketParam(q)
		if err != nil {
			return nil, err
		}
		b, err := bl.GetBucket(ctx, name)
		if errors.Is(err, store.ErrNoSuchBucket) {
			return nil, errNoSuchBucket.with(fmt.Errorf("bucket %q", q.Get("bucket")))
		}
		if err != nil {
			return nil, err
		}
		return a.bucketStats(ctx, bl, b)
	}
	buckets, err := a.selectBuckets(ctx, bl, q)
	if err != nil {
		return nil, err
	}
	stats, _, err := q.boolean("stats")
	if err != nil {
		return nil, err
	}
	if stats {
		docs := make([]bucketDoc, 0, len(buckets))
		for _, b := range buckets {
			d, err := a.bucketStats(ctx, bl, b)
			if err != nil {
				return nil, err
			}
			docs = append(docs, d)
		}
		return docs, nil
	}
	qualify := q.Get("uid") == "" && !q.Has("tenant")
	names := make([]string, 0, len(buckets))
	for _, b := range buckets {
		t, n := tenant.SplitBucket(b.Name)
		if qualify && t != "" {
			n = t + "/" + n
		}
		names = append(names, n)
	}
	return names, nil
}

// bucketStats is RGW's document of a bucket, with its usage.
func (a *API) bucketStats(ctx context.Context, bl BucketLister, b store.Bucket) (bucketDoc, error) {
	main, err := bucketUsage(ctx, bl, b.Name)
	if err != nil {
		return bucketDoc{}, err
	}
	usage := map[string]StorageStats{}
	if main.NumObjects > 0 {
		usage["rgw.main"] = main
	}
	t, name := tenant.SplitBucket(b.Name)
	_, lock := b.Config[objectLockConfigKey]
	id := notify.BucketID(&b)
	created := b.Created.UTC().Format("2006-01-02T15:04:05.000000Z")
	return bucketDoc{
		Bucket: name, Tenant: t, Zonegroup: a.zonegroup(), PlacementRule: "default-placement",
		ID: id, Marker: id, IndexType: "Normal",
		Versioned: b.Versioning != store.Unversioned, VersioningEnabled: b.Versioning == store.Enabled, ObjectLockEnabled: lock,
		Owner: b.Owner, Ver: "0#1", MasterVer: "0#0", Mtime: created, CreationTime: created, MaxMarker: "0#",
		Usage: usage, BucketQuota: noQuota,
	}, nil
}

// bucketUsage sums a bucket's object versions (delete markers are not
// objects).
func bucketUsage(ctx context.Context, bl BucketLister, bucket string) (StorageStats, error) {
	var u StorageStats
	opts := store.ListVersionsOptions{MaxKeys: 1000}
	for range maxUsagePages {
		page, err := bl.ListObjectVersions(ctx, bucket, opts)
		if err != nil {
			return StorageStats{}, err
		}
		for _, v := range page.Versions {
			if !v.DeleteMarker {
				u.add(v.Size)
			}
		}
		if !page.IsTruncated {
			break
		}
		opts.KeyMarker, opts.VersionIDMarker = page.NextKeyMarker, page.NextVersionIDMarker
	}
	return u, nil
}

// userUsage sums the usage of the buckets a user owns (radosgw-admin user
// stats).
func (a *API) userUsage(ctx context.Context, userID string) (StorageStats, error) {
	var total StorageStats
	bl, err := a.bucketLister()
	if err != nil {
		return total, err
	}
	buckets, err := bl.ListBuckets(ctx)
	if err != nil {
		return total, err
	}
	for _, b := range buckets {
		if b.Owner != userID {
			continue
		}
		u, err := bucketUsage(ctx, bl, b.Name)
		if errors.Is(err, store.ErrNoSuchBucket) {
			continue // removed meanwhile
		}
		if err != nil {
			return total, err
		}
		total.merge(u)
	}
	return total, nil
}

// zonegroup is the zonegroup documents name: the notifications' (the
// one Cairn has a setting for), else RGW's default.
func (a *API) zonegroup() string {
	if a.notify != nil && a.notify.Dispatcher != nil {
		return a.notify.Dispatcher.Options().Zonegroup
	}
	return "default"
}
