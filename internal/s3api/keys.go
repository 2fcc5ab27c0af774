package s3api

import (
	"strings"
	"unicode/utf8"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// keyCreatingOps are the operations whose key becomes (or is about to
// become) an object's name. Only they check the key: an object stored
// under an invalid key before the check existed must stay readable and
// deletable by its percent-encoded name (the one encoding-type=url lists).
var keyCreatingOps = map[Op]bool{
	OpPutObject:               true,
	OpCopyObject:              true,
	OpCreateMultipartUpload:   true,
	OpUploadPart:              true,
	OpUploadPartCopy:          true,
	OpCompleteMultipartUpload: true,
}

// validKey reports whether key can name an object: UTF-8 (S3 keys are
// Unicode; an invalid byte would list as U+FFFD, a name no request can
// address) and no NUL (no XML document can carry it).
func validKey(key string) bool {
	return utf8.ValidString(key) && !strings.ContainsRune(key, 0)
}

// checkNewKey rejects the key of an operation that creates one, the way S3
// rejects a path that is not UTF-8: 400 InvalidURI, before anything is read
// or stored.
func checkNewKey(op Op, key string) error {
	if key == "" || !keyCreatingOps[op] || validKey(key) {
		return nil
	}
	return s3err.InvalidURI
}

// checkFormKey is checkNewKey for the key field of a POST form, which is
// not part of the URI.
func checkFormKey(key string) error {
	if validKey(key) {
		return nil
	}
	return s3err.InvalidArgument.WithMessage("The key must be valid UTF-8 and must not contain NUL.")
}
