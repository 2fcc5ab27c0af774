package s3api

import (
	"net/http"
)

// Op names one S3 operation. It is the single key that routing, the auth
// action, the metrics label, hook names and event names hang off.
type Op string

// The operations Cairn routes. Unsupported sub-resources route to ops whose
// handler answers NotImplemented, never a wrong success.
const (
	OpListBuckets Op = "ListBuckets"
	OpSNS         Op = "SNS" // POST / with Action=…: the topic API

	OpCreateBucket              Op = "CreateBucket"
	OpHeadBucket                Op = "HeadBucket"
	OpDeleteBucket              Op = "DeleteBucket"
	OpGetBucketLocation         Op = "GetBucketLocation"
	OpListObjects               Op = "ListObjects"
	OpListObjectsV2             Op = "ListObjectsV2"
	OpListObjectVersions        Op = "ListObjectVersions"
	OpGetBucketVersioning       Op = "GetBucketVersioning"
	OpPutBucketVersioning       Op = "PutBucketVersioning"
	OpGetBucketAcl              Op = "GetBucketAcl"
	OpPutBucketAcl              Op = "PutBucketAcl"
	OpGetBucketTagging          Op = "GetBucketTagging"
	OpPutBucketTagging          Op = "PutBucketTagging"
	OpDeleteBucketTagging       Op = "DeleteBucketTagging"
	OpGetBucketNotification     Op = "GetBucketNotificationConfiguration"
	OpPutBucketNotification     Op = "PutBucketNotificationConfiguration"
	OpDeleteBucketNotification  Op = "DeleteBucketNotificationConfiguration"
	OpGetBucketEncryption       Op = "GetBucketEncryption"
	OpPutBucketEncryption       Op = "PutBucketEncryption"
	OpDeleteBucketEncryption    Op = "DeleteBucketEncryption"
	OpListMultipartUploads      Op = "ListMultipartUploads"
	OpDeleteObjects             Op = "DeleteObjects"
	OpPostObject                Op = "PostObject"
	OpBucketSubresourceNotImpl  Op = "BucketSubresourceNotImplemented"
	OpObjectSubresourceNotImpl  Op = "ObjectSubresourceNotImplemented"
	OpPutObject                 Op = "PutObject"
	OpGetObject                 Op = "GetObject"
	OpHeadObject                Op = "HeadObject"
	OpDeleteObject              Op = "DeleteObject"
	OpCopyObject                Op = "CopyObject"
	OpGetObjectTagging          Op = "GetObjectTagging"
	OpPutObjectTagging          Op = "PutObjectTagging"
	OpDeleteObjectTagging       Op = "DeleteObjectTagging"
	OpGetObjectAcl              Op = "GetObjectAcl"
	OpPutObjectAcl              Op = "PutObjectAcl"
	OpCreateMultipartUpload     Op = "CreateMultipartUpload"
	OpUploadPart                Op = "UploadPart"
	OpUploadPartCopy            Op = "UploadPartCopy"
	OpCompleteMultipartUpload   Op = "CompleteMultipartUpload"
	OpAbortMultipartUpload      Op = "AbortMultipartUpload"
	OpListParts                 Op = "ListParts"
	OpUnknown                   Op = "Unknown"
	opMethodNotAllowedOnService Op = "MethodNotAllowed"
)

// level is the resource a request addresses.
type level int

const (
	levelService level = iota // no bucket
	levelBucket               // bucket, no key
	levelObject               // bucket and key
)

// route is one row of the operation table. A row matches when the method
// and level agree, the query parameter (if any) is present (with the given
// value, if any), and the header (if any) is present. Among matching rows the
// most specific wins (query+header > query > header > none), so the table's
// order does not matter.
type route struct {
	method string
	level  level
	query  string // sub-resource parameter that must be present
	value  string // required value of query ("" accepts any)
	header string // header that must be present
	op     Op
}

// unimplementedBucketSubresources answer NotImplemented instead of falling
// through to a default operation such as ListObjects or CreateBucket.
var unimplementedBucketSubresources = []string{
	"policy", "cors", "lifecycle", "website", "logging",
	"object-lock", "ownershipControls", "publicAccessBlock", "requestPayment",
	"replication", "accelerate", "analytics", "inventory", "metrics",
	"intelligent-tiering", "policyStatus",
}

var unimplementedObjectSubresources = []string{
	"retention", "legal-hold", "torrent", "restore", "select", "attributes",
}

var routes = buildRoutes()

