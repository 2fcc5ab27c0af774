package s3api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

func createLockedBucket(t *testing.T, c *s3.Client, name string) {
	t.Helper()
	_, err := c.CreateBucket(context.Background(), &s3.CreateBucketInput{
		Bucket: aws.String(name), ObjectLockEnabledForBucket: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("create locked bucket %s: %v", name, err)
	}
}

func lockConf(mode types.ObjectLockRetentionMode, days, years int32) *types.ObjectLockConfiguration {
	dr := &types.DefaultRetention{Mode: mode}
	if days != 0 {
		dr.Days = aws.Int32(days)
	}
	if years != 0 {
		dr.Years = aws.Int32(years)
	}
	return &types.ObjectLockConfiguration{
		ObjectLockEnabled: types.ObjectLockEnabledEnabled,
		Rule:              &types.ObjectLockRule{DefaultRetention: dr},
	}
}

func TestObjectLockConfiguration(t *testing.T) {
	ts := newTestServer(t)
	c, ctx := ts.Root, context.Background()
	createLockedBucket(t, c, "locked")

	v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("locked")})
	if err != nil || v.Status != types.BucketVersioningStatusEnabled {
		t.Fatalf("versioning of a locked bucket = %v, %v; want Enabled", v.Status, err)
	}
	_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String("locked"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusSuspended},
	})
	wantErr(t, err, "InvalidBucketState", 409)

	got, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String("locked")})
	if err != nil || got.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled || got.ObjectLockConfiguration.Rule != nil {
		t.Fatalf("configuration of a new locked bucket = %+v, %v", got.ObjectLockConfiguration, err)
	}

	for _, tt := range []struct {
		name   string
		conf   *types.ObjectLockConfiguration
		code   string
		status int
	}{
		{"days and years", lockConf(types.ObjectLockRetentionModeGovernance, 1, 1), "MalformedXML", 400},
		{"no period", lockConf(types.ObjectLockRetentionModeGovernance, 0, 0), "MalformedXML", 400},
		{"negative days", lockConf(types.ObjectLockRetentionModeGovernance, -1, 0), "InvalidRetentionPeriod", 400},
		{"negative years", lockConf(types.ObjectLockRetentionModeCompliance, 0, -1), "InvalidRetentionPeriod", 400},
		{"lower-case mode", lockConf("governance", 1, 0), "MalformedXML", 400},
		{"unknown mode", lockConf("abc", 1, 0), "MalformedXML", 400},
		{"disabled", &types.ObjectLockConfiguration{ObjectLockEnabled: "Disabled"}, "MalformedXML", 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
				Bucket: aws.String("locked"), ObjectLockConfiguration: tt.conf,
			})
			wantErr(t, err, tt.code, tt.status)
		})
	}

	want := lockConf(types.ObjectLockRetentionModeCompliance, 0, 2)
	if _, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
		Bucket: aws.String("locked"), ObjectLockConfiguration: want,
	}); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String("locked")})
	if err != nil {
		t.Fatal(err)
	}
	if dr := got.ObjectLockConfiguration.Rule.DefaultRetention; dr.Mode != types.ObjectLockRetentionModeCompliance || aws.ToInt32(dr.Years) != 2 || dr.Days != nil {
		t.Fatalf("default retention = %+v, want COMPLIANCE for 2 years", dr)
	}

	// A bucket created without object lock: no configuration, and one may
	// be added only while versioning is enabled.
	ts.CreateBucket(t, c, "plain")
	_, err = c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String("plain")})
	wantErr(t, err, "ObjectLockConfigurationNotFoundError", 404)
	put := &s3.PutObjectLockConfigurationInput{Bucket: aws.String("plain"), ObjectLockConfiguration: lockConf(types.ObjectLockRetentionModeGovernance, 1, 0)}
	_, err = c.PutObjectLockConfiguration(ctx, put)
	wantErr(t, err, "InvalidBucketState", 409)
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String("plain"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObjectLockConfiguration(ctx, put); err != nil {
		t.Fatalf("configuration after enabling versioning: %v", err)
	}

	// Only the owner may read or change the configuration.
	_, err = ts.Alt.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String("locked")})
	wantErr(t, err, "AccessDenied", 403)
}

