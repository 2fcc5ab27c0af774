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

	OpCreateBucket             Op = "CreateBucket"
	OpHeadBucket               Op = "HeadBucket"
	OpDeleteBucket             Op = "DeleteBucket"
	OpGetBucketLocation        Op = "GetBucketLocation"
	OpListObjects              Op = "ListObjects"
	OpListObjectsV2            Op = "ListObjectsV2"
	OpListObjectVersions       Op = "ListObjectVersions"
	OpGetBucketVersioning      Op = "GetBucketVersioning"
	OpPutBucketVersioning      Op = "PutBucketVersioning"
	OpGetBucketAcl             Op = "GetBucketAcl"
	OpPutBucketAcl             Op = "PutBucketAcl"
	OpGetBucketTagging         Op = "GetBucketTagging"
	OpPutBucketTagging         Op = "PutBucketTagging"
	OpDeleteBucketTagging      Op = "DeleteBucketTagging"
	OpGetBucketNotification    Op = "GetBucketNotificationConfiguration"
	OpPutBucketNotification    Op = "PutBucketNotificationConfiguration"
	OpDeleteBucketNotification Op = "DeleteBucketNotificationConfiguration"
	OpGetBucketCors            Op = "GetBucketCors"
	OpPutBucketCors            Op = "PutBucketCors"
	OpDeleteBucketCors         Op = "DeleteBucketCors"
	OpGetBucketLifecycle       Op = "GetBucketLifecycleConfiguration"
	OpPutBucketLifecycle       Op = "PutBucketLifecycleConfiguration"
	OpDeleteBucketLifecycle    Op = "DeleteBucketLifecycle"
	OpPreflight                Op = "Preflight" // OPTIONS: CORS preflight, not authenticated
	OpGetBucketEncryption      Op = "GetBucketEncryption"
	OpPutBucketEncryption      Op = "PutBucketEncryption"
	OpDeleteBucketEncryption   Op = "DeleteBucketEncryption"
	OpListMultipartUploads     Op = "ListMultipartUploads"
	OpDeleteObjects            Op = "DeleteObjects"
	OpPostObject               Op = "PostObject"
	OpBucketSubresourceNotImpl Op = "BucketSubresourceNotImplemented"
	OpObjectSubresourceNotImpl Op = "ObjectSubresourceNotImplemented"
	OpPutObject                Op = "PutObject"
	OpGetObject                Op = "GetObject"
	OpHeadObject               Op = "HeadObject"
	OpDeleteObject             Op = "DeleteObject"
	OpCopyObject               Op = "CopyObject"
	OpGetObjectTagging         Op = "GetObjectTagging"
	OpPutObjectTagging         Op = "PutObjectTagging"
	OpDeleteObjectTagging      Op = "DeleteObjectTagging"
	OpGetObjectAcl             Op = "GetObjectAcl"
	OpPutObjectAcl             Op = "PutObjectAcl"
	OpCreateMultipartUpload    Op = "CreateMultipartUpload"
	OpUploadPart               Op = "UploadPart"
	OpUploadPartCopy           Op = "UploadPartCopy"
	OpCompleteMultipartUpload  Op = "CompleteMultipartUpload"
	OpAbortMultipartUpload     Op = "AbortMultipartUpload"
	OpListParts                Op = "ListParts"
	OpGetObjectAttributes      Op = "GetObjectAttributes"
	OpGetObjectLockConfig      Op = "GetObjectLockConfiguration"
	OpPutObjectLockConfig      Op = "PutObjectLockConfiguration"
	OpGetObjectRetention       Op = "GetObjectRetention"
	OpPutObjectRetention       Op = "PutObjectRetention"
	OpGetObjectLegalHold       Op = "GetObjectLegalHold"
	OpPutObjectLegalHold       Op = "PutObjectLegalHold"
	OpGetBucketPolicy          Op = "GetBucketPolicy"
	OpPutBucketPolicy          Op = "PutBucketPolicy"
	OpDeleteBucketPolicy       Op = "DeleteBucketPolicy"
	OpGetBucketPolicyStatus    Op = "GetBucketPolicyStatus"
	OpGetPublicAccessBlock     Op = "GetPublicAccessBlock"
	OpPutPublicAccessBlock     Op = "PutPublicAccessBlock"
	OpDeletePublicAccessBlock  Op = "DeletePublicAccessBlock"
	OpGetBucketOwnership       Op = "GetBucketOwnershipControls"
	OpPutBucketOwnership       Op = "PutBucketOwnershipControls"
	OpDeleteBucketOwnership    Op = "DeleteBucketOwnershipControls"
	OpListenBucketNotification Op = "ListenBucketNotification"
	OpUnknown                  Op = "Unknown"

	// The pull-mode PubSub API (pubsub.md), on the path segments
	// "topics", "subscriptions" and "notifications" once mounted.
	OpPSCreateTopic             Op = "PubSubCreateTopic"
	OpPSGetTopic                Op = "PubSubGetTopic"
	OpPSListTopics              Op = "PubSubListTopics"
	OpPSDeleteTopic             Op = "PubSubDeleteTopic"
	OpPSCreateNotification      Op = "PubSubCreateNotification"
	OpPSDeleteNotification      Op = "PubSubDeleteNotification"
	OpPSListNotifications       Op = "PubSubListNotifications"
	OpPSCreateSubscription      Op = "PubSubCreateSubscription"
	OpPSGetSubscription         Op = "PubSubGetSubscription"
	OpPSDeleteSubscription      Op = "PubSubDeleteSubscription"
	OpPSPullEvents              Op = "PubSubPullEvents"
	OpPSAckEvents               Op = "PubSubAckEvents"
	OpPSNackEvents              Op = "PubSubNackEvents"
	opMethodNotAllowedOnService Op = "MethodNotAllowed" // on the service or a mounted API
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
	// mount, if set, is the first path segment of a path-style request
	// the row belongs to (an API mounted beside S3, such as PubSub's
	// "topics"); such a request matches only rows of its mount.
	mount string
	op    Op
}

