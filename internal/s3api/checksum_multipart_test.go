package s3api

// Multipart checksums end to end (issue 9, items 8 and 9), driven with
// aws-sdk-go-v2, which validates the checksums GET returns. Expected values
// are computed here from the data with the standard library, never with
// the server's code.

import (
	"bytes"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"hash/crc64"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/minio/minio-go/v7"
	miniocreds "github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/cairn-s3/cairn/internal/store"
)

// crc64NVMETable is CRC-64/NVME: polynomial 0xAD93D23594C93659, reflected.
var crc64NVMETable = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// sumOf returns algo's raw checksum of b.
func sumOf(algo types.ChecksumAlgorithm, b []byte) []byte {
	switch algo {
	case types.ChecksumAlgorithmCrc32:
		return binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(b))
	case types.ChecksumAlgorithmCrc32c:
		return binary.BigEndian.AppendUint32(nil, crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
	case types.ChecksumAlgorithmCrc64nvme:
		return binary.BigEndian.AppendUint64(nil, crc64.Checksum(b, crc64NVMETable))
	case types.ChecksumAlgorithmSha1:
		s := sha1.Sum(b)
		return s[:]
	case types.ChecksumAlgorithmSha256:
		s := sha256.Sum256(b)
		return s[:]
	}
	panic("unknown algorithm " + algo)
}

func enc64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// compositeOf is S3's COMPOSITE checksum of parts: algo's checksum of the
// concatenated raw part checksums, then "-N".
func compositeOf(algo types.ChecksumAlgorithm, parts ...[]byte) string {
	var cat []byte
	for _, p := range parts {
		cat = append(cat, sumOf(algo, p)...)
	}
	return fmt.Sprintf("%s-%d", enc64(sumOf(algo, cat)), len(parts))
}

// pick returns the field of algo among an SDK shape's checksum fields.
func pick(algo types.ChecksumAlgorithm, crc32, crc32c, crc64nvme, sha1, sha256 *string) string {
	return aws.ToString(map[types.ChecksumAlgorithm]*string{
		types.ChecksumAlgorithmCrc32: crc32, types.ChecksumAlgorithmCrc32c: crc32c, types.ChecksumAlgorithmCrc64nvme: crc64nvme,
		types.ChecksumAlgorithmSha1: sha1, types.ChecksumAlgorithmSha256: sha256,
	}[algo])
}

// listedPart is a CompletedPart naming value as its algo checksum.
func listedPart(n int32, etag *string, algo types.ChecksumAlgorithm, value string) types.CompletedPart {
	p := types.CompletedPart{PartNumber: aws.Int32(n), ETag: etag}
	v := aws.String(value)
	switch algo {
	case types.ChecksumAlgorithmCrc32:
		p.ChecksumCRC32 = v
	case types.ChecksumAlgorithmCrc32c:
		p.ChecksumCRC32C = v
	case types.ChecksumAlgorithmCrc64nvme:
		p.ChecksumCRC64NVME = v
	case types.ChecksumAlgorithmSha1:
		p.ChecksumSHA1 = v
	case types.ChecksumAlgorithmSha256:
		p.ChecksumSHA256 = v
	}
	return p
}

// withObjectChecksum sets the x-amz-checksum-<algo> header of a Complete.
func withObjectChecksum(in *s3.CompleteMultipartUploadInput, algo types.ChecksumAlgorithm, value string) {
	v := aws.String(value)
	switch algo {
	case types.ChecksumAlgorithmCrc32:
		in.ChecksumCRC32 = v
	case types.ChecksumAlgorithmCrc32c:
		in.ChecksumCRC32C = v
	case types.ChecksumAlgorithmCrc64nvme:
		in.ChecksumCRC64NVME = v
	case types.ChecksumAlgorithmSha1:
		in.ChecksumSHA1 = v
	case types.ChecksumAlgorithmSha256:
		in.ChecksumSHA256 = v
	}
}