func TestObjectLockNotEnabled(t *testing.T) {
	ts := newTestServer(t)
	c, ctx := ts.Root, context.Background()
	ts.CreateBucket(t, c, "plain")
	ts.PutObject(t, c, "plain", "k", []byte("x"))
	until := time.Now().Add(time.Hour)
	_, err := c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{
		Bucket: aws.String("plain"), Key: aws.String("k"),
		Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: &until},
	})
	wantErr(t, err, "InvalidRequest", 400)
	_, err = c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String("plain"), Key: aws.String("k")})
	wantErr(t, err, "InvalidRequest", 400)
	_, err = c.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{
		Bucket: aws.String("plain"), Key: aws.String("k"), LegalHold: &types.ObjectLockLegalHold{Status: types.ObjectLockLegalHoldStatusOn},
	})
	wantErr(t, err, "InvalidRequest", 400)
	_, err = c.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String("plain"), Key: aws.String("k")})
	wantErr(t, err, "InvalidRequest", 400)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("plain"), Key: aws.String("k"), Body: bytes.NewReader([]byte("x")),
		ObjectLockLegalHoldStatus: types.ObjectLockLegalHoldStatusOn,
	})
	wantErr(t, err, "InvalidRequest", 400)
}

func TestObjectLockRetention(t *testing.T) {
	ts := newTestServer(t)
	c, ctx := ts.Root, context.Background()
	createLockedBucket(t, c, "locked")
	v1 := ts.PutObject(t, c, "locked", "k", []byte("one"))

	_, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String("locked"), Key: aws.String("k")})
	wantErr(t, err, "NoSuchObjectLockConfiguration", 404)

	later := time.Date(2100, 1, 3, 0, 0, 0, 0, time.UTC)
	earlier := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	setRetention := func(mode types.ObjectLockRetentionMode, until time.Time, bypass bool) error {
		_, err := c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{
			Bucket: aws.String("locked"), Key: aws.String("k"), VersionId: v1.VersionId,
			Retention:                 &types.ObjectLockRetention{Mode: mode, RetainUntilDate: &until},
			BypassGovernanceRetention: aws.Bool(bypass),
		})
		return err
	}
	if err := setRetention(types.ObjectLockRetentionModeGovernance, earlier, false); err != nil {
		t.Fatal(err)
	}
	if err := setRetention(types.ObjectLockRetentionModeGovernance, later, false); err != nil {
		t.Fatalf("extending governance retention: %v", err)
	}
	wantErr(t, setRetention(types.ObjectLockRetentionModeGovernance, earlier, false), "AccessDenied", 403)
	wantErr(t, setRetention(types.ObjectLockRetentionModeCompliance, later, false), "AccessDenied", 403)
	wantErr(t, setRetention("governance", later, false), "MalformedXML", 400)
	wantErr(t, setRetention(types.ObjectLockRetentionModeGovernance, time.Now().Add(-time.Hour), true), "InvalidArgument", 400)
	if err := setRetention(types.ObjectLockRetentionModeGovernance, earlier, true); err != nil {
		t.Fatalf("shortening governance retention with bypass: %v", err)
	}
	r, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String("locked"), Key: aws.String("k")})
	if err != nil || r.Retention.Mode != types.ObjectLockRetentionModeGovernance || !r.Retention.RetainUntilDate.Equal(earlier) {
		t.Fatalf("GetObjectRetention = %+v, %v; want GOVERNANCE until %v", r.Retention, err, earlier)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("locked"), Key: aws.String("k")})
	if err != nil || head.ObjectLockMode != types.ObjectLockModeGovernance || !aws.ToTime(head.ObjectLockRetainUntilDate).Equal(earlier) {
		t.Fatalf("HeadObject lock = %v %v, %v", head.ObjectLockMode, head.ObjectLockRetainUntilDate, err)
	}

	// Deleting the version needs the bypass; deleting the key only adds a marker.
	del := func(versionID *string, bypass bool) (*s3.DeleteObjectOutput, error) {
		return c.DeleteObject(ctx, &s3.DeleteObjectInput{
			Bucket: aws.String("locked"), Key: aws.String("k"), VersionId: versionID, BypassGovernanceRetention: aws.Bool(bypass),
		})
	}
	_, err = del(v1.VersionId, false)
	wantErr(t, err, "AccessDenied", 403)
	dm, err := del(nil, false)
	if err != nil || !aws.ToBool(dm.DeleteMarker) {
		t.Fatalf("delete without version id = %+v, %v; want a delete marker", dm, err)
	}
	if _, err := del(v1.VersionId, true); err != nil {
		t.Fatalf("delete with governance bypass: %v", err)
	}

	// COMPLIANCE yields to nothing while it lasts.
	until := time.Now().Add(time.Hour).UTC()
	v2, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("locked"), Key: aws.String("k"), Body: bytes.NewReader([]byte("two")),
		ObjectLockMode: types.ObjectLockModeCompliance, ObjectLockRetainUntilDate: &until,
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = del(v2.VersionId, true)
	wantErr(t, err, "AccessDenied", 403)
	_, err = c.PutObjectRetention(ctx, &s3.PutObjectRetentionInput{
		Bucket: aws.String("locked"), Key: aws.String("k"), BypassGovernanceRetention: aws.Bool(true),
		Retention: &types.ObjectLockRetention{Mode: types.ObjectLockRetentionModeGovernance, RetainUntilDate: &until},
	})
	wantErr(t, err, "AccessDenied", 403)

	// Lock headers must come in pairs and name a known mode.
	for name, in := range map[string]*s3.PutObjectInput{
		"mode without date": {ObjectLockMode: types.ObjectLockModeGovernance},
		"date without mode": {ObjectLockRetainUntilDate: &until},
		"unknown mode":      {ObjectLockMode: "abc", ObjectLockRetainUntilDate: &until},
		"bad legal hold":    {ObjectLockLegalHoldStatus: "abc"},
	} {
		in.Bucket, in.Key, in.Body = aws.String("locked"), aws.String("bad"), bytes.NewReader(nil)
		_, err := c.PutObject(ctx, in)
		t.Run(name, func(t *testing.T) { wantErr(t, err, "InvalidArgument", 400) })
	}
}