// unimplementedBucketSubresources answer NotImplemented instead of falling
// through to a default operation such as ListObjects or CreateBucket.
var unimplementedBucketSubresources = []string{
	"website", "logging", "requestPayment",
	"replication", "accelerate", "analytics", "inventory", "metrics",
	"intelligent-tiering",
}

var unimplementedObjectSubresources = []string{
	"torrent", "restore", "select",
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
		{method: http.MethodGet, level: levelBucket, query: "cors", op: OpGetBucketCors},
		{method: http.MethodPut, level: levelBucket, query: "cors", op: OpPutBucketCors},
		{method: http.MethodDelete, level: levelBucket, query: "cors", op: OpDeleteBucketCors},
		{method: http.MethodGet, level: levelBucket, query: "lifecycle", op: OpGetBucketLifecycle},
		{method: http.MethodPut, level: levelBucket, query: "lifecycle", op: OpPutBucketLifecycle},
		{method: http.MethodDelete, level: levelBucket, query: "lifecycle", op: OpDeleteBucketLifecycle},
		{method: http.MethodOptions, level: levelBucket, op: OpPreflight},
		{method: http.MethodOptions, level: levelObject, op: OpPreflight},
		{method: http.MethodGet, level: levelBucket, query: "encryption", op: OpGetBucketEncryption},
		{method: http.MethodPut, level: levelBucket, query: "encryption", op: OpPutBucketEncryption},
		{method: http.MethodDelete, level: levelBucket, query: "encryption", op: OpDeleteBucketEncryption},
		{method: http.MethodGet, level: levelBucket, query: "uploads", op: OpListMultipartUploads},
		{method: http.MethodPost, level: levelBucket, query: "delete", op: OpDeleteObjects},
		{method: http.MethodPost, level: levelBucket, op: OpPostObject},
		{method: http.MethodGet, level: levelBucket, query: "policy", op: OpGetBucketPolicy},
		{method: http.MethodPut, level: levelBucket, query: "policy", op: OpPutBucketPolicy},
		{method: http.MethodDelete, level: levelBucket, query: "policy", op: OpDeleteBucketPolicy},
		{method: http.MethodGet, level: levelBucket, query: "policyStatus", op: OpGetBucketPolicyStatus},
		{method: http.MethodGet, level: levelBucket, query: "publicAccessBlock", op: OpGetPublicAccessBlock},
		{method: http.MethodPut, level: levelBucket, query: "publicAccessBlock", op: OpPutPublicAccessBlock},
		{method: http.MethodDelete, level: levelBucket, query: "publicAccessBlock", op: OpDeletePublicAccessBlock},
		{method: http.MethodGet, level: levelBucket, query: "ownershipControls", op: OpGetBucketOwnership},
		{method: http.MethodPut, level: levelBucket, query: "ownershipControls", op: OpPutBucketOwnership},
		{method: http.MethodDelete, level: levelBucket, query: "ownershipControls", op: OpDeleteBucketOwnership},
		{method: http.MethodGet, level: levelBucket, query: "events", op: OpListenBucketNotification},

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
		{method: http.MethodGet, level: levelObject, query: "attributes", op: OpGetObjectAttributes},
		{method: http.MethodGet, level: levelBucket, query: "object-lock", op: OpGetObjectLockConfig},
		{method: http.MethodPut, level: levelBucket, query: "object-lock", op: OpPutObjectLockConfig},
		{method: http.MethodGet, level: levelObject, query: "retention", op: OpGetObjectRetention},
		{method: http.MethodPut, level: levelObject, query: "retention", op: OpPutObjectRetention},
		{method: http.MethodGet, level: levelObject, query: "legal-hold", op: OpGetObjectLegalHold},
		{method: http.MethodPut, level: levelObject, query: "legal-hold", op: OpPutObjectLegalHold},
	}
	// Mounted, the PubSub paths are /topics[/<name>],
	// /subscriptions/<name> and /notifications/bucket/<bucket>: the
	// segment takes the bucket's place, the rest the key's.
	r = append(r,
		route{method: http.MethodGet, level: levelBucket, mount: "topics", op: OpPSListTopics},
		route{method: http.MethodPut, level: levelObject, mount: "topics", op: OpPSCreateTopic},
		route{method: http.MethodGet, level: levelObject, mount: "topics", op: OpPSGetTopic},
		route{method: http.MethodDelete, level: levelObject, mount: "topics", op: OpPSDeleteTopic},
		route{method: http.MethodPut, level: levelObject, mount: "notifications", op: OpPSCreateNotification},
		route{method: http.MethodDelete, level: levelObject, mount: "notifications", op: OpPSDeleteNotification},
		route{method: http.MethodGet, level: levelObject, mount: "notifications", op: OpPSListNotifications},
		route{method: http.MethodPut, level: levelObject, mount: "subscriptions", op: OpPSCreateSubscription},
		route{method: http.MethodGet, level: levelObject, mount: "subscriptions", op: OpPSGetSubscription},
		route{method: http.MethodGet, level: levelObject, mount: "subscriptions", query: "events", op: OpPSPullEvents},
		route{method: http.MethodDelete, level: levelObject, mount: "subscriptions", op: OpPSDeleteSubscription},
		route{method: http.MethodPost, level: levelObject, mount: "subscriptions", query: "ack", op: OpPSAckEvents},
		route{method: http.MethodPost, level: levelObject, mount: "subscriptions", query: "nack", op: OpPSNackEvents},
	)
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