// checksumUpload creates an upload with algo (and typ, if set) and sends
// the bodies as parts, the SDK computing each part's algo checksum, which
// the server must echo.
func checksumUpload(t *testing.T, c *s3.Client, bucket, key string, algo types.ChecksumAlgorithm, typ types.ChecksumType, bodies ...[]byte) (*string, []types.CompletedPart) {
	t.Helper()
	ctx := context.Background()
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket: aws.String(bucket), Key: aws.String(key), ChecksumAlgorithm: algo, ChecksumType: typ,
	})
	if err != nil {
		t.Fatalf("create upload: %v", err)
	}
	var parts []types.CompletedPart
	for i, body := range bodies {
		out, err := c.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId, PartNumber: aws.Int32(int32(i + 1)),
			Body: bytes.NewReader(body), ChecksumAlgorithm: algo,
		})
		if err != nil {
			t.Fatalf("upload part %d: %v", i+1, err)
		}
		got := pick(algo, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256)
		if want := enc64(sumOf(algo, body)); got != want {
			t.Fatalf("part %d %s = %q, want %q", i+1, algo, got, want)
		}
		parts = append(parts, listedPart(int32(i+1), out.ETag, algo, got))
	}
	return up.UploadId, parts
}

func TestMultipartChecksums(t *testing.T) {
	ts := newTestServer(t)
	c := ts.Root
	ts.CreateBucket(t, c, "cksum")
	tests := []struct {
		name    string
		algo    types.ChecksumAlgorithm
		typ     types.ChecksumType // asked for on CreateMultipartUpload
		want    types.ChecksumType
		claim   bool // send the object's checksum on Complete, as mc and boto3 do
		bodies  [][]byte
		expects func(bodies [][]byte) string
	}{
		{"CRC32 composite by default", types.ChecksumAlgorithmCrc32, "", types.ChecksumTypeComposite, false,
			[][]byte{randomBody(11, 5<<20+1), randomBody(12, 1000)}, nil},
		{"CRC32C full object", types.ChecksumAlgorithmCrc32c, types.ChecksumTypeFullObject, types.ChecksumTypeFullObject, true,
			[][]byte{randomBody(21, 5<<20), randomBody(22, 5<<20+3), randomBody(23, 777)}, nil},
		{"CRC64NVME full object by default", types.ChecksumAlgorithmCrc64nvme, "", types.ChecksumTypeFullObject, true,
			[][]byte{randomBody(31, 5<<20+5), randomBody(32, 4321)}, nil},
		{"SHA256 composite", types.ChecksumAlgorithmSha256, types.ChecksumTypeComposite, types.ChecksumTypeComposite, true,
			[][]byte{randomBody(41, 5<<20), randomBody(42, 10)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := "obj-" + string(tt.algo)
			var want string
			if tt.want == types.ChecksumTypeComposite {
				want = compositeOf(tt.algo, tt.bodies...)
			} else {
				want = enc64(sumOf(tt.algo, bytes.Join(tt.bodies, nil)))
			}
			uploadID, parts := checksumUpload(t, c, "cksum", key, tt.algo, tt.typ, tt.bodies...)
			in := &s3.CompleteMultipartUploadInput{
				Bucket: aws.String("cksum"), Key: aws.String(key), UploadId: uploadID,
				MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
			}
			if tt.claim {
				withObjectChecksum(in, tt.algo, want)
				in.ChecksumType = tt.want
			}
			out, err := c.CompleteMultipartUpload(context.Background(), in)
			if err != nil {
				t.Fatalf("complete: %v", err)
			}
			got := pick(tt.algo, out.ChecksumCRC32, out.ChecksumCRC32C, out.ChecksumCRC64NVME, out.ChecksumSHA1, out.ChecksumSHA256)
			if got != want || out.ChecksumType != tt.want {
				t.Fatalf("complete: %s %q %s, want %q %s", tt.algo, got, out.ChecksumType, want, tt.want)
			}
			checkChecksumReads(t, c, "cksum", key, tt.algo, tt.want, want, tt.bodies)
		})
	}
}