func TestObjectLockLegalHold(t *testing.T) {
	ts := newTestServer(t)
	c, ctx := ts.Root, context.Background()
	createLockedBucket(t, c, "locked")
	v := ts.PutObject(t, c, "locked", "k", []byte("x"))

	_, err := c.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String("locked"), Key: aws.String("k")})
	wantErr(t, err, "NoSuchObjectLockConfiguration", 404)
	hold := func(s types.ObjectLockLegalHoldStatus) error {
		_, err := c.PutObjectLegalHold(ctx, &s3.PutObjectLegalHoldInput{
			Bucket: aws.String("locked"), Key: aws.String("k"), LegalHold: &types.ObjectLockLegalHold{Status: s},
		})
		return err
	}
	wantErr(t, hold("abc"), "MalformedXML", 400)
	if err := hold(types.ObjectLockLegalHoldStatusOn); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObjectLegalHold(ctx, &s3.GetObjectLegalHoldInput{Bucket: aws.String("locked"), Key: aws.String("k")})
	if err != nil || got.LegalHold.Status != types.ObjectLockLegalHoldStatusOn {
		t.Fatalf("GetObjectLegalHold = %+v, %v", got.LegalHold, err)
	}
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket: aws.String("locked"), Key: aws.String("k"), VersionId: v.VersionId, BypassGovernanceRetention: aws.Bool(true),
	})
	wantErr(t, err, "AccessDenied", 403)

	// DeleteObjects reports the held version and deletes the others.
	other := ts.PutObject(t, c, "locked", "other", []byte("y"))
	out, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("locked"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
		{Key: aws.String("k"), VersionId: v.VersionId},
		{Key: aws.String("other"), VersionId: other.VersionId},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "AccessDenied" || aws.ToString(out.Errors[0].VersionId) != aws.ToString(v.VersionId) ||
		len(out.Deleted) != 1 || aws.ToString(out.Deleted[0].Key) != "other" {
		t.Fatalf("DeleteObjects = deleted %+v, errors %+v", out.Deleted, out.Errors)
	}

	if err := hold(types.ObjectLockLegalHoldStatusOff); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("locked"), Key: aws.String("k"), VersionId: v.VersionId}); err != nil {
		t.Fatalf("delete after the hold was lifted: %v", err)
	}
}

