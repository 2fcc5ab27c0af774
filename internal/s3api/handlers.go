package s3api

import (
	"net/http"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// handlers is the operation → handler table. Every Op of the routing table
// has a row; ops served by other packages are installed with Handle.
func (a *API) handlers() map[Op]Handler {
	return map[Op]Handler{
		OpListBuckets:               a.listBuckets,
		OpCreateBucket:              a.createBucket,
		OpHeadBucket:                a.headBucket,
		OpDeleteBucket:              a.deleteBucket,
		OpGetBucketLocation:         a.getBucketLocation,
		OpListObjects:               a.listObjects,
		OpListObjectsV2:             a.listObjectsV2,
		OpListObjectVersions:        a.listObjectVersions,
		OpGetBucketVersioning:       a.getBucketVersioning,
		OpPutBucketVersioning:       a.putBucketVersioning,
		OpGetBucketAcl:              a.getBucketACL,
		OpPutBucketAcl:              a.putBucketACL,
		OpGetBucketTagging:          a.getBucketTagging,
		OpPutBucketTagging:          a.putBucketTagging,
		OpDeleteBucketTagging:       a.deleteBucketTagging,
		OpGetBucketCors:             a.getBucketCORS,
		OpPutBucketCors:             a.putBucketCORS,
		OpDeleteBucketCors:          a.deleteBucketCORS,
		OpGetBucketLifecycle:        a.getBucketLifecycle,
		OpPutBucketLifecycle:        a.putBucketLifecycle,
		OpDeleteBucketLifecycle:     a.deleteBucketLifecycle,
		OpPreflight:                 a.preflight,
		OpGetBucketEncryption:       a.getBucketEncryption,
		OpPutBucketEncryption:       a.putBucketEncryption,
		OpDeleteBucketEncryption:    a.deleteBucketEncryption,
		OpListMultipartUploads:      a.listMultipartUploads,
		OpDeleteObjects:             a.deleteObjects,
		OpPutObject:                 a.putObject,
		OpPostObject:                a.postObject,
		OpGetObject:                 a.getObject,
		OpHeadObject:                a.headObject,
		OpDeleteObject:              a.deleteObject,
		OpCopyObject:                a.copyObject,
		OpGetObjectTagging:          a.getObjectTagging,
		OpPutObjectTagging:          a.putObjectTagging,
		OpDeleteObjectTagging:       a.deleteObjectTagging,
		OpGetObjectAcl:              a.getObjectACL,
		OpPutObjectAcl:              a.putObjectACL,
		OpCreateMultipartUpload:     a.createMultipartUpload,
		OpUploadPart:                a.uploadPart,
		OpUploadPartCopy:            a.uploadPartCopy,
		OpCompleteMultipartUpload:   a.completeMultipartUpload,
		OpAbortMultipartUpload:      a.abortMultipartUpload,
		OpListParts:                 a.listParts,
		OpGetObjectAttributes:       a.getObjectAttributes,
		OpGetObjectLockConfig:       a.getObjectLockConfiguration,
		OpPutObjectLockConfig:       a.putObjectLockConfiguration,
		OpGetObjectRetention:        a.getObjectRetention,
		OpPutObjectRetention:        a.putObjectRetention,
		OpGetObjectLegalHold:        a.getObjectLegalHold,
		OpPutObjectLegalHold:        a.putObjectLegalHold,
		OpGetBucketPolicy:           a.getBucketPolicy,
		OpPutBucketPolicy:           a.putBucketPolicy,
		OpDeleteBucketPolicy:        a.deleteBucketPolicy,
		OpGetBucketPolicyStatus:     a.getBucketPolicyStatus,
		OpGetPublicAccessBlock:      a.getPublicAccessBlock,
		OpPutPublicAccessBlock:      a.putPublicAccessBlock,
		OpDeletePublicAccessBlock:   a.deletePublicAccessBlock,
		OpGetBucketOwnership:        a.getBucketOwnership,
		OpPutBucketOwnership:        a.putBucketOwnership,
		OpDeleteBucketOwnership:     a.deleteBucketOwnership,
		OpBucketSubresourceNotImpl:  notImplemented,
		OpObjectSubresourceNotImpl:  notImplemented,
		OpUnknown:                   methodNotAllowed,
		opMethodNotAllowedOnService: methodNotAllowed,
	}
}

func notImplemented(w http.ResponseWriter, r *http.Request, req *Request) error {
	return s3err.NotImplemented.WithMessage("This operation is not implemented (%s %s).", r.Method, r.URL.RawQuery)
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request, req *Request) error {
	return s3err.MethodNotAllowed
}