// checkChecksumReads reads back a multipart object with checksum mode:
// HEAD, GET (the SDK checks a full-object value against the body), GET of
// each part (checked against the part), a range (no checksum), the
// object's attributes and its listing entry.
func checkChecksumReads(t *testing.T, c *s3.Client, bucket, key string, algo types.ChecksumAlgorithm, typ types.ChecksumType, want string, bodies [][]byte) {
	t.Helper()
	ctx := context.Background()
	b, k := aws.String(bucket), aws.String(key)
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if got := pick(algo, head.ChecksumCRC32, head.ChecksumCRC32C, head.ChecksumCRC64NVME, head.ChecksumSHA1, head.ChecksumSHA256); got != want || head.ChecksumType != typ {
		t.Errorf("HEAD: %q %s, want %q %s", got, head.ChecksumType, want, typ)
	}
	if plain, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: b, Key: k}); err != nil || plain.ChecksumType != "" ||
		pick(algo, plain.ChecksumCRC32, plain.ChecksumCRC32C, plain.ChecksumCRC64NVME, plain.ChecksumSHA1, plain.ChecksumSHA256) != "" {
		t.Errorf("HEAD without checksum mode: %+v, %v", plain, err)
	}
	get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k, ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, get.Body); !bytes.Equal(body, bytes.Join(bodies, nil)) {
		t.Errorf("GET: %d bytes differ", len(body))
	}
	if got := pick(algo, get.ChecksumCRC32, get.ChecksumCRC32C, get.ChecksumCRC64NVME, get.ChecksumSHA1, get.ChecksumSHA256); got != want || get.ChecksumType != typ {
		t.Errorf("GET: %q %s, want %q %s", got, get.ChecksumType, want, typ)
	}
	for i, body := range bodies {
		part, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k, PartNumber: aws.Int32(int32(i + 1)), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, part.Body); !bytes.Equal(got, body) {
			t.Errorf("GET part %d: bytes differ", i+1)
		}
		if got := pick(algo, part.ChecksumCRC32, part.ChecksumCRC32C, part.ChecksumCRC64NVME, part.ChecksumSHA1, part.ChecksumSHA256); got != enc64(sumOf(algo, body)) || part.ChecksumType != typ {
			t.Errorf("GET part %d: %q %s, want %q %s", i+1, got, part.ChecksumType, enc64(sumOf(algo, body)), typ)
		}
	}
	rng, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: b, Key: k, Range: aws.String("bytes=0-9"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, rng.Body)
	if got := pick(algo, rng.ChecksumCRC32, rng.ChecksumCRC32C, rng.ChecksumCRC64NVME, rng.ChecksumSHA1, rng.ChecksumSHA256); got != "" || rng.ChecksumType != "" {
		t.Errorf("ranged GET carries checksum %q %s", got, rng.ChecksumType)
	}
	attrs, err := c.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: b, Key: k,
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesChecksum, types.ObjectAttributesObjectParts}})
	if err != nil {
		t.Fatal(err)
	}
	ck := attrs.Checksum
	if ck == nil || pick(algo, ck.ChecksumCRC32, ck.ChecksumCRC32C, ck.ChecksumCRC64NVME, ck.ChecksumSHA1, ck.ChecksumSHA256) != want || ck.ChecksumType != typ {
		t.Errorf("attributes checksum %+v, want %q %s", ck, want, typ)
	}
	if attrs.ObjectParts == nil || len(attrs.ObjectParts.Parts) != len(bodies) {
		t.Fatalf("attributes parts %+v", attrs.ObjectParts)
	}
	for i, p := range attrs.ObjectParts.Parts {
		wantPart := ""
		if typ == types.ChecksumTypeComposite {
			wantPart = enc64(sumOf(algo, bodies[i]))
		}
		if got := pick(algo, p.ChecksumCRC32, p.ChecksumCRC32C, p.ChecksumCRC64NVME, p.ChecksumSHA1, p.ChecksumSHA256); got != wantPart {
			t.Errorf("attributes part %d checksum %q, want %q", i+1, got, wantPart)
		}
	}
	list, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: b, Prefix: k})
	if err != nil || len(list.Contents) != 1 || len(list.Contents[0].ChecksumAlgorithm) != 1 ||
		list.Contents[0].ChecksumAlgorithm[0] != algo || list.Contents[0].ChecksumType != typ {
		t.Errorf("listing %+v, %v", list.Contents, err)
	}
}

// apiError asserts an SDK error's code, HTTP status and message.
func apiError(t *testing.T, what string, err error, code string, status int, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || errStatus(err) != status || (msg != "" && ae.ErrorMessage() != msg) {
		t.Errorf("%s: %v; want %d %s %q", what, err, status, code, msg)
	}
}

