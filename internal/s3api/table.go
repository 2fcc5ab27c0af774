package s3api

// The operation table: one row per operation of the S3 adapter (S3, the SNS
// topic API on POST /, the mounted PubSub API) with its route, IAM action,
// resource scope, access rule, metrics label (the Op), the notification
// event it may emit and its name for request hooks (RGW's op name). The
// router authorizes every request from its row before the handler runs
// (authorize.go); handlers find the authorized bucket in their Request.

import (
	"net/http"

	"github.com/cairn-s3/cairn/internal/optable"
)

// Shorthands for the table's literals.
type (
	row   = optable.Row
	match = optable.Match
)

func act(plain string) optable.Actions { return optable.Actions{Plain: plain} }

func actV(plain, versioned string) optable.Actions {
	return optable.Actions{Plain: plain, Versioned: versioned}
}

// The event names rows may emit (notify's subscription names).
const (
	evPut      = "s3:ObjectCreated:Put"
	evPost     = "s3:ObjectCreated:Post"
	evCopy     = "s3:ObjectCreated:Copy"
	evComplete = "s3:ObjectCreated:CompleteMultipartUpload"
	evRemoved  = "s3:ObjectRemoved:*" // a delete or a delete marker
)

const (
	mGet    = http.MethodGet
	mPut    = http.MethodPut
	mPost   = http.MethodPost
	mDelete = http.MethodDelete
	mHead   = http.MethodHead
)

// table is the operation table; its order decides only between equally
// specific matches.
var table = buildTable()

func buildTable() []row {
	var t []row
	t = append(t, serviceRows()...)
	t = append(t, bucketRows()...)
	t = append(t, bucketConfigRows()...)
	t = append(t, objectRows()...)
	t = append(t, pubSubRows()...)
	return append(t, notImplementedRows()...)
}

// serviceRows are the operations on "/": ListBuckets and the SNS topic API.
func serviceRows() []row {
	sns := func(op Op, action string, scope optable.Scope, form, hook string) row {
		return row{Op: op, Match: match{Method: mPost, Level: levelService, Form: form},
			Action: act(action), Scope: scope, Access: accessSigned, Hook: hook}
	}
	return []row{
		{Op: OpListBuckets, Match: match{Method: mGet, Level: levelService}, Action: act("s3:ListAllMyBuckets"),
			Scope: optable.ScopeService, Access: accessSigned, Hook: "list_buckets"},
		sns(OpSNSCreateTopic, "sns:CreateTopic", optable.ScopeTopic, "CreateTopic", "pubsub_topic_create"),
		sns(OpSNSDeleteTopic, "sns:DeleteTopic", optable.ScopeTopic, "DeleteTopic", "pubsub_topic_delete"),
		sns(OpSNSListTopics, "sns:ListTopics", optable.ScopeService, "ListTopics", "pubsub_topics_list"),
		sns(OpSNSGetTopic, "sns:GetTopicAttributes", optable.ScopeTopic, "GetTopic", "pubsub_topic_get"),
		sns(OpSNSGetTopicAttributes, "sns:GetTopicAttributes", optable.ScopeTopic, "GetTopicAttributes", "pubsub_topic_get"),
		sns(OpSNSSetTopicAttributes, "sns:SetTopicAttributes", optable.ScopeTopic, "SetTopicAttributes", "pubsub_topic_set"),
	}
}