// TestObjectLockDefaultRetention: new versions (PUT, multipart, copy) get
// the bucket's default retention; copies do not inherit the source's lock.
func TestObjectLockDefaultRetention(t *testing.T) {
	ts := newTestServer(t)
	c, ctx := ts.Root, context.Background()
	createLockedBucket(t, c, "locked")
	if _, err := c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{
		Bucket: aws.String("locked"), ObjectLockConfiguration: lockConf(types.ObjectLockRetentionModeGovernance, 1, 0),
	}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	ts.PutObject(t, c, "locked", "put", []byte("x"))
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("locked"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := c.UploadPart(ctx, &s3.UploadPartInput{
		Bucket: aws.String("locked"), Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("abc")),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("locked"), Key: aws.String("mp"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("locked"), Key: aws.String("copy"), CopySource: aws.String("locked/put")}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"put", "mp", "copy"} {
		r, err := c.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: aws.String("locked"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		want := start.AddDate(0, 0, 1)
		if d := r.Retention.RetainUntilDate.Sub(want); r.Retention.Mode != types.ObjectLockRetentionModeGovernance || d < -time.Second || d > time.Minute {
			t.Errorf("%s: retention %v until %v, want GOVERNANCE until about %v", key, r.Retention.Mode, r.Retention.RetainUntilDate, want)
		}
	}

	// A copy into a bucket without object lock carries no lock.
	ts.CreateBucket(t, c, "plain")
	if _, err := c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("plain"), Key: aws.String("copy"), CopySource: aws.String("locked/put")}); err != nil {
		t.Fatal(err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("plain"), Key: aws.String("copy")})
	if err != nil || head.ObjectLockMode != "" || head.ObjectLockRetainUntilDate != nil {
		t.Fatalf("copy into a plain bucket: lock %q %v, %v", head.ObjectLockMode, head.ObjectLockRetainUntilDate, err)
	}
	if _, err := c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("plain"), Key: aws.String("copy")}); err != nil {
		t.Fatal(err)
	}
}

// TestObjectLockDocumentNeedsChecksum: S3 refuses lock documents without a
// Content-MD5 or checksum.
func TestObjectLockDocumentNeedsChecksum(t *testing.T) {
	ts := newTestServer(t)
	createLockedBucket(t, ts.Root, "locked")
	body := []byte(`<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>`)
	resp := ts.Do(t, userRoot, http.MethodPut, "/locked?object-lock", body, nil)
	if b := readAll(t, resp.Body); resp.StatusCode != 400 || xmlCode(b) != "InvalidRequest" {
		t.Fatalf("got %d %s, want 400 InvalidRequest", resp.StatusCode, b)
	}
}

func TestCheckRetentionChange(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	gov := store.Metadata{LockMode: lockGovernance, LockRetainUntil: now.Add(day)}
	comp := store.Metadata{LockMode: lockCompliance, LockRetainUntil: now.Add(day)}
	expired := store.Metadata{LockMode: lockCompliance, LockRetainUntil: now.Add(-day)}
	for _, tt := range []struct {
		name   string
		cur    store.Metadata
		mode   string
		until  time.Time
		bypass bool
		ok     bool
	}{
		{"none", store.Metadata{}, lockCompliance, now.Add(day), false, true},
		{"governance extend", gov, lockGovernance, now.Add(2 * day), false, true},
		{"governance shorten", gov, lockGovernance, now.Add(day / 2), false, false},
		{"governance shorten bypass", gov, lockGovernance, now.Add(day / 2), true, true},
		{"governance to compliance", gov, lockCompliance, now.Add(day), false, false},
		{"governance remove bypass", gov, "", time.Time{}, true, true},
		{"compliance extend", comp, lockCompliance, now.Add(2 * day), false, true},
		{"compliance shorten bypass", comp, lockCompliance, now.Add(day / 2), true, false},
		{"compliance to governance bypass", comp, lockGovernance, now.Add(2 * day), true, false},
		{"compliance remove bypass", comp, "", time.Time{}, true, false},
		{"expired compliance", expired, lockGovernance, now.Add(day), false, true},
	} {
		err := checkRetentionChange(tt.cur, tt.mode, tt.until, tt.bypass, now)
		if (err == nil) != tt.ok || err != nil && !errors.Is(err, s3err.AccessDenied) {
			t.Errorf("%s: err = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}