func TestCreateMultipartUploadChecksumMatrix(t *testing.T) {
	ts := newTestServer(t)
	c := ts.Root
	ts.CreateBucket(t, c, "cksum")
	tests := []struct {
		algo types.ChecksumAlgorithm
		typ  types.ChecksumType
		msg  string
	}{
		{types.ChecksumAlgorithmSha256, types.ChecksumTypeFullObject, "The FULL_OBJECT checksum type cannot be used with the sha256 checksum algorithm."},
		{types.ChecksumAlgorithmSha1, types.ChecksumTypeFullObject, "The FULL_OBJECT checksum type cannot be used with the sha1 checksum algorithm."},
		{types.ChecksumAlgorithmCrc64nvme, types.ChecksumTypeComposite, "The COMPOSITE checksum type cannot be used with the crc64nvme checksum algorithm."},
		{"", types.ChecksumTypeFullObject, "The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header."},
		{types.ChecksumAlgorithmCrc32, "SOMETIMES", "Value for x-amz-checksum-type header is invalid."},
	}
	for _, tt := range tests {
		_, err := c.CreateMultipartUpload(context.Background(), &s3.CreateMultipartUploadInput{
			Bucket: aws.String("cksum"), Key: aws.String("k"), ChecksumAlgorithm: tt.algo, ChecksumType: tt.typ,
		})
		apiError(t, fmt.Sprintf("create %s/%s", tt.algo, tt.typ), err, "InvalidRequest", http.StatusBadRequest, tt.msg)
	}
	ups, err := c.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("cksum")})
	if err != nil || len(ups.Uploads) != 0 {
		t.Errorf("refused creations left uploads: %+v, %v", ups.Uploads, err)
	}
}

func TestCompleteMultipartChecksumErrors(t *testing.T) {
	ts := newTestServer(t)
	c := ts.Root
	ctx := context.Background()
	ts.CreateBucket(t, c, "cksum")
	bodies := [][]byte{randomBody(51, 5<<20), randomBody(52, 100)}
	complete := func(uploadID *string, key string, parts []types.CompletedPart, opt func(*s3.CompleteMultipartUploadInput)) error {
		in := &s3.CompleteMultipartUploadInput{
			Bucket: aws.String("cksum"), Key: aws.String(key), UploadId: uploadID,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		}
		if opt != nil {
			opt(in)
		}
		_, err := c.CompleteMultipartUpload(ctx, in)
		return err
	}
	absent := func(key string) {
		t.Helper()
		if _, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("cksum"), Key: aws.String(key)}); errStatus(err) != http.StatusNotFound {
			t.Errorf("%s exists after a refused completion: %v", key, err)
		}
	}

	t.Run("wrong full-object checksum", func(t *testing.T) {
		id, parts := checksumUpload(t, c, "cksum", "full", types.ChecksumAlgorithmCrc32c, types.ChecksumTypeFullObject, bodies...)
		err := complete(id, "full", parts, func(in *s3.CompleteMultipartUploadInput) {
			in.ChecksumCRC32C = aws.String(enc64(sumOf(types.ChecksumAlgorithmCrc32c, bodies[0])))
		})
		apiError(t, "wrong CRC32C", err, "BadDigest", http.StatusBadRequest, "The CRC32C you specified did not match the calculated checksum.")
		absent("full")
		err = complete(id, "full", parts, func(in *s3.CompleteMultipartUploadInput) {
			in.ChecksumType = types.ChecksumTypeComposite
		})
		apiError(t, "type differing from the upload's", err, "InvalidRequest", http.StatusBadRequest,
			"The upload was created using the FULL_OBJECT checksum mode. The complete request must use the same checksum mode.")
		absent("full")
		// The upload is intact: the right value completes it.
		err = complete(id, "full", parts, func(in *s3.CompleteMultipartUploadInput) {
			in.ChecksumCRC32C = aws.String(enc64(sumOf(types.ChecksumAlgorithmCrc32c, bytes.Join(bodies, nil))))
		})
		if err != nil {
			t.Fatalf("complete with the right checksum: %v", err)
		}
	})

	t.Run("wrong composite checksum", func(t *testing.T) {
		id, parts := checksumUpload(t, c, "cksum", "comp", types.ChecksumAlgorithmSha256, "", bodies...)
		err := complete(id, "comp", parts, func(in *s3.CompleteMultipartUploadInput) {
			in.ChecksumSHA256 = aws.String(compositeOf(types.ChecksumAlgorithmSha256, bodies[1], bodies[0]))
		})
		apiError(t, "wrong composite", err, "BadDigest", http.StatusBadRequest, "The SHA256 you specified did not match the calculated checksum.")
		err = complete(id, "comp", parts, func(in *s3.CompleteMultipartUploadInput) { in.ChecksumSHA256 = aws.String("bad") })
		apiError(t, "invalid value", err, "BadDigest", http.StatusBadRequest, "Value for x-amz-checksum-sha256 header is invalid.")
		absent("comp")
	})

	t.Run("listed part checksums", func(t *testing.T) {
		id, parts := checksumUpload(t, c, "cksum", "parts", types.ChecksumAlgorithmCrc32, "", bodies...)
		swapped := []types.CompletedPart{
			listedPart(1, parts[0].ETag, types.ChecksumAlgorithmCrc32, aws.ToString(parts[1].ChecksumCRC32)), parts[1],
		}
		apiError(t, "another part's checksum", complete(id, "parts", swapped, nil), "InvalidPart", http.StatusBadRequest, "")
		other := []types.CompletedPart{listedPart(1, parts[0].ETag, types.ChecksumAlgorithmSha256, enc64(sumOf(types.ChecksumAlgorithmSha256, bodies[0]))), parts[1]}
		apiError(t, "another algorithm", complete(id, "parts", other, nil), "BadDigest", http.StatusBadRequest,
			"The sha256 you specified for part 1 did not match what we received.")
		invalid := []types.CompletedPart{listedPart(1, parts[0].ETag, types.ChecksumAlgorithmCrc32, "not base64"), parts[1]}
		apiError(t, "invalid base64", complete(id, "parts", invalid, nil), "InvalidArgument", http.StatusBadRequest,
			"Invalid Base64 or multiple checksums present in request")
		absent("parts")
		if err := complete(id, "parts", parts, nil); err != nil {
			t.Fatalf("complete with the right part checksums: %v", err)
		}
	})
}

