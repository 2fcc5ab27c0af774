// Package auth authenticates S3 (and SNS-style) requests the way AWS does:
// Signature Version 4 in the Authorization header or in a presigned query,
// including aws-chunked streaming uploads with chunk signatures and
// trailers, and the legacy Signature Version 2 (header and query).
//
// Verify checks the signature of the request head before the handler runs.
// A SigV4 signature must cover every x-amz-* header of the request (S3's
// rule; unsigned ones answer AccessDenied with HeadersNotSigned), since
// such headers change what a request does: x-amz-copy-source turns a PUT
// into a copy, x-amz-acl publishes it. SigV2 signs them all by design.
//
// Canonical forms: where real clients differ in an order or spelling that
// carries no meaning (minio-go keeps repeated query values in the order
// sent; its SigV2 writes "?uploads" for "uploads="), each form is tried;
// every accepted form still covers every parameter, header and value of
// the request, so accepting it authorises nothing the strict form would
// not.
// The body cannot be checked up front without buffering it, so Verify
// replaces r.Body with a reader that checks the payload while it streams
// (the x-amz-content-sha256 hash, each aws-chunked chunk signature, the
// trailer signature and trailer checksums) and reports a failure from Read
// in place of io.EOF.
//
// Streaming choice: a chunk's bytes are handed to the caller as they arrive
// and its signature is checked when the chunk ends, so memory stays bounded
// whatever the chunk size (clients send chunks of several MiB). Bytes of a
// chunk whose signature later proves wrong have then already been read by
// the caller. That is safe because every consumer of a request body in
// Cairn commits only when Read returned io.EOF: any error before EOF aborts
// the write and nothing unverified becomes visible.
package auth
