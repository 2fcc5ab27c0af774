package s3api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestCreateBucket(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "taken-by-root")

	tests := []struct {
		name   string
		client *s3.Client
		in     s3.CreateBucketInput
		code   string
		status int
	}{
		{name: "ok", client: ts.Root, in: s3.CreateBucketInput{Bucket: aws.String("fresh-bucket.1")}},
		{name: "default region constraint", client: ts.Root, in: s3.CreateBucketInput{
			Bucket:                    aws.String("with-constraint"),
			CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(testRegion)},
		}},
		{name: "canned acl", client: ts.Root, in: s3.CreateBucketInput{Bucket: aws.String("public-one"), ACL: types.BucketCannedACLPublicRead}},
		{name: "owned by you, same ACL", client: ts.Root, in: s3.CreateBucketInput{Bucket: aws.String("taken-by-root")}},
		{name: "owned by you, other ACL", client: ts.Root, in: s3.CreateBucketInput{Bucket: aws.String("taken-by-root"), ACL: types.BucketCannedACLPublicRead}, code: "BucketAlreadyExists", status: 409},
		{name: "owned by other", client: ts.Alt, in: s3.CreateBucketInput{Bucket: aws.String("taken-by-root")}, code: "BucketAlreadyExists", status: 409},
		{name: "other region", client: ts.Root, in: s3.CreateBucketInput{
			Bucket:                    aws.String("elsewhere"),
			CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraintEuWest1},
		}, code: "InvalidLocationConstraint", status: 400},
		{name: "anonymous", client: ts.AnonymousClient(), in: s3.CreateBucketInput{Bucket: aws.String("anon-bucket")}, code: "AccessDenied", status: 403},
	}
	for _, bad := range []string{"ab", strings.Repeat("a", 64), "Upper-case", "under_score", "-start", "end-", "a..b", "a-.b", "a.-b", "10.1.2.3", "xn--punycode"} {
		tests = append(tests, struct {
			name   string
			client *s3.Client
			in     s3.CreateBucketInput
			code   string
			status int
		}{name: "invalid " + bad, client: ts.Root, in: s3.CreateBucketInput{Bucket: aws.String(bad)}, code: "InvalidBucketName", status: 400})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.CreateBucket(ctx, &tt.in)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("CreateBucket: %v", err)
				}
				if _, err := tt.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: tt.in.Bucket}); err != nil {
					t.Fatalf("HeadBucket after create: %v", err)
				}
				return
			}
			wantErr(t, err, tt.code, tt.status)
		})
	}

	t.Run("raw", func(t *testing.T) {
		for _, tt := range []struct {
			name, path, body string
			header           http.Header
			code             string
			status           int
		}{
			{"bad canned acl", "/raw-acl", "", http.Header{"X-Amz-Acl": {"everyone"}}, "InvalidArgument", 400},
			{"malformed configuration", "/raw-xml", "<CreateBucketConfiguration><Location", nil, "MalformedXML", 400},
			{"wrong root element", "/raw-root", "<Foo/>", nil, "MalformedXML", 400},
			{"object lock", "/raw-lock", "", http.Header{"X-Amz-Bucket-Object-Lock-Enabled": {"true"}}, "", 200},
		} {
			t.Run(tt.name, func(t *testing.T) {
				resp := ts.Do(t, userRoot, http.MethodPut, tt.path, []byte(tt.body), tt.header)
				if body := readAll(t, resp.Body); resp.StatusCode != tt.status || xmlCode(body) != tt.code {
					t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, tt.status, tt.code)
				}
			})
		}
	})

	t.Run("public-read acl lets others list", func(t *testing.T) {
		if _, err := ts.Alt.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("public-one")}); err != nil {
			t.Fatalf("alt list of public-read bucket: %v", err)
		}
		_, err := ts.Alt.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("fresh-bucket.1")})
		wantErr(t, err, "AccessDenied", 403)
	})
}