// bucketRows are the operations on a bucket's contents and existence.
func bucketRows() []row {
	b := func(method, query string) match { return match{Method: method, Level: levelBucket, Query: query} }
	bs := optable.ScopeBucket
	return []row{
		{Op: OpCreateBucket, Match: b(mPut, ""), Action: act("s3:CreateBucket"), Scope: bs, Access: accessSigned, Hook: "create_bucket"},
		{Op: OpHeadBucket, Match: b(mHead, ""), Action: act("s3:ListBucket"), Scope: bs, Access: accessRead, Hook: "stat_bucket"},
		{Op: OpDeleteBucket, Match: b(mDelete, ""), Action: act("s3:DeleteBucket"), Scope: bs, Access: accessOwner, Hook: "delete_bucket"},
		{Op: OpListObjects, Match: b(mGet, ""), Action: act("s3:ListBucket"), Scope: bs, Access: accessRead, Hook: "list_bucket"},
		{Op: OpListObjectsV2, Match: match{Method: mGet, Level: levelBucket, Query: "list-type", Value: "2"},
			Action: act("s3:ListBucket"), Scope: bs, Access: accessRead, Hook: "list_bucket"},
		{Op: OpListObjectVersions, Match: b(mGet, "versions"), Action: act("s3:ListBucketVersions"), Scope: bs, Access: accessRead, Hook: "list_bucket"},
		{Op: OpListMultipartUploads, Match: b(mGet, "uploads"), Action: act("s3:ListBucketMultipartUploads"), Scope: bs, Access: accessRead,
			Hook: "list_bucket_multiparts"},
		{Op: OpDeleteObjects, Match: b(mPost, "delete"), Action: actV("s3:DeleteObject", "s3:DeleteObjectVersion"),
			Scope: optable.ScopeEntries, Entry: OpDeleteObject, Access: accessWrite, Event: evRemoved, Hook: "multi_object_delete"},
		{Op: OpPostObject, Match: b(mPost, ""), Action: act("s3:PutObject"), Scope: optable.ScopeObject, Access: accessWrite,
			FormAuth: true, Event: evPost, Hook: "post_obj"},
		{Op: OpPreflight, Match: b(http.MethodOptions, ""), Hook: "options_cors"},
		{Op: OpPreflight, Match: match{Method: http.MethodOptions, Level: levelObject}, Hook: "options_cors"},
		{Op: OpListenBucketNotification, Match: b(mGet, "events"), Action: act("s3:ListenBucketNotification"), Scope: bs,
			Access: accessOwner, Hook: "listen_bucket_notification"}, // MinIO's API; RGW has no such op
		{Op: OpGetBucketAcl, Match: b(mGet, "acl"), Action: act("s3:GetBucketAcl"), Scope: bs, Access: accessReadACP, Hook: "get_acls"},
		{Op: OpPutBucketAcl, Match: b(mPut, "acl"), Action: act("s3:PutBucketAcl"), Scope: bs, Access: accessWriteACP, Hook: "put_acls"},
	}
}

