package s3api

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestGetObjectAttributes(t *testing.T) {
	ts := newTestServer(t)
	c := ts.Client(userRoot)
	ctx := context.Background()
	ts.CreateBucket(t, c, "attrs")
	put := ts.PutObject(t, c, "attrs", "small", []byte("foo"))
	all := []types.ObjectAttributes{types.ObjectAttributesEtag, types.ObjectAttributesChecksum, types.ObjectAttributesObjectParts, types.ObjectAttributesStorageClass, types.ObjectAttributesObjectSize}

	got, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String("small"), ObjectAttributes: all})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(got.ETag) != trimQuotes(aws.ToString(put.ETag)) || aws.ToInt64(got.ObjectSize) != 3 || got.StorageClass != types.StorageClassStandard || got.ObjectParts != nil {
		t.Fatalf("small object attributes: ETag %q size %d class %q parts %v", aws.ToString(got.ETag), aws.ToInt64(got.ObjectSize), got.StorageClass, got.ObjectParts)
	}
	if got.Checksum == nil || aws.ToString(got.Checksum.ChecksumCRC32) == "" {
		t.Errorf("the SDK's default CRC32 is not reported: %+v", got.Checksum)
	}

	// A four-part object, paged two parts at a time after part 1.
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("attrs"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	var parts []types.CompletedPart
	for n := int32(1); n <= 4; n++ {
		p, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("attrs"), Key: aws.String("mp"), UploadId: up.UploadId, PartNumber: aws.Int32(n), Body: bytes.NewReader(make([]byte, 5<<20))})
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, types.CompletedPart{PartNumber: aws.Int32(n), ETag: p.ETag, ChecksumCRC32: p.ChecksumCRC32})
	}
	if _, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("attrs"), Key: aws.String("mp"), UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}}); err != nil {
		t.Fatal(err)
	}
	got, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String("mp"), ObjectAttributes: all, MaxParts: aws.Int32(2), PartNumberMarker: aws.String("1")})
	if err != nil {
		t.Fatal(err)
	}
	op := got.ObjectParts
	if op == nil || aws.ToInt32(op.TotalPartsCount) != 4 || len(op.Parts) != 2 || aws.ToInt32(op.Parts[0].PartNumber) != 2 ||
		!aws.ToBool(op.IsTruncated) || aws.ToString(op.NextPartNumberMarker) != "3" || aws.ToInt64(op.Parts[1].Size) != 5<<20 {
		t.Fatalf("parts page: %+v", op)
	}

	_, err = c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String("missing"), ObjectAttributes: all})
	wantErr(t, err, "NoSuchKey", 404)
	_, err = ts.Client(userAlt).GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("attrs"), Key: aws.String("small"), ObjectAttributes: all})
	wantErr(t, err, "AccessDenied", 403)
	resp := ts.Do(t, userRoot, "GET", "/attrs/small?attributes", nil, nil)
	if code := xmlCode(readAll(t, resp.Body)); resp.StatusCode != 400 || code != "InvalidArgument" {
		t.Fatalf("no attribute named: %d %s", resp.StatusCode, code)
	}
}

func trimQuotes(s string) string { return string(bytes.Trim([]byte(s), `"`)) }