func TestListBuckets(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	for _, b := range []string{"root-b", "root-a", "root-c"} {
		ts.CreateBucket(t, ts.Root, b)
	}
	ts.CreateBucket(t, ts.Alt, "alt-a")

	out, err := ts.Root.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := bucketNames(out.Buckets); got != "root-a,root-b,root-c" {
		t.Errorf("root's buckets = %s", got)
	}
	if out.Owner == nil || aws.ToString(out.Owner.ID) != userRoot.ID {
		t.Errorf("owner = %+v, want %s", out.Owner, userRoot.ID)
	}
	for _, b := range out.Buckets {
		if b.CreationDate == nil || b.CreationDate.IsZero() || aws.ToString(b.BucketRegion) != testRegion {
			t.Errorf("bucket %s: date %v region %q", aws.ToString(b.Name), b.CreationDate, aws.ToString(b.BucketRegion))
		}
	}

	alt, err := ts.Alt.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil || bucketNames(alt.Buckets) != "alt-a" {
		t.Errorf("alt's buckets = %v, %v", bucketNames(alt.Buckets), err)
	}

	t.Run("paginated", func(t *testing.T) {
		var names []string
		p := s3.NewListBucketsPaginator(ts.Root, &s3.ListBucketsInput{MaxBuckets: aws.Int32(2)})
		for i := 0; p.HasMorePages() && i < 10; i++ {
			page, err := p.NextPage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range page.Buckets {
				names = append(names, aws.ToString(b.Name))
			}
		}
		if got := strings.Join(names, ","); got != "root-a,root-b,root-c" {
			t.Errorf("paginated = %s", got)
		}
	})

	t.Run("prefix", func(t *testing.T) {
		out, err := ts.Root.ListBuckets(ctx, &s3.ListBucketsInput{Prefix: aws.String("root-b")})
		if err != nil || bucketNames(out.Buckets) != "root-b" {
			t.Errorf("prefix listing = %v, %v", bucketNames(out.Buckets), err)
		}
	})

	t.Run("anonymous", func(t *testing.T) {
		_, err := ts.AnonymousClient().ListBuckets(ctx, &s3.ListBucketsInput{})
		wantErr(t, err, "AccessDenied", 403)
	})
}

func bucketNames(bs []types.Bucket) string {
	names := make([]string, len(bs))
	for i, b := range bs {
		names[i] = aws.ToString(b.Name)
	}
	return strings.Join(names, ",")
}

func TestHeadAndDeleteBucket(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "hd-bucket")

	head, err := ts.Root.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("hd-bucket")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(head.BucketRegion) != testRegion {
		t.Errorf("x-amz-bucket-region = %q", aws.ToString(head.BucketRegion))
	}
	_, err = ts.Root.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("no-such-bucket")})
	wantErr(t, err, "", 404)
	_, err = ts.Alt.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("hd-bucket")})
	wantErr(t, err, "", 403)

	loc, err := ts.Root.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String("hd-bucket")})
	if err != nil || loc.LocationConstraint != "" {
		t.Errorf("location = %q, %v; want empty", loc.LocationConstraint, err)
	}

	putStoreObject(t, ts, "hd-bucket", "obj", "x")
	tests := []struct {
		name   string
		client *s3.Client
		bucket string
		code   string
		status int
	}{
		{"not empty", ts.Root, "hd-bucket", "BucketNotEmpty", 409},
		{"missing", ts.Root, "no-such-bucket", "NoSuchBucket", 404},
		{"not owner", ts.Alt, "hd-bucket", "AccessDenied", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(tt.bucket)})
			wantErr(t, err, tt.code, tt.status)
		})
	}
	if _, err := ts.Store.DeleteObject(ctx, "hd-bucket", "obj", storeDeleteLatest); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Root.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("hd-bucket")}); err != nil {
		t.Fatalf("delete empty bucket: %v", err)
	}
	_, err = ts.Root.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("hd-bucket")})
	wantErr(t, err, "", 404)
}

func TestBucketVersioningConfig(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "vc-bucket")
	get := func() types.BucketVersioningStatus {
		t.Helper()
		out, err := ts.Root.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String("vc-bucket")})
		if err != nil {
			t.Fatal(err)
		}
		return out.Status
	}
	if s := get(); s != "" {
		t.Fatalf("new bucket status = %q, want none", s)
	}
	for _, s := range []types.BucketVersioningStatus{types.BucketVersioningStatusEnabled, types.BucketVersioningStatusSuspended, types.BucketVersioningStatusEnabled} {
		_, err := ts.Root.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket: aws.String("vc-bucket"), VersioningConfiguration: &types.VersioningConfiguration{Status: s},
		})
		if err != nil {
			t.Fatalf("put %s: %v", s, err)
		}
		if got := get(); got != s {
			t.Fatalf("status = %q, want %q", got, s)
		}
	}
	for _, tt := range []struct {
		name, body, code string
		status           int
	}{
		{"bad status", `<VersioningConfiguration><Status>On</Status></VersioningConfiguration>`, "MalformedXML", 400},
		{"no status", `<VersioningConfiguration/>`, "MalformedXML", 400},
		{"not xml", `Enabled`, "MalformedXML", 400},
		{"mfa delete", `<VersioningConfiguration><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>`, "NotImplemented", 501},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := ts.Do(t, userRoot, http.MethodPut, "/vc-bucket?versioning", []byte(tt.body), nil)
			if body := readAll(t, resp.Body); resp.StatusCode != tt.status || xmlCode(body) != tt.code {
				t.Fatalf("got %d %s, want %d %s", resp.StatusCode, body, tt.status, tt.code)
			}
		})
	}
	if s := get(); s != types.BucketVersioningStatusEnabled {
		t.Fatalf("status after rejected puts = %q", s)
	}
}