// bucketConfigRows are the operations on a bucket's configuration, which
// only its owner (or whom the policy allows) reads and changes.
func bucketConfigRows() []row {
	cfg := func(op Op, method, query, action, hook string) row {
		return row{Op: op, Match: match{Method: method, Level: levelBucket, Query: query}, Action: act(action),
			Scope: optable.ScopeBucket, Access: accessOwner, Hook: hook}
	}
	return []row{
		cfg(OpGetBucketLocation, mGet, "location", "s3:GetBucketLocation", "get_bucket_location"),
		cfg(OpGetBucketVersioning, mGet, "versioning", "s3:GetBucketVersioning", "get_bucket_versioning"),
		cfg(OpPutBucketVersioning, mPut, "versioning", "s3:PutBucketVersioning", "set_bucket_versioning"),
		cfg(OpGetBucketTagging, mGet, "tagging", "s3:GetBucketTagging", "get_bucket_tags"),
		cfg(OpPutBucketTagging, mPut, "tagging", "s3:PutBucketTagging", "put_bucket_tags"),
		cfg(OpDeleteBucketTagging, mDelete, "tagging", "s3:PutBucketTagging", "delete_bucket_tags"),
		cfg(OpGetBucketNotification, mGet, "notification", "s3:GetBucketNotification", "pubsub_notifications_get_s3"),
		cfg(OpPutBucketNotification, mPut, "notification", "s3:PutBucketNotification", "pubsub_notification_create_s3"),
		cfg(OpDeleteBucketNotification, mDelete, "notification", "s3:PutBucketNotification", "pubsub_notification_delete_s3"),
		cfg(OpGetBucketCors, mGet, "cors", "s3:GetBucketCORS", "get_cors"),
		cfg(OpPutBucketCors, mPut, "cors", "s3:PutBucketCORS", "put_cors"),
		cfg(OpDeleteBucketCors, mDelete, "cors", "s3:PutBucketCORS", "delete_cors"),
		cfg(OpGetBucketLifecycle, mGet, "lifecycle", "s3:GetLifecycleConfiguration", "get_lifecycle"),
		cfg(OpPutBucketLifecycle, mPut, "lifecycle", "s3:PutLifecycleConfiguration", "put_lifecycle"),
		cfg(OpDeleteBucketLifecycle, mDelete, "lifecycle", "s3:PutLifecycleConfiguration", "delete_lifecycle"),
		cfg(OpGetBucketEncryption, mGet, "encryption", "s3:GetEncryptionConfiguration", "get_bucket_encryption"),
		cfg(OpPutBucketEncryption, mPut, "encryption", "s3:PutEncryptionConfiguration", "put_bucket_encryption"),
		cfg(OpDeleteBucketEncryption, mDelete, "encryption", "s3:PutEncryptionConfiguration", "delete_bucket_encryption"),
		cfg(OpGetBucketPolicy, mGet, "policy", "s3:GetBucketPolicy", "get_bucket_policy"),
		cfg(OpPutBucketPolicy, mPut, "policy", "s3:PutBucketPolicy", "put_bucket_policy"),
		cfg(OpDeleteBucketPolicy, mDelete, "policy", "s3:DeleteBucketPolicy", "delete_bucket_policy"),
		cfg(OpGetBucketPolicyStatus, mGet, "policyStatus", "s3:GetBucketPolicyStatus", "get_bucket_policy_status"),
		cfg(OpGetPublicAccessBlock, mGet, "publicAccessBlock", "s3:GetBucketPublicAccessBlock", "get_bucket_public_access_block"),
		cfg(OpPutPublicAccessBlock, mPut, "publicAccessBlock", "s3:PutBucketPublicAccessBlock", "put_bucket_public_access_block"),
		cfg(OpDeletePublicAccessBlock, mDelete, "publicAccessBlock", "s3:PutBucketPublicAccessBlock", "delete_bucket_public_access_block"),
		// RGW has no ownership-controls ops; the names follow its pattern.
		cfg(OpGetBucketOwnership, mGet, "ownershipControls", "s3:GetBucketOwnershipControls", "get_bucket_ownership_controls"),
		cfg(OpPutBucketOwnership, mPut, "ownershipControls", "s3:PutBucketOwnershipControls", "put_bucket_ownership_controls"),
		cfg(OpDeleteBucketOwnership, mDelete, "ownershipControls", "s3:PutBucketOwnershipControls", "delete_bucket_ownership_controls"),
		cfg(OpGetObjectLockConfig, mGet, "object-lock", "s3:GetBucketObjectLockConfiguration", "get_bucket_object_lock"),
		cfg(OpPutObjectLockConfig, mPut, "object-lock", "s3:PutBucketObjectLockConfiguration", "put_bucket_object_lock"),
	}
}