func TestUploadPartChecksumOfUpload(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "cksum")
	// A client that sends no checksum unless told to.
	plain := ts.Client(userRoot, func(o *s3.Options) { o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired })
	create := func(key string, algo types.ChecksumAlgorithm, typ types.ChecksumType) *string {
		up, err := plain.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("cksum"), Key: aws.String(key), ChecksumAlgorithm: algo, ChecksumType: typ})
		if err != nil {
			t.Fatal(err)
		}
		return up.UploadId
	}
	body := randomBody(61, 1000)
	part := func(key string, id *string, algo types.ChecksumAlgorithm) (*s3.UploadPartOutput, error) {
		return plain.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("cksum"), Key: aws.String(key), UploadId: id,
			PartNumber: aws.Int32(1), Body: bytes.NewReader(body), ChecksumAlgorithm: algo})
	}

	id := create("comp", types.ChecksumAlgorithmCrc32, "")
	_, err := part("comp", id, types.ChecksumAlgorithmSha256)
	apiError(t, "part with another algorithm", err, "InvalidRequest", http.StatusBadRequest,
		"Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: sha256")
	_, err = part("comp", id, "")
	apiError(t, "composite part without checksum", err, "InvalidRequest", http.StatusBadRequest,
		"Checksum Type mismatch occurred, expected checksum Type: crc32, actual checksum Type: null")
	lp, err := plain.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String("cksum"), Key: aws.String("comp"), UploadId: id})
	if err != nil || len(lp.Parts) != 0 {
		t.Errorf("refused parts were stored: %+v, %v", lp.Parts, err)
	}

	// A part of a FULL_OBJECT upload sent without checksum gets one.
	id = create("full", types.ChecksumAlgorithmCrc32c, types.ChecksumTypeFullObject)
	out, err := part("full", id, "")
	if err != nil {
		t.Fatal(err)
	}
	want := enc64(sumOf(types.ChecksumAlgorithmCrc32c, body))
	if aws.ToString(out.ChecksumCRC32C) != want {
		t.Fatalf("computed part checksum %q, want %q", aws.ToString(out.ChecksumCRC32C), want)
	}
	done, err := plain.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("cksum"), Key: aws.String("full"), UploadId: id,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{PartNumber: aws.Int32(1), ETag: out.ETag}}},
	})
	if err != nil || aws.ToString(done.ChecksumCRC32C) != want || done.ChecksumType != types.ChecksumTypeFullObject {
		t.Fatalf("complete %+v, %v", done, err)
	}
}

