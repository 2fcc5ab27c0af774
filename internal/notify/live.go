package notify

import "github.com/cairn-s3/cairn/internal/store"

// ChangeEvent returns the event type a committed object change emits, for
// consumers of changes outside the dispatcher (the live event stream). op
// is the S3 operation name from reqctx.
func ChangeEvent(kind store.ChangeKind, op string, versioning store.Versioning) EventType {
	return changeEvent(kind, op, versioning)
}
