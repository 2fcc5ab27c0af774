package s3api

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/cairn-s3/cairn/internal/optable"
	"github.com/cairn-s3/cairn/internal/s3err"
)

// Op names one operation. It is the key of the operation table's row
// (table.go), which carries everything else: the route, the IAM action, the
// access rule, the metrics label, the event and the hook name.
type Op = optable.Op

// The operations Cairn routes. Unsupported sub-resources route to ops whose
// handler answers NotImplemented, never a wrong success.
const (
	OpListBuckets Op = "ListBuckets"
	// OpSNS labels a POST / of the topic API before its Action parameter
	// is read; Handle(OpSNS, h) installs h for every action of the API.
	OpSNS Op = "SNS"

	// The SNS topic API (POST / with Action=…).
	OpSNSCreateTopic        Op = "SNSCreateTopic"
	OpSNSDeleteTopic        Op = "SNSDeleteTopic"
	OpSNSListTopics         Op = "SNSListTopics"
	OpSNSGetTopic           Op = "SNSGetTopic"
	OpSNSGetTopicAttributes Op = "SNSGetTopicAttributes"
	OpSNSSetTopicAttributes Op = "SNSSetTopicAttributes"

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

// Levels of a request path.
const (
	levelService = optable.LevelService
	levelBucket  = optable.LevelBucket
	levelObject  = optable.LevelObject
)

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

// Rows the table falls back to: no row for the method (RGW answers 405),
// on a bucket or object, or on the service or a mounted API.
var (
	rowUnknown          = optable.Row{Op: OpUnknown}
	rowMethodNotAllowed = optable.Row{Op: opMethodNotAllowedOnService}
)

// selector describes a request to the table.
func selector(r *http.Request, lvl optable.Level, mount string) optable.Request {
	return optable.Request{Method: r.Method, Level: lvl, Mount: mount, Query: r.URL.Query(), Header: r.Header}
}

// resolve picks the operation's row from the table.
func resolve(sel optable.Request) *optable.Row {
	if row, ok := optable.Select(table, sel); ok {
		return row
	}
	if sel.Level == levelService || sel.Mount != "" {
		return &rowMethodNotAllowed
	}
	return &rowUnknown
}

// maxFormBody bounds the form body read for its Action (RGW's
// rgw_max_put_param_size, 1 MiB, as the topic API itself reads).
const maxFormBody = 1 << 20

// resolveForm picks the row of an API that dispatches on the Action
// parameter: the query's, or the URL-encoded body's (which wins). The body
// is read (bounded) and put back for the handler.
func resolveForm(r *http.Request, sel optable.Request) (*optable.Row, error) {
	action := sel.Query.Get("Action")
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody+1))
		if err != nil {
			return nil, s3err.IncompleteBody.WithCause(err)
		}
		if len(body) > maxFormBody {
			return nil, s3err.MaxMessageLengthExceeded
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		if v, ok := formValue(string(body), "Action"); ok {
			action = v
		}
	}
	sel.Form = action
	return resolve(sel), nil
}

// formValue returns the last value of a field of a URL-encoded form,
// leniently decoded as the topic API decodes its parameters.
func formValue(form, name string) (value string, found bool) {
	for tok := range strings.SplitSeq(form, "&") {
		k, v, _ := strings.Cut(tok, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if k != name {
			continue
		}
		if uv, err := url.QueryUnescape(v); err == nil {
			v = uv
		}
		value, found = v, true
	}
	return value, found
}

// rowOf returns the row of an operation (the first, for operations with
// several routes), or nil.
func rowOf(op Op) *optable.Row {
	for i := range table {
		if table[i].Op == op {
			return &table[i]
		}
	}
	return nil
}