// UploadPartCopy into an upload with an algorithm computes the part's
// checksum of the bytes copied, so the upload completes with its checksum.
func TestUploadPartCopyChecksum(t *testing.T) {
	ts := newTestServer(t)
	c := ts.Root
	ctx := context.Background()
	ts.CreateBucket(t, c, "cksum")
	src := randomBody(71, 5<<20)
	ts.PutObject(t, c, "cksum", "src", src)
	up, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("cksum"), Key: aws.String("dst"), ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := c.UploadPartCopy(ctx, &s3.UploadPartCopyInput{Bucket: aws.String("cksum"), Key: aws.String("dst"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), CopySource: aws.String("cksum/src")})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(cp.CopyPartResult.ChecksumSHA256); got != enc64(sumOf(types.ChecksumAlgorithmSha256, src)) {
		t.Fatalf("copied part checksum %q", got)
	}
	tail := randomBody(72, 10)
	pt, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("cksum"), Key: aws.String("dst"), UploadId: up.UploadId,
		PartNumber: aws.Int32(2), Body: bytes.NewReader(tail), ChecksumAlgorithm: types.ChecksumAlgorithmSha256})
	if err != nil {
		t.Fatal(err)
	}
	done, err := c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String("cksum"), Key: aws.String("dst"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			listedPart(1, cp.CopyPartResult.ETag, types.ChecksumAlgorithmSha256, aws.ToString(cp.CopyPartResult.ChecksumSHA256)),
			listedPart(2, pt.ETag, types.ChecksumAlgorithmSha256, aws.ToString(pt.ChecksumSHA256)),
		}},
	})
	if want := compositeOf(types.ChecksumAlgorithmSha256, src, tail); err != nil || aws.ToString(done.ChecksumSHA256) != want {
		t.Fatalf("complete %+v, %v; want %s", done, err, want)
	}
}

// A single PUT's checksum is FULL_OBJECT; a range covering the whole object
// carries it, any other range does not.
func TestPutObjectChecksumType(t *testing.T) {
	ts := newTestServer(t)
	c := ts.Root
	ctx := context.Background()
	ts.CreateBucket(t, c, "cksum")
	body := randomBody(81, 3000)
	out, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("cksum"), Key: aws.String("k"), Body: bytes.NewReader(body), ChecksumAlgorithm: types.ChecksumAlgorithmCrc32})
	want := enc64(sumOf(types.ChecksumAlgorithmCrc32, body))
	if err != nil || aws.ToString(out.ChecksumCRC32) != want || out.ChecksumType != types.ChecksumTypeFullObject {
		t.Fatalf("PUT %+v, %v", out, err)
	}
	head, err := c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("cksum"), Key: aws.String("k"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil || aws.ToString(head.ChecksumCRC32) != want || head.ChecksumType != types.ChecksumTypeFullObject {
		t.Fatalf("HEAD %+v, %v", head, err)
	}
	for rng, wantSum := range map[string]string{"bytes=0-": want, "bytes=0-2999": want, "bytes=1-": "", "bytes=0-10": ""} {
		get, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cksum"), Key: aws.String("k"), Range: aws.String(rng), ChecksumMode: types.ChecksumModeEnabled})
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, get.Body)
		if aws.ToString(get.ChecksumCRC32) != wantSum {
			t.Errorf("GET %s: checksum %q, want %q", rng, aws.ToString(get.ChecksumCRC32), wantSum)
		}
	}
}

