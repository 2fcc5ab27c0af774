// Package s3err is the one table of S3 error codes: each code with its HTTP
// status and default message, and the Error value handlers return.
//
// Handlers and domain packages return *Error values (or sentinel errors that
// the S3 adapter maps onto them in one place); only the adapter renders them
// as the S3 XML error document.
package s3err

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error is an S3 error: the code a client matches on, the HTTP status, and a
// human-readable message. It may wrap an internal cause, which is never shown
// to the client.
type Error struct {
	Code    string
	Status  int
	Message string
	// HeadersNotSigned names, for AccessDenied on a SigV4 request, the
	// headers it carried without signing them (AWS's <HeadersNotSigned>
	// element: lower-case names joined by ", ").
	HeadersNotSigned string
	cause            error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.cause)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the internal cause, if any.
func (e *Error) Unwrap() error { return e.cause }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, s3err.NoSuchKey) holds for customised copies too.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// WithMessage returns a copy of e carrying a more specific message.
func (e *Error) WithMessage(format string, args ...any) *Error {
	c := *e
	if len(args) == 0 {
		c.Message = format
	} else {
		c.Message = fmt.Sprintf(format, args...)
	}
	return &c
}

// WithHeadersNotSigned returns a copy of e naming the headers a request
// carried unsigned.
func (e *Error) WithHeadersNotSigned(names ...string) *Error {
	c := *e
	c.HeadersNotSigned = strings.Join(names, ", ")
	return &c
}

// WithCause returns a copy of e wrapping an internal cause (kept for logs).
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

func def(code string, status int, msg string) *Error {
	e := &Error{Code: code, Status: status, Message: msg}
	if _, dup := table[code]; !dup { // variants with a special message keep the first as canonical
		table[code] = e
	}
	return e
}

var table = map[string]*Error{}

// Lookup returns the registered error for an S3 code.
func Lookup(code string) (*Error, bool) {
	e, ok := table[code]
	return e, ok
}

// All returns every registered error (for tests that check the table).
func All() []*Error {
	out := make([]*Error, 0, len(table))
	for _, e := range table {
		out = append(out, e)
	}
	return out
}

