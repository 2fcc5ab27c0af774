// Package policy parses and evaluates S3 bucket policies: JSON documents of
// statements that Allow or Deny principals actions on resources, under
// conditions.
//
// It knows nothing of HTTP or of the store: the S3 adapter describes a
// request as a Request (who, which action, which resource, and a lookup for
// condition keys) and gets back a Decision. An explicit Deny beats any
// Allow; a request no statement matches is left to the caller's default
// (ownership and ACLs).
package policy