// resolveOp picks the operation for a request from the table; mount is
// the mounted API the request's first path segment names, or "".
func resolveOp(r *http.Request, lvl level, mount string) Op {
	query := r.URL.Query()
	best, bestScore := OpUnknown, -1
	for _, rt := range routes {
		if rt.method != r.Method || rt.level != lvl || rt.mount != mount {
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
	if best == OpUnknown && (lvl == levelService || mount != "") {
		return opMethodNotAllowedOnService
	}
	return best
}

// iamAction is the IAM action an operation performs, as bucket policies
// name it; versioned is the action when the request names a versionId
// ("" when the same).
type iamAction struct {
	plain, versioned string
}

// opActions maps every operation that reaches a bucket to its IAM action.
var opActions = map[Op]iamAction{
	OpListBuckets:              {plain: "s3:ListAllMyBuckets"},
	OpCreateBucket:             {plain: "s3:CreateBucket"},
	OpHeadBucket:               {plain: "s3:ListBucket"},
	OpDeleteBucket:             {plain: "s3:DeleteBucket"},
	OpGetBucketLocation:        {plain: "s3:GetBucketLocation"},
	OpListObjects:              {plain: "s3:ListBucket"},
	OpListObjectsV2:            {plain: "s3:ListBucket"},
	OpListObjectVersions:       {plain: "s3:ListBucketVersions"},
	OpGetBucketVersioning:      {plain: "s3:GetBucketVersioning"},
	OpPutBucketVersioning:      {plain: "s3:PutBucketVersioning"},
	OpGetBucketAcl:             {plain: "s3:GetBucketAcl"},
	OpPutBucketAcl:             {plain: "s3:PutBucketAcl"},
	OpGetBucketTagging:         {plain: "s3:GetBucketTagging"},
	OpPutBucketTagging:         {plain: "s3:PutBucketTagging"},
	OpDeleteBucketTagging:      {plain: "s3:PutBucketTagging"},
	OpGetBucketNotification:    {plain: "s3:GetBucketNotification"},
	OpPutBucketNotification:    {plain: "s3:PutBucketNotification"},
	OpDeleteBucketNotification: {plain: "s3:PutBucketNotification"},
	OpListMultipartUploads:     {plain: "s3:ListBucketMultipartUploads"},
	OpDeleteObjects:            {plain: "s3:DeleteObject"},
	OpPostObject:               {plain: "s3:PutObject"},
	OpPutObject:                {plain: "s3:PutObject"},
	OpGetObject:                {plain: "s3:GetObject", versioned: "s3:GetObjectVersion"},
	OpHeadObject:               {plain: "s3:GetObject", versioned: "s3:GetObjectVersion"},
	OpDeleteObject:             {plain: "s3:DeleteObject", versioned: "s3:DeleteObjectVersion"},
	OpCopyObject:               {plain: "s3:PutObject"},
	OpGetObjectTagging:         {plain: "s3:GetObjectTagging", versioned: "s3:GetObjectVersionTagging"},
	OpPutObjectTagging:         {plain: "s3:PutObjectTagging", versioned: "s3:PutObjectVersionTagging"},
	OpDeleteObjectTagging:      {plain: "s3:DeleteObjectTagging", versioned: "s3:DeleteObjectVersionTagging"},
	OpGetObjectAcl:             {plain: "s3:GetObjectAcl", versioned: "s3:GetObjectVersionAcl"},
	OpPutObjectAcl:             {plain: "s3:PutObjectAcl", versioned: "s3:PutObjectVersionAcl"},
	OpCreateMultipartUpload:    {plain: "s3:PutObject"},
	OpUploadPart:               {plain: "s3:PutObject"},
	OpUploadPartCopy:           {plain: "s3:PutObject"},
	OpCompleteMultipartUpload:  {plain: "s3:PutObject"},
	OpAbortMultipartUpload:     {plain: "s3:AbortMultipartUpload"},
	OpListParts:                {plain: "s3:ListMultipartUploadParts"},
	OpGetObjectAttributes:      {plain: "s3:GetObjectAttributes", versioned: "s3:GetObjectVersionAttributes"},
	OpGetBucketCors:            {plain: "s3:GetBucketCORS"},
	OpGetBucketEncryption:      {plain: "s3:GetEncryptionConfiguration"},
	OpPutBucketEncryption:      {plain: "s3:PutEncryptionConfiguration"},
	OpDeleteBucketEncryption:   {plain: "s3:PutEncryptionConfiguration"},
	OpPutBucketCors:            {plain: "s3:PutBucketCORS"},
	OpDeleteBucketCors:         {plain: "s3:PutBucketCORS"},
	OpGetBucketLifecycle:       {plain: "s3:GetLifecycleConfiguration"},
	OpPutBucketLifecycle:       {plain: "s3:PutLifecycleConfiguration"},
	OpDeleteBucketLifecycle:    {plain: "s3:PutLifecycleConfiguration"},
	OpGetObjectLockConfig:      {plain: "s3:GetBucketObjectLockConfiguration"},
	OpPutObjectLockConfig:      {plain: "s3:PutBucketObjectLockConfiguration"},
	OpGetObjectRetention:       {plain: "s3:GetObjectRetention"},
	OpPutObjectRetention:       {plain: "s3:PutObjectRetention"},
	OpGetObjectLegalHold:       {plain: "s3:GetObjectLegalHold"},
	OpPutObjectLegalHold:       {plain: "s3:PutObjectLegalHold"},
	OpGetBucketPolicy:          {plain: "s3:GetBucketPolicy"},
	OpPutBucketPolicy:          {plain: "s3:PutBucketPolicy"},
	OpDeleteBucketPolicy:       {plain: "s3:DeleteBucketPolicy"},
	OpGetBucketPolicyStatus:    {plain: "s3:GetBucketPolicyStatus"},
	OpGetPublicAccessBlock:     {plain: "s3:GetBucketPublicAccessBlock"},
	OpPutPublicAccessBlock:     {plain: "s3:PutBucketPublicAccessBlock"},
	OpDeletePublicAccessBlock:  {plain: "s3:PutBucketPublicAccessBlock"},
	OpGetBucketOwnership:       {plain: "s3:GetBucketOwnershipControls"},
	OpPutBucketOwnership:       {plain: "s3:PutBucketOwnershipControls"},
	OpDeleteBucketOwnership:    {plain: "s3:PutBucketOwnershipControls"},
	OpListenBucketNotification: {plain: "s3:ListenBucketNotification"},
}

// action is the IAM action of an operation; versioned selects the
// *Version form where one exists.
func (op Op) action(versioned bool) string {
	a := opActions[op]
	if versioned && a.versioned != "" {
		return a.versioned
	}
	return a.plain
}
