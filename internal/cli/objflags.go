package cli

import (
	"fmt"
	"slices"

	"github.com/spf13/pflag"

	"github.com/cairn-s3/cairn/internal/transfer"
)

// objectFlags set what new objects get: content type, user metadata,
// canned ACL and server-side encryption.
type objectFlags struct {
	contentType, acl, sse, kmsKeyID string
	metadata                        map[string]string
}

// cannedACLs are the x-amz-acl values S3 defines.
var cannedACLs = []string{"private", "public-read", "public-read-write", "authenticated-read",
	"aws-exec-read", "bucket-owner-read", "bucket-owner-full-control"}

func (f *objectFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.contentType, "content-type", "", "Content-Type of uploaded objects (default: the server's)")
	fs.StringToStringVar(&f.metadata, "metadata", nil, "user metadata of new objects, k=v,k2=v2 (replaces a copied object's)")
	fs.StringVar(&f.acl, "acl", "", "canned ACL of new objects: private, public-read, public-read-write, authenticated-read, bucket-owner-read, bucket-owner-full-control")
	fs.StringVar(&f.sse, "sse", "", "server-side encryption of new objects: AES256 or aws:kms")
	fs.StringVar(&f.kmsKeyID, "sse-kms-key-id", "", "KMS key id for --sse aws:kms")
}

// options validates the flags before anything is sent.
func (f *objectFlags) options() (transfer.ObjectOptions, error) {
	o := transfer.ObjectOptions{ContentType: f.contentType, Metadata: f.metadata, ACL: f.acl, SSE: f.sse, SSEKMSKeyID: f.kmsKeyID}
	if o.ACL != "" && !slices.Contains(cannedACLs, o.ACL) {
		return o, fmt.Errorf("--acl %q is not a canned ACL (%v)", o.ACL, cannedACLs)
	}
	switch {
	case o.SSE != "" && o.SSE != "AES256" && o.SSE != "aws:kms":
		return o, fmt.Errorf("--sse %q: want AES256 or aws:kms", o.SSE)
	case o.SSEKMSKeyID != "" && o.SSE != "aws:kms":
		return o, fmt.Errorf("--sse-kms-key-id needs --sse aws:kms")
	}
	for k := range o.Metadata {
		if k == "" {
			return o, fmt.Errorf("--metadata: empty key")
		}
	}
	return o, nil
}