func TestBucketTagging(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "tag-bucket")
	bucket := aws.String("tag-bucket")

	_, err := ts.Root.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: bucket})
	wantErr(t, err, "NoSuchTagSet", 404)

	tags := []types.Tag{{Key: aws.String("team"), Value: aws.String("storage")}, {Key: aws.String("empty"), Value: aws.String("")}}
	if _, err := ts.Root.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: bucket, Tagging: &types.Tagging{TagSet: tags}}); err != nil {
		t.Fatal(err)
	}
	out, err := ts.Root.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TagSet) != 2 || aws.ToString(out.TagSet[0].Key) != "team" || aws.ToString(out.TagSet[0].Value) != "storage" || aws.ToString(out.TagSet[1].Key) != "empty" {
		t.Fatalf("tags = %+v", out.TagSet)
	}

	many := make([]types.Tag, 51)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
	}
	for _, tt := range []struct {
		name string
		tags []types.Tag
	}{
		{"too many", many},
		{"duplicate", []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("a"), Value: aws.String("2")}}},
		{"long key", []types.Tag{{Key: aws.String(strings.Repeat("k", 129)), Value: aws.String("1")}}},
		{"long value", []types.Tag{{Key: aws.String("k"), Value: aws.String(strings.Repeat("v", 257))}}},
		{"aws prefix", []types.Tag{{Key: aws.String("aws:reserved"), Value: aws.String("1")}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ts.Root.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: bucket, Tagging: &types.Tagging{TagSet: tt.tags}})
			wantErr(t, err, "InvalidTag", 400)
		})
	}
	if _, err := ts.Root.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: bucket, Tagging: &types.Tagging{TagSet: many[:50]}}); err != nil {
		t.Fatalf("50 tags: %v", err)
	}

	if _, err := ts.Root.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	_, err = ts.Root.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: bucket})
	wantErr(t, err, "NoSuchTagSet", 404)
}

// TestBucketAccessDenied checks that a second user can neither configure
// nor read the first user's private bucket.
func TestBucketAccessDenied(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "private-bucket")
	b := aws.String("private-bucket")
	calls := map[string]func() error{
		"GetBucketLocation": func() error {
			_, err := ts.Alt.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: b})
			return err
		},
		"GetBucketVersioning": func() error {
			_, err := ts.Alt.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: b})
			return err
		},
		"PutBucketVersioning": func() error {
			_, err := ts.Alt.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
				VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}})
			return err
		},
		"GetBucketTagging": func() error {
			_, err := ts.Alt.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: b})
			return err
		},
		"PutBucketTagging": func() error {
			_, err := ts.Alt.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: b, Tagging: &types.Tagging{TagSet: []types.Tag{}}})
			return err
		},
		"DeleteBucketTagging": func() error {
			_, err := ts.Alt.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: b})
			return err
		},
		"DeleteBucket": func() error {
			_, err := ts.Alt.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b})
			return err
		},
		"ListObjects": func() error {
			_, err := ts.Alt.ListObjects(ctx, &s3.ListObjectsInput{Bucket: b})
			return err
		},
		"ListObjectsV2": func() error {
			_, err := ts.Alt.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b})
			return err
		},
		"ListObjectVersions": func() error {
			_, err := ts.Alt.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: b})
			return err
		},
		"ListMultipartUploads": func() error {
			_, err := ts.Alt.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: b})
			return err
		},
		"CreateMultipartUpload": func() error {
			_, err := ts.Alt.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: b, Key: aws.String("k")})
			return err
		},
		"AnonymousListObjectsV2": func() error {
			_, err := ts.AnonymousClient().ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) { wantErr(t, call(), "AccessDenied", 403) })
	}
}
