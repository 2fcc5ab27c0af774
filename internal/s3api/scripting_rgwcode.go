package s3api

import "net/http"

// rgwErrnos are RGW's internal codes (errno values and rgw_common.h's
// ERR_*) behind the S3 error codes, from rgw_http_s3_errors: scripts see
// the negated value as Request.Response.RGWCode, as RGW's set_req_state_err
// stores it. Where several RGW codes answer one S3 code, the one RGW's ops
// return is listed.
var rgwErrnos = map[string]int{
	"PermanentRedirect": 2024, "NotModified": 2016,
	"InvalidArgument": 22, "InvalidRequest": 2021, "InvalidDigest": 2004, "BadDigest": 2005,
	"InvalidLocationConstraint": 2208, "InvalidBucketName": 2000, "InvalidObjectName": 2001,
	"UnresolvableGrantByEmailAddress": 2006, "InvalidPart": 2007, "InvalidPartOrder": 2008,
	"RequestTimeout": 2010, "EntityTooLarge": 2019, "EntityTooSmall": 2022, "TooManyBuckets": 2020,
	"MalformedXML": 2029, "XAmzContentSHA256Mismatch": 2040, "MalformedPolicyDocument": 2204,
	"InvalidTag": 2210, "MalformedACLError": 2212, "InvalidEncryptionAlgorithmError": 2214,
	"InvalidRetentionPeriod": 2047, "LimitExceeded": 2302, "MissingContentLength": 2011,
	"AccessDenied": 13, "SignatureDoesNotMatch": 2027, "InvalidAccessKeyId": 2028, "UserSuspended": 2100,
	"RequestTimeTooSkewed": 2012, "QuotaExceeded": 2026,
	"NoSuchKey": 2, "NoSuchBucket": 2002, "NoSuchWebsiteConfiguration": 2039, "NoSuchUpload": 2009,
	"NoSuchLifecycleConfiguration": 2041, "NoSuchBucketPolicy": 2207, "NoSuchCORSConfiguration": 2045,
	"ObjectLockConfigurationNotFoundError": 2046, "NoSuchTagSet": 2402,
	"ServerSideEncryptionConfigurationNotFoundError": 2048,
	"MethodNotAllowed": 2003, "BucketAlreadyExists": 17, "OperationAborted": 2209,
	"InvalidBucketState": 2221, "InvalidObjectState": 2222, "BucketNotEmpty": 39,
	"PreconditionFailed": 2015, "InvalidRange": 34, "UnprocessableEntity": 2018,
	"InternalError": 2200, "NotImplemented": 2201, "ServiceUnavailable": 2202, "SlowDown": 2218,
}

// rgwStatuses are RGW's codes for the successes it answers with other
// than 200 (STATUS_CREATED, STATUS_NO_CONTENT, STATUS_PARTIAL_CONTENT).
var rgwStatuses = map[int]int{http.StatusCreated: 1900, http.StatusNoContent: 1902, http.StatusPartialContent: 1903}

// rgwCode is Request.Response.RGWCode for a response: 0 for a plain
// success, RGW's negated code otherwise, -1 for an S3 error code RGW never
// answers with.
func rgwCode(status int, s3Code string) int {
	if s3Code == "" {
		return -rgwStatuses[status]
	}
	if n, ok := rgwErrnos[s3Code]; ok {
		return -n
	}
	return -1
}
