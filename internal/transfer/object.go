package transfer

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// MtimeKey is the user metadata key (x-amz-meta-mtime) holding a file's
// modification time as decimal Unix seconds, the convention rclone uses:
// LastModified is the upload time, and a multipart ETag is no file MD5,
// so sync compares size and this time.
const MtimeKey = "mtime"

// ObjectOptions are set on every object an upload or copy creates; zero
// values leave the server's defaults (and, on copy, the source's).
type ObjectOptions struct {
	ContentType string
	Metadata    map[string]string
	ACL         string // canned ACL, e.g. private, public-read
	SSE         string // AES256 or aws:kms
	SSEKMSKeyID string
}

// replaces reports whether a copy must replace the source's metadata.
func (o ObjectOptions) replaces() bool { return o.ContentType != "" || len(o.Metadata) > 0 }

// metadata is o.Metadata with the file modification time mtime (if set).
func (o ObjectOptions) metadata(mtime time.Time) map[string]string {
	if len(o.Metadata) == 0 && mtime.IsZero() {
		return nil
	}
	m := maps.Clone(o.Metadata)
	if m == nil {
		m = map[string]string{}
	}
	if !mtime.IsZero() {
		m[MtimeKey] = FormatMtime(mtime)
	}
	return m
}

func (o ObjectOptions) applyPut(in *s3.PutObjectInput, mtime time.Time) {
	in.Metadata = o.metadata(mtime)
	in.ContentType = optional(o.ContentType)
	in.ACL = types.ObjectCannedACL(o.ACL)
	in.ServerSideEncryption = types.ServerSideEncryption(o.SSE)
	in.SSEKMSKeyId = optional(o.SSEKMSKeyID)
}

func (o ObjectOptions) applyCreate(in *s3.CreateMultipartUploadInput, mtime time.Time) {
	in.Metadata = o.metadata(mtime)
	in.ContentType = optional(o.ContentType)
	in.ACL = types.ObjectCannedACL(o.ACL)
	in.ServerSideEncryption = types.ServerSideEncryption(o.SSE)
	in.SSEKMSKeyId = optional(o.SSEKMSKeyID)
}

// applyCopy keeps the source's metadata unless o sets content type or
// metadata, as `aws s3 cp` does.
func (o ObjectOptions) applyCopy(in *s3.CopyObjectInput) {
	if o.replaces() {
		in.MetadataDirective = types.MetadataDirectiveReplace
		in.Metadata = o.metadata(time.Time{})
		in.ContentType = optional(o.ContentType)
	}
	in.ACL = types.ObjectCannedACL(o.ACL)
	in.ServerSideEncryption = types.ServerSideEncryption(o.SSE)
	in.SSEKMSKeyId = optional(o.SSEKMSKeyID)
}

// forMultipartCopy is o for a multipart copy, which (unlike CopyObject)
// does not carry the source's metadata over by itself.
func (o ObjectOptions) forMultipartCopy(head *s3.HeadObjectOutput) ObjectOptions {
	if o.replaces() {
		return o
	}
	o.Metadata = head.Metadata
	o.ContentType = aws.ToString(head.ContentType)
	return o
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// FormatMtime formats t for MtimeKey: seconds.nanoseconds.
func FormatMtime(t time.Time) string {
	return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
}

// ParseMtime parses a MtimeKey value ("1700000000", "1700000000.5").
func ParseMtime(s string) (time.Time, bool) {
	secs, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var ns int64
	if frac != "" {
		frac = (frac + "000000000")[:9]
		if ns, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return time.Time{}, false
		}
	}
	return time.Unix(sec, ns), true
}

// ObjectMtime is the modification time stored in meta, else lastModified.
func ObjectMtime(meta map[string]string, lastModified *time.Time) time.Time {
	if t, ok := ParseMtime(meta[MtimeKey]); ok {
		return t
	}
	return aws.ToTime(lastModified)
}

// etagIsMD5 reports whether the ETags of new objects are MD5-based:
// S3 makes them opaque under SSE-KMS.
func (c *Client) etagIsMD5() bool { return c.opts.Object.SSE != "aws:kms" }
