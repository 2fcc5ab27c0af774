package s3api

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"syscall"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// storeErrors maps the store's sentinel errors onto S3 errors: the one place
// where that translation happens.
var storeErrors = []struct {
	err error
	s3  *s3err.Error
}{
	{store.ErrNoSuchBucket, s3err.NoSuchBucket},
	{store.ErrBucketExists, s3err.BucketAlreadyExists},
	{store.ErrBucketNotEmpty, s3err.BucketNotEmpty},
	{store.ErrNoSuchKey, s3err.NoSuchKey},
	{store.ErrNoSuchVersion, s3err.NoSuchVersion},
	{store.ErrNoSuchUpload, s3err.NoSuchUpload},
	{store.ErrInvalidPart, s3err.InvalidPart},
	{store.ErrInvalidPartOrder, s3err.InvalidPartOrder},
	{store.ErrEntityTooSmall, s3err.EntityTooSmall},
	{store.ErrEntityTooLarge, s3err.EntityTooLarge},
	{store.ErrBadDigest, s3err.BadDigest},
	{store.ErrIncompleteBody, s3err.IncompleteBody},
	{store.ErrInvalidRange, s3err.InvalidRange},
	{store.ErrMethodNotAllowed, s3err.MethodNotAllowed},
	{store.ErrPreconditionFailed, s3err.PreconditionFailed},
	{store.ErrInvalidVersionID, s3err.InvalidArgument.WithMessage("Invalid version id specified")},
	{store.ErrInvalidObjectState, s3err.InvalidObjectState},
	{store.ErrKeyTooLong, s3err.KeyTooLongError},
	{store.ErrInvalidPartNumber, s3err.InvalidArgument.WithMessage("Part number must be an integer between 1 and 10000, inclusive")},
	{store.ErrUploadBucketMismatch, s3err.NoSuchUpload},
	// Damaged stored data is the server's failure, as in S3 and MinIO: a
	// 500 that names nothing internal (the store logs the details).
	{store.ErrDataCorrupt, s3err.InternalError},
	{errPolicyDenied, s3err.AccessDenied},
	// A full disk or quota, whether the store saw it coming (its reserve)
	// or a write hit it.
	{store.ErrStorageFull, s3err.StorageFull},
	{syscall.ENOSPC, s3err.StorageFull},
	{syscall.EDQUOT, s3err.StorageFull},
	// A storage cluster that did not answer within its client's timeout
	// (the RADOS store's --ceph-osd-timeout and --ceph-mon-timeout): the
	// request may succeed later.
	{syscall.ETIMEDOUT, s3err.ServiceUnavailable.WithMessage("The storage cluster did not answer in time; please retry.")},
}

// errorCoder is an error carrying a negative errno (go-ceph's errors of
// librados calls), which the table matches as that syscall.Errno.
type errorCoder interface {
	error
	ErrorCode() int
}

// toS3 returns the S3 error for err: an *s3err.Error in its chain, a mapped
// store sentinel, or InternalError.
func toS3(err error) *s3err.Error {
	if e := s3err.As(err); e != nil {
		return e
	}
	for _, m := range storeErrors {
		if errors.Is(err, m.err) {
			return m.s3.WithCause(err)
		}
	}
	if ec, ok := errors.AsType[errorCoder](err); ok && ec.ErrorCode() < 0 {
		errno := syscall.Errno(-ec.ErrorCode())
		for _, m := range storeErrors {
			if errors.Is(errno, m.err) {
				return m.s3.WithCause(err)
			}
		}
	}
	if errors.Is(err, context.Canceled) {
		return s3err.RequestTimeout.WithCause(err)
	}
	return s3err.InternalError.WithCause(err)
}

type errorResponse struct {
	XMLName xml.Name `xml:"Error"`
	Code    string
	Message string

	// HeadersNotSigned lists the headers a SigV4 request did not sign
	// (AWS places it right after Message).
	HeadersNotSigned string `xml:",omitempty"`

	Resource   string `xml:",omitempty"`
	Key        string `xml:",omitempty"`
	BucketName string `xml:",omitempty"`
	RequestID  string `xml:"RequestId"`
	HostID     string `xml:"HostId"`
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, req *Request, err error) {
	e := toS3(err)
	req.errCode = e.Code
	switch {
	case e.Code == s3err.NotImplemented.Code:
		// A client probing a feature: nothing failed on this side.
		a.log.DebugContext(r.Context(), "operation not implemented", "op", req.Op, "bucket", req.Bucket, "request_id", req.ID, "err", err)
	case e.Status >= 500:
		a.log.ErrorContext(r.Context(), "request failed", "op", req.Op, "bucket", req.Bucket, "request_id", req.ID, "err", err)
	default:
		a.log.DebugContext(r.Context(), "request rejected", "op", req.Op, "code", e.Code, "request_id", req.ID, "err", err)
	}
	// HEAD responses and 304 carry no body.
	if r.Method == http.MethodHead || e.Status == http.StatusNotModified {
		w.WriteHeader(e.Status)
		return
	}
	resource := r.URL.Path
	if req.formAPI {
		resource = "" // the topic API's envelope has no Resource (notifications.md §2.3)
	}
	writeXMLStatus(w, e.Status, errorResponse{
		Code: e.Code, Message: e.Message, Resource: resource,
		Key: req.Key, BucketName: req.BucketName(), RequestID: req.ID, HostID: req.ID,
		HeadersNotSigned: e.HeadersNotSigned,
	})
}