func buildRoutes() []route {
	r := []route{
		{method: http.MethodGet, level: levelService, op: OpListBuckets},
		{method: http.MethodPost, level: levelService, op: OpSNS},

		{method: http.MethodPut, level: levelBucket, op: OpCreateBucket},
		{method: http.MethodHead, level: levelBucket, op: OpHeadBucket},
		{method: http.MethodDelete, level: levelBucket, op: OpDeleteBucket},
		{method: http.MethodGet, level: levelBucket, op: OpListObjects},
		{method: http.MethodGet, level: levelBucket, query: "list-type", value: "2", op: OpListObjectsV2},
		{method: http.MethodGet, level: levelBucket, query: "location", op: OpGetBucketLocation},
		{method: http.MethodGet, level: levelBucket, query: "versions", op: OpListObjectVersions},
		{method: http.MethodGet, level: levelBucket, query: "versioning", op: OpGetBucketVersioning},
		{method: http.MethodPut, level: levelBucket, query: "versioning", op: OpPutBucketVersioning},
		{method: http.MethodGet, level: levelBucket, query: "acl", op: OpGetBucketAcl},
		{method: http.MethodPut, level: levelBucket, query: "acl", op: OpPutBucketAcl},
		{method: http.MethodGet, level: levelBucket, query: "tagging", op: OpGetBucketTagging},
		{method: http.MethodPut, level: levelBucket, query: "tagging", op: OpPutBucketTagging},
		{method: http.MethodDelete, level: levelBucket, query: "tagging", op: OpDeleteBucketTagging},
		{method: http.MethodGet, level: levelBucket, query: "notification", op: OpGetBucketNotification},
		{method: http.MethodPut, level: levelBucket, query: "notification", op: OpPutBucketNotification},
		{method: http.MethodDelete, level: levelBucket, query: "notification", op: OpDeleteBucketNotification},
		{method: http.MethodGet, level: levelBucket, query: "encryption", op: OpGetBucketEncryption},
		{method: http.MethodPut, level: levelBucket, query: "encryption", op: OpPutBucketEncryption},
		{method: http.MethodDelete, level: levelBucket, query: "encryption", op: OpDeleteBucketEncryption},
		{method: http.MethodGet, level: levelBucket, query: "uploads", op: OpListMultipartUploads},
		{method: http.MethodPost, level: levelBucket, query: "delete", op: OpDeleteObjects},
		{method: http.MethodPost, level: levelBucket, op: OpPostObject},

		{method: http.MethodPut, level: levelObject, op: OpPutObject},
		{method: http.MethodPut, level: levelObject, header: "X-Amz-Copy-Source", op: OpCopyObject},
		{method: http.MethodGet, level: levelObject, op: OpGetObject},
		{method: http.MethodHead, level: levelObject, op: OpHeadObject},
		{method: http.MethodDelete, level: levelObject, op: OpDeleteObject},
		{method: http.MethodGet, level: levelObject, query: "tagging", op: OpGetObjectTagging},
		{method: http.MethodPut, level: levelObject, query: "tagging", op: OpPutObjectTagging},
		{method: http.MethodDelete, level: levelObject, query: "tagging", op: OpDeleteObjectTagging},
		{method: http.MethodGet, level: levelObject, query: "acl", op: OpGetObjectAcl},
		{method: http.MethodPut, level: levelObject, query: "acl", op: OpPutObjectAcl},
		{method: http.MethodPost, level: levelObject, query: "uploads", op: OpCreateMultipartUpload},
		{method: http.MethodPut, level: levelObject, query: "uploadId", op: OpUploadPart},
		{method: http.MethodPut, level: levelObject, query: "uploadId", header: "X-Amz-Copy-Source", op: OpUploadPartCopy},
		{method: http.MethodPost, level: levelObject, query: "uploadId", op: OpCompleteMultipartUpload},
		{method: http.MethodDelete, level: levelObject, query: "uploadId", op: OpAbortMultipartUpload},
		{method: http.MethodGet, level: levelObject, query: "uploadId", op: OpListParts},
	}
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPost} {
		for _, q := range unimplementedBucketSubresources {
			r = append(r, route{method: m, level: levelBucket, query: q, op: OpBucketSubresourceNotImpl})
		}
		for _, q := range unimplementedObjectSubresources {
			r = append(r, route{method: m, level: levelObject, query: q, op: OpObjectSubresourceNotImpl})
		}
	}
	return r
}

// resolveOp picks the operation for a request from the table.
func resolveOp(r *http.Request, lvl level) Op {
	query := r.URL.Query()
	best, bestScore := OpUnknown, -1
	for _, rt := range routes {
		if rt.method != r.Method || rt.level != lvl {
			continue
		}
		score := 0
		if rt.query != "" {
			v, ok := query[rt.query]
			if !ok || (rt.value != "" && (len(v) == 0 || v[0] != rt.value)) {
				continue
			}
			score += 2
		}
		if rt.header != "" {
			if r.Header.Get(rt.header) == "" {
				continue
			}
			score++
		}
		if score > bestScore {
			best, bestScore = rt.op, score
		}
	}
	if best == OpUnknown && lvl == levelService {
		return opMethodNotAllowedOnService
	}
	return best
}