// Objects completed before multipart checksums were computed recorded the
// upload's algorithm with an empty value and a checksum type. They read as
// objects without a checksum: no empty header, which SDKs would check the
// body against.
func TestObjectWithEmptyStoredChecksum(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	ts.CreateBucket(t, ts.Root, "cksum")
	body := randomBody(91, 100)
	meta := store.Metadata{Checksums: map[string]string{store.ChecksumCRC32: ""}, ChecksumType: "COMPOSITE"}
	if _, err := ts.Store.PutObject(ctx, "cksum", "old", bytes.NewReader(body), store.PutOptions{Meta: meta, Size: int64(len(body)), Owner: userRoot.ID}); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{http.MethodHead, http.MethodGet} {
		resp := ts.Do(t, userRoot, method, "/cksum/old", nil, http.Header{"X-Amz-Checksum-Mode": {"ENABLED"}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %s", method, resp.Status)
		}
		for name := range resp.Header {
			if strings.HasPrefix(name, "X-Amz-Checksum-") {
				t.Errorf("%s sends %s: %q", method, name, resp.Header.Get(name))
			}
		}
	}
	get, err := ts.Root.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("cksum"), Key: aws.String("old"), ChecksumMode: types.ChecksumModeEnabled})
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, get.Body); !bytes.Equal(got, body) {
		t.Fatal("body differs")
	}
	attrs, err := ts.Root.GetObjectAttributes(ctx, &s3.GetObjectAttributesInput{Bucket: aws.String("cksum"), Key: aws.String("old"),
		ObjectAttributes: []types.ObjectAttributes{types.ObjectAttributesChecksum}})
	if err != nil || attrs.Checksum != nil {
		t.Fatalf("attributes checksum %+v, %v", attrs.Checksum, err)
	}
}

// minio-go, as mc drives it (trailing checksums on): uploads in parts with
// its default CRC32C and with `mc cp --checksum` choices, known and
// unknown sizes. minio-go claims the object's checksum on Complete (a
// composite one without its "-N"); the stored value is compared with one
// computed here.
func TestMinioGoMultipartChecksums(t *testing.T) {
	ts := newTestServer(t)
	ts.CreateBucket(t, ts.Root, "cksum")
	mc, err := minio.New(strings.TrimPrefix(ts.URL, "http://"), &minio.Options{
		Creds:  miniocreds.NewStaticV4(userRoot.AccessKey, userRoot.SecretKey, ""),
		Region: testRegion, BucketLookup: minio.BucketLookupPath, Transport: ts.HTTP.Client().Transport,
		MaxRetries: 1, TrailingHeaders: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	bodies := [][]byte{randomBody(101, 5<<20), randomBody(102, 5<<20), randomBody(103, 2<<20)}
	data := bytes.Join(bodies, nil)
	tests := []struct {
		name     string
		checksum minio.ChecksumType
		size     int64
		algo     types.ChecksumAlgorithm
		want     string
		typ      string
	}{
		{"default", 0, int64(len(data)), types.ChecksumAlgorithmCrc32c, compositeOf(types.ChecksumAlgorithmCrc32c, bodies...), "COMPOSITE"},
		{"CRC32C full object", minio.ChecksumFullObjectCRC32C, int64(len(data)), types.ChecksumAlgorithmCrc32c, enc64(sumOf(types.ChecksumAlgorithmCrc32c, data)), "FULL_OBJECT"},
		{"CRC64NVME", minio.ChecksumCRC64NVME, int64(len(data)), types.ChecksumAlgorithmCrc64nvme, enc64(sumOf(types.ChecksumAlgorithmCrc64nvme, data)), "FULL_OBJECT"},
		{"CRC64NVME unknown size", minio.ChecksumCRC64NVME, -1, types.ChecksumAlgorithmCrc64nvme, enc64(sumOf(types.ChecksumAlgorithmCrc64nvme, data)), "FULL_OBJECT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := strings.ReplaceAll(tt.name, " ", "-")
			if _, err := mc.PutObject(ctx, "cksum", key, bytes.NewReader(data), tt.size, minio.PutObjectOptions{
				PartSize: 5 << 20, Checksum: tt.checksum,
			}); err != nil {
				t.Fatalf("put: %v", err)
			}
			st, err := mc.StatObject(ctx, "cksum", key, minio.StatObjectOptions{Checksum: true})
			if err != nil {
				t.Fatal(err)
			}
			got := st.ChecksumCRC32C
			if tt.algo == types.ChecksumAlgorithmCrc64nvme {
				got = st.ChecksumCRC64NVME
			}
			if got != tt.want || st.ChecksumMode != tt.typ {
				t.Errorf("stored %s %q %s, want %q %s", tt.algo, got, st.ChecksumMode, tt.want, tt.typ)
			}
		})
	}
}