// The S3 errors Cairn answers with. Messages follow AWS's wording.
var (
	AccessDenied                        = def("AccessDenied", http.StatusForbidden, "Access Denied")
	AccessControlListNotSupported       = def("AccessControlListNotSupported", http.StatusBadRequest, "The bucket does not allow ACLs")
	AuthorizationHeaderMalformed        = def("AuthorizationHeaderMalformed", http.StatusBadRequest, "The authorization header is malformed.")
	AuthorizationQueryParametersError   = def("AuthorizationQueryParametersError", http.StatusBadRequest, "Error parsing the X-Amz-Credential parameter.")
	BadDigest                           = def("BadDigest", http.StatusBadRequest, "The Content-MD5 you specified did not match what we received.")
	BucketAlreadyExists                 = def("BucketAlreadyExists", http.StatusConflict, "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.")
	BucketAlreadyOwnedByYou             = def("BucketAlreadyOwnedByYou", http.StatusConflict, "Your previous request to create the named bucket succeeded and you already own it.")
	BucketNotEmpty                      = def("BucketNotEmpty", http.StatusConflict, "The bucket you tried to delete is not empty.")
	EntityTooLarge                      = def("EntityTooLarge", http.StatusBadRequest, "Your proposed upload exceeds the maximum allowed object size.")
	EntityTooSmall                      = def("EntityTooSmall", http.StatusBadRequest, "Your proposed upload is smaller than the minimum allowed object size.")
	ExpiredToken                        = def("ExpiredToken", http.StatusBadRequest, "The provided token has expired.")
	IncompleteBody                      = def("IncompleteBody", http.StatusBadRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	InternalError                       = def("InternalError", http.StatusInternalServerError, "We encountered an internal error. Please try again.")
	InvalidAccessKeyID                  = def("InvalidAccessKeyId", http.StatusForbidden, "The AWS Access Key Id you provided does not exist in our records.")
	InvalidArgument                     = def("InvalidArgument", http.StatusBadRequest, "Invalid Argument")
	InvalidBucketName                   = def("InvalidBucketName", http.StatusBadRequest, "The specified bucket is not valid.")
	InvalidBucketAclWithObjectOwnership = def("InvalidBucketAclWithObjectOwnership", http.StatusBadRequest, "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
	InvalidBucketState                  = def("InvalidBucketState", http.StatusConflict, "The request is not valid with the current state of the bucket.")
	InvalidDigest                       = def("InvalidDigest", http.StatusBadRequest, "The Content-MD5 you specified is not valid.")
	InvalidEncryptionAlgorithmError     = def("InvalidEncryptionAlgorithmError", http.StatusBadRequest, "The encryption request you specified is not valid.")
	InvalidLocationConstraint           = def("InvalidLocationConstraint", http.StatusBadRequest, "The specified location constraint is not valid.")
	InvalidObjectState                  = def("InvalidObjectState", http.StatusForbidden, "The operation is not valid for the current state of the object.")
	InvalidPart                         = def("InvalidPart", http.StatusBadRequest, "One or more of the specified parts could not be found. The part might not have been uploaded, or the specified entity tag might not have matched the part's entity tag.")
	InvalidPartOrder                    = def("InvalidPartOrder", http.StatusBadRequest, "The list of parts was not in ascending order. Parts list must be specified in order by part number.")
	InvalidRange                        = def("InvalidRange", http.StatusRequestedRangeNotSatisfiable, "The requested range is not satisfiable")
	InvalidRequest                      = def("InvalidRequest", http.StatusBadRequest, "Invalid Request")
	InvalidRetentionPeriod              = def("InvalidRetentionPeriod", http.StatusBadRequest, "The retention period must be a positive integer value.")
	IncorrectNumberOfFilesInPost        = def("IncorrectNumberOfFilesInPostRequest", http.StatusBadRequest, "POST requires exactly one file upload per request.")
	InvalidPolicyDocument               = def("InvalidPolicyDocument", http.StatusBadRequest, "The content of the form does not meet the conditions specified in the policy document.")
	InvalidStorageClass                 = def("InvalidStorageClass", http.StatusBadRequest, "The storage class you specified is not valid.")
	InvalidTag                          = def("InvalidTag", http.StatusBadRequest, "The tag provided was not a valid tag.")
	InvalidToken                        = def("InvalidToken", http.StatusBadRequest, "The provided token is malformed or otherwise invalid.")
	KeyTooLongError                     = def("KeyTooLongError", http.StatusBadRequest, "Your key is too long.")
	MalformedACLError                   = def("MalformedACLError", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema.")
	MalformedPOSTRequest                = def("MalformedPOSTRequest", http.StatusBadRequest, "The body of your POST request is not well-formed multipart/form-data.")
	MalformedXML                        = def("MalformedXML", http.StatusBadRequest, "The XML you provided was not well-formed or did not validate against our published schema.")
	MaxPostPreDataLengthExceeded        = def("MaxPostPreDataLengthExceeded", http.StatusBadRequest, "Your POST request fields preceding the upload file were too large.")
	MaxMessageLengthExceeded            = def("MaxMessageLengthExceeded", http.StatusBadRequest, "Your request was too big.")
	MetadataTooLarge                    = def("MetadataTooLarge", http.StatusBadRequest, "Your metadata headers exceed the maximum allowed metadata size.")
	MethodNotAllowed                    = def("MethodNotAllowed", http.StatusMethodNotAllowed, "The specified method is not allowed against this resource.")
	MissingContentLength                = def("MissingContentLength", http.StatusLengthRequired, "You must provide the Content-Length HTTP header.")
	MissingRequestBodyError             = def("MissingRequestBodyError", http.StatusBadRequest, "Request Body is empty.")
	MissingSecurityHeader               = def("MissingSecurityHeader", http.StatusBadRequest, "Your request was missing a required header.")
	NoSuchBucket                        = def("NoSuchBucket", http.StatusNotFound, "The specified bucket does not exist.")
	NoSuchBucketPolicy                  = def("NoSuchBucketPolicy", http.StatusNotFound, "The bucket policy does not exist.")
	MalformedPolicy                     = def("MalformedPolicy", http.StatusBadRequest, "Policies must be valid JSON and the first byte must be '{'")
	NoSuchPublicAccessBlock             = def("NoSuchPublicAccessBlockConfiguration", http.StatusNotFound, "The public access block configuration was not found")
	NoSuchCORSConfiguration             = def("NoSuchCORSConfiguration", http.StatusNotFound, "The CORS configuration does not exist.")
	NoSuchKey                           = def("NoSuchKey", http.StatusNotFound, "The specified key does not exist.")
	NoSuchLifecycleConfiguration        = def("NoSuchLifecycleConfiguration", http.StatusNotFound, "The lifecycle configuration does not exist.")
	NoSuchObjectLockConfiguration       = def("NoSuchObjectLockConfiguration", http.StatusNotFound, "The specified object does not have a ObjectLock configuration.")
	NoSuchTagSet                        = def("NoSuchTagSet", http.StatusNotFound, "The TagSet does not exist.")
	NoSuchUpload                        = def("NoSuchUpload", http.StatusNotFound, "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
	NoSuchVersion                       = def("NoSuchVersion", http.StatusNotFound, "The specified version does not exist.")
	NotImplemented                      = def("NotImplemented", http.StatusNotImplemented, "A header you provided implies functionality that is not implemented.")
	NotModified                         = def("NotModified", http.StatusNotModified, "Not Modified")
	OwnershipControlsNotFound           = def("OwnershipControlsNotFoundError", http.StatusNotFound, "The bucket ownership controls were not found")
	ObjectLockConfigurationNotFound     = def("ObjectLockConfigurationNotFoundError", http.StatusNotFound, "Object Lock configuration does not exist for this bucket")
	PreconditionFailed                  = def("PreconditionFailed", http.StatusPreconditionFailed, "At least one of the pre-conditions you specified did not hold")
	RequestTimeTooSkewed                = def("RequestTimeTooSkewed", http.StatusForbidden, "The difference between the request time and the server's time is too large.")
	RequestTimeout                      = def("RequestTimeout", http.StatusBadRequest, "Your socket connection to the server was not read from or written to within the timeout period. Idle connections will be closed.")
	ServiceUnavailable                  = def("ServiceUnavailable", http.StatusServiceUnavailable, "Please reduce your request rate.")
	SignatureDoesNotMatch               = def("SignatureDoesNotMatch", http.StatusForbidden, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	SlowDown                            = def("SlowDown", http.StatusServiceUnavailable, "Please reduce your request rate.")
	XAmzContentSHA256Mismatch           = def("XAmzContentSHA256Mismatch", http.StatusBadRequest, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	InvalidChecksum                     = def("InvalidRequest", http.StatusBadRequest, "Value for x-amz-checksum-* header is invalid.")
	MissingAttachment                   = def("MissingAttachment", http.StatusBadRequest, "A SOAP attachment was expected, but none were found.")
	UnexpectedContent                   = def("UnexpectedContent", http.StatusBadRequest, "This request does not support content.")
	UnresolvableGrantByEmailAddress     = def("UnresolvableGrantByEmailAddress", http.StatusBadRequest, "The email address you provided does not match any account on record.")
	InvalidURI                          = def("InvalidURI", http.StatusBadRequest, "Couldn't parse the specified URI.")
	NoSuchUser                          = def("NoSuchUser", http.StatusNotFound, "The specified user does not exist.")
	UserAlreadyExists                   = def("UserAlreadyExists", http.StatusConflict, "The specified user already exists.")
	KeyExists                           = def("KeyExists", http.StatusConflict, "The specified access key already exists.")
	NoSuchKeyAdmin                      = def("InvalidAccessKey", http.StatusNotFound, "The specified access key does not exist.")
	NotFound                            = def("NotFound", http.StatusNotFound, "Not Found")
	InvalidDigestChecksum               = def("BadDigest", http.StatusBadRequest, "The checksum you specified did not match what we received.")

	// StorageFull refuses new data on a full disk. 507 is retried by no
	// SDK (unlike 503 SlowDown); the code is MinIO's, so tools that know
	// MinIO's storage-full error recognise it.
	StorageFull = def("XMinioStorageFull", http.StatusInsufficientStorage, "Storage backend has reached its minimum free drive threshold. Please delete a few objects to proceed.")

	// The SNS-style topic API (RGW's codes; rendered in the S3 envelope).
	InvalidInput            = def("InvalidInput", http.StatusBadRequest, "")
	MalformedPolicyDocument = def("MalformedPolicyDocument", http.StatusBadRequest, "The policy document is malformed.")
	NoSuchTopic             = def("Not Found", http.StatusNotFound, "No such TopicArn") // sic: RGW's ERR_NOT_FOUND code has a space

	// Pull-mode PubSub (Cairn's own: RGW silently skipped expired events).
	EventsExpired = def("EventsExpired", http.StatusGone, "Events after the marker were removed by retention; pull without a marker to continue from the oldest retained event.")
)

// ServerSideEncryptionConfigurationNotFoundError answers GetBucketEncryption
// on a bucket without default encryption.
var ServerSideEncryptionConfigurationNotFoundError = def("ServerSideEncryptionConfigurationNotFoundError", http.StatusNotFound, "The server side encryption configuration was not found")