// objectRows are the operations on one object (or one version of it).
func objectRows() []row {
	o := func(method, query string) match { return match{Method: method, Level: levelObject, Query: query} }
	obj := optable.ScopeObject
	copyMatch := func(query string) match {
		return match{Method: mPut, Level: levelObject, Query: query, Header: "X-Amz-Copy-Source"}
	}
	return []row{
		{Op: OpPutObject, Match: o(mPut, ""), Action: act("s3:PutObject"), Scope: obj, Access: accessWrite, Event: evPut, Hook: "put_obj"},
		{Op: OpCopyObject, Match: copyMatch(""), Action: act("s3:PutObject"), Scope: obj, Access: accessWrite,
			CopySource: true, Event: evCopy, Hook: "copy_obj"},
		{Op: OpGetObject, Match: o(mGet, ""), Action: actV("s3:GetObject", "s3:GetObjectVersion"), Scope: obj,
			Access: accessObjectRead, Hook: "get_obj"},
		{Op: OpHeadObject, Match: o(mHead, ""), Action: actV("s3:GetObject", "s3:GetObjectVersion"), Scope: obj,
			Access: accessObjectRead, Hook: "get_obj"},
		{Op: OpDeleteObject, Match: o(mDelete, ""), Action: actV("s3:DeleteObject", "s3:DeleteObjectVersion"), Scope: obj,
			Access: accessWrite, Event: evRemoved, Hook: "delete_obj"},
		{Op: OpGetObjectTagging, Match: o(mGet, "tagging"), Action: actV("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
			Scope: obj, Access: accessObjectRead, Hook: "get_obj_tags"},
		{Op: OpPutObjectTagging, Match: o(mPut, "tagging"), Action: actV("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
			Scope: obj, Access: accessWrite, Hook: "put_obj_tags"},
		{Op: OpDeleteObjectTagging, Match: o(mDelete, "tagging"), Action: actV("s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging"),
			Scope: obj, Access: accessWrite, Hook: "delete_obj_tags"},
		{Op: OpGetObjectAcl, Match: o(mGet, "acl"), Action: actV("s3:GetObjectAcl", "s3:GetObjectVersionAcl"), Scope: obj,
			Access: accessObjectReadACP, Hook: "get_acls"},
		{Op: OpPutObjectAcl, Match: o(mPut, "acl"), Action: actV("s3:PutObjectAcl", "s3:PutObjectVersionAcl"), Scope: obj,
			Access: accessObjectWriteACP, Hook: "put_acls"},
		{Op: OpGetObjectAttributes, Match: o(mGet, "attributes"),
			Action: actV("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"), Scope: obj, Access: accessObjectRead, Hook: "get_obj_attrs"},
		{Op: OpCreateMultipartUpload, Match: o(mPost, "uploads"), Action: act("s3:PutObject"), Scope: obj, Access: accessWrite, Hook: "init_multipart"},
		{Op: OpUploadPart, Match: o(mPut, "uploadId"), Action: act("s3:PutObject"), Scope: obj, Access: accessWrite, Hook: "put_obj"},
		{Op: OpUploadPartCopy, Match: copyMatch("uploadId"), Action: act("s3:PutObject"), Scope: obj, Access: accessWrite,
			CopySource: true, Hook: "put_obj"}, // RGW serves UploadPartCopy with its put_obj op
		{Op: OpCompleteMultipartUpload, Match: o(mPost, "uploadId"), Action: act("s3:PutObject"), Scope: obj, Access: accessWrite,
			Event: evComplete, Hook: "complete_multipart"},
		{Op: OpAbortMultipartUpload, Match: o(mDelete, "uploadId"), Action: act("s3:AbortMultipartUpload"), Scope: obj, Access: accessWrite,
			Hook: "abort_multipart"},
		{Op: OpListParts, Match: o(mGet, "uploadId"), Action: act("s3:ListMultipartUploadParts"), Scope: obj, Access: accessRead,
			Hook: "list_multipart"},
		{Op: OpGetObjectRetention, Match: o(mGet, "retention"), Action: act("s3:GetObjectRetention"), Scope: obj, Access: accessObjectRead,
			Hook: "get_obj_retention"},
		{Op: OpPutObjectRetention, Match: o(mPut, "retention"), Action: act("s3:PutObjectRetention"), Scope: obj, Access: accessWrite,
			Hook: "put_obj_retention"},
		{Op: OpGetObjectLegalHold, Match: o(mGet, "legal-hold"), Action: act("s3:GetObjectLegalHold"), Scope: obj, Access: accessObjectRead,
			Hook: "get_obj_legal_hold"},
		{Op: OpPutObjectLegalHold, Match: o(mPut, "legal-hold"), Action: act("s3:PutObjectLegalHold"), Scope: obj, Access: accessWrite,
			Hook: "put_obj_legal_hold"},
	}
}

// pubSubRows are the pull-mode PubSub API (pubsub.md), once mounted: its
// path segments "topics", "subscriptions" and "notifications" take the
// bucket's place, the rest the key's. Every resource belongs to a user:
// the router refuses anonymous callers and the handlers limit the caller
// to their own topics, subscriptions and buckets.
func pubSubRows() []row {
	ps := func(op Op, method string, lvl optable.Level, mount, query, action string, scope optable.Scope, hook string) row {
		return row{Op: op, Match: match{Method: method, Level: lvl, Mount: mount, Query: query}, Action: act(action),
			Scope: scope, Access: accessSigned, Hook: hook}
	}
	topic, sub, bucket := optable.ScopeTopic, optable.ScopeSubscription, optable.ScopeBucket
	return []row{
		ps(OpPSListTopics, mGet, levelBucket, "topics", "", "sns:ListTopics", optable.ScopeService, "pubsub_topics_list"),
		ps(OpPSCreateTopic, mPut, levelObject, "topics", "", "sns:CreateTopic", topic, "pubsub_topic_create"),
		ps(OpPSGetTopic, mGet, levelObject, "topics", "", "sns:GetTopicAttributes", topic, "pubsub_topic_get"),
		ps(OpPSDeleteTopic, mDelete, levelObject, "topics", "", "sns:DeleteTopic", topic, "pubsub_topic_delete"),
		ps(OpPSCreateNotification, mPut, levelObject, "notifications", "", "s3:PutBucketNotification", bucket, "pubsub_notification_create"),
		ps(OpPSDeleteNotification, mDelete, levelObject, "notifications", "", "s3:PutBucketNotification", bucket, "pubsub_notification_delete"),
		ps(OpPSListNotifications, mGet, levelObject, "notifications", "", "s3:GetBucketNotification", bucket, "pubsub_notifications_list"),
		ps(OpPSCreateSubscription, mPut, levelObject, "subscriptions", "", "", sub, "pubsub_subscription_create"),
		ps(OpPSGetSubscription, mGet, levelObject, "subscriptions", "", "", sub, "pubsub_subscription_get"),
		ps(OpPSPullEvents, mGet, levelObject, "subscriptions", "events", "", sub, "pubsub_subscription_pull"),
		ps(OpPSDeleteSubscription, mDelete, levelObject, "subscriptions", "", "", sub, "pubsub_subscription_delete"),
		ps(OpPSAckEvents, mPost, levelObject, "subscriptions", "ack", "", sub, "pubsub_subscription_ack"),
		ps(OpPSNackEvents, mPost, levelObject, "subscriptions", "nack", "", sub, "pubsub_subscription_nack"), // Cairn's
	}
}

// notImplementedRows route the sub-resources Cairn does not serve to a
// NotImplemented answer instead of a default operation such as ListObjects
// or CreateBucket. Only the bucket's owner learns that: others are refused
// first, as for any operation on the bucket.
func notImplementedRows() []row {
	var t []row
	for _, m := range []string{mGet, mPut, mDelete, mPost} {
		for _, q := range unimplementedBucketSubresources {
			t = append(t, row{Op: OpBucketSubresourceNotImpl, Match: match{Method: m, Level: levelBucket, Query: q},
				Scope: optable.ScopeBucket, Access: accessOwner})
		}
		for _, q := range unimplementedObjectSubresources {
			t = append(t, row{Op: OpObjectSubresourceNotImpl, Match: match{Method: m, Level: levelObject, Query: q},
				Scope: optable.ScopeObject, Access: accessOwner})
		}
	}
	return t
}

// Table returns a copy of the operation table, for tests and tools that
// walk every operation.
func Table() []optable.Row { return append([]optable.Row(nil), table...) }
