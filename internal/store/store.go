// Package store is the contract between Cairn's S3 adapter and its storage
// backends: domain types, sentinel errors and small role interfaces.
//
// Every backend (the embedded local store, later RADOS) must pass the
// conformance suite in store/storetest, which is the executable definition of
// the semantics documented here.
//
// Invariants every backend keeps (see shared/design.md):
//   - A method that returns nil error for a write has made it durable: data
//     and the metadata that makes it visible are on stable storage.
//   - A write is never visible half-done; a crash leaves the old or the new
//     state. Leftovers of interrupted writes are removed when the store opens.
//   - The ChangeHook runs inside the metadata commit of every object change, so
//     records it writes exist iff the change does.
//   - Bodies stream: memory use does not grow with object size.
package store

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
)

// Sentinel errors. The S3 adapter maps each onto one S3 error code.
var (
	ErrNoSuchBucket         = errors.New("store: no such bucket")
	ErrBucketExists         = errors.New("store: bucket already exists")
	ErrBucketNotEmpty       = errors.New("store: bucket not empty")
	ErrNoSuchKey            = errors.New("store: no such key")
	ErrNoSuchVersion        = errors.New("store: no such version")
	ErrNoSuchUpload         = errors.New("store: no such upload")
	ErrInvalidPart          = errors.New("store: invalid part")
	ErrInvalidPartOrder     = errors.New("store: invalid part order")
	ErrEntityTooSmall       = errors.New("store: entity too small")
	ErrEntityTooLarge       = errors.New("store: entity too large")
	ErrBadDigest            = errors.New("store: content-md5 mismatch")
	ErrIncompleteBody       = errors.New("store: body shorter than declared size")
	ErrInvalidRange         = errors.New("store: range not satisfiable")
	ErrMethodNotAllowed     = errors.New("store: method not allowed on a delete marker")
	ErrPreconditionFailed   = errors.New("store: precondition failed")
	ErrNotFound             = errors.New("store: not found") // kv
	ErrInvalidVersionID     = errors.New("store: invalid version id")
	ErrInvalidObjectState   = errors.New("store: invalid object state")
	ErrKeyTooLong           = errors.New("store: key too long")
	ErrInvalidPartNumber    = errors.New("store: invalid part number")
	ErrUploadBucketMismatch = errors.New("store: upload belongs to another key")
	// ErrDataCorrupt means stored data failed verification (bit rot, a
	// truncated or missing data file): nothing of it is served.
	ErrDataCorrupt = errors.New("store: stored data failed verification")
	// ErrStorageFull refuses new data while free space is below the
	// store's reserve, so that the metadata store keeps room for deletes.
	ErrStorageFull = errors.New("store: storage full")
)

// MaxKeyLength is the longest object key, in bytes, as in S3.
const MaxKeyLength = 1024

// MinPartSize is the smallest size of every part but the last of a multipart upload.
const MinPartSize = 5 << 20

// NullVersion is the version id of an object written while versioning was
// never enabled or is suspended.
const NullVersion = "null"

// Versioning is a bucket's versioning state.
type Versioning string

// Versioning states. Unversioned buckets have never had versioning enabled.
const (
	Unversioned Versioning = ""
	Enabled     Versioning = "Enabled"
	Suspended   Versioning = "Suspended"
)

// Bucket describes a bucket.
type Bucket struct {
	Name       string
	Owner      string // user id
	Created    time.Time
	Region     string // LocationConstraint; "" is the default region
	Versioning Versioning
	ACL        string // canned ACL ("private" by default) or a grant list encoded by s3api (JSON)
	// Config holds opaque per-subsystem documents (for example
	// "notification", "tagging", "policy"), owned by the subsystem that
	// writes them.
	Config map[string][]byte
}

// Checksum algorithms S3 knows, as used in x-amz-checksum-<algo> headers
// (lower case) and ChecksumAlgorithm fields (upper case).
const (
	ChecksumCRC32     = "CRC32"
	ChecksumCRC32C    = "CRC32C"
	ChecksumCRC64NVME = "CRC64NVME"
	ChecksumSHA1      = "SHA1"
	ChecksumSHA256    = "SHA256"
)

// Metadata is what a client sets on an object besides its body.
type Metadata struct {
	ContentType        string
	ContentEncoding    string
	ContentDisposition string
	ContentLanguage    string
	CacheControl       string
	Expires            string
	// User holds x-amz-meta-* values keyed by the lower-case name without the prefix.
	User map[string]string
	// Tags is the object's tag set.
	Tags map[string]string
	// ACL is the canned ACL ("" means private) or a grant list encoded by
	// s3api (JSON); the store keeps it verbatim.
	ACL          string
	StorageClass string
	// Checksums maps an algorithm (ChecksumCRC32, ...) to its base64 value.
	Checksums map[string]string
	// ChecksumType is "FULL_OBJECT" or "COMPOSITE" for multipart objects.
	ChecksumType string
	// Object lock: LockMode is "GOVERNANCE", "COMPLIANCE" or "" (no
	// retention), LockRetainUntil the end of the retention, and LegalHold
	// "ON", "OFF" or "" (never set).
	LockMode        string    `json:",omitempty"`
	LockRetainUntil time.Time `json:",omitzero"`
	LegalHold       string    `json:",omitempty"`
	// SSE describes the server-side encryption of the stored bytes; nil
	// for plaintext objects. The store keeps it opaquely.
	SSE *SSEInfo `json:",omitempty"`
}

// SSEInfo records how an object (or an upload's parts) was encrypted by the
// S3 adapter. Encryption preserves lengths, so sizes, ranges and part
// boundaries are those of the plaintext. No secret is stored in clear: the
// data key is wrapped, and of a customer key only its md5 is kept.
type SSEInfo struct {
	Algorithm  string `json:"alg"`             // "AES256" (SSE-S3 and SSE-C) or "aws:kms"
	Customer   bool   `json:"c,omitempty"`     // SSE-C: the key-encryption key is the customer's
	KeyMD5     string `json:"kmd5,omitempty"`  // SSE-C: base64 md5 of the customer key
	KMSKeyID   string `json:"kid,omitempty"`   // SSE-KMS: the key id
	WrappedKey string `json:"wk"`              // the data key, sealed under the key-encryption key
	Nonce      string `json:"nonce,omitempty"` // single-PUT objects; parts carry their own (Part.SSENonce)
}

// Part describes one part of a completed multipart object, kept so that
// GET ?partNumber=N can serve it.
type Part struct {
	Number    int
	Size      int64
	ETag      string // hex md5 of the part, without quotes
	Checksums map[string]string
	// SSENonce is the part's encryption nonce (PartOptions.SSENonce).
	SSENonce string `json:",omitempty"`
}

// ObjectInfo describes one version of an object.
type ObjectInfo struct {
	Bucket       string
	Key          string
	VersionID    string // "" in unversioned buckets; NullVersion for the null version
	IsLatest     bool
	DeleteMarker bool
	Size         int64
	// ETag is the entity tag without quotes: hex md5, or "<hex>-N" for multipart.
	ETag         string
	LastModified time.Time
	Owner        string
	Meta         Metadata
	Parts        []Part // nil unless the object came from a multipart upload
}

// Range is a resolved byte range of an object: Length bytes from Offset.
type Range struct {
	Offset int64
	Length int64
}

// GetOptions select what GetObject and HeadObject return.
type GetOptions struct {
	VersionID  string // "" for the latest version
	Range      *Range // nil for the whole object; resolved against the size by the caller via RangeFunc
	PartNumber int    // 0 for the whole object
	// RangeFunc, if set, is called with the object's info once it is known
	// and returns the range to read (so callers can resolve suffix ranges
	// and conditional headers against the exact version read). Returning an
	// error aborts the read.
	RangeFunc func(ObjectInfo) (*Range, error)
}

// PutOptions carry what PutObject needs besides the body.
type PutOptions struct {
	Meta Metadata
	// Size is the declared body length, or -1 if unknown (aws-chunked bodies
	// declare it in x-amz-decoded-content-length, so it is usually known).
	// A body that ends early fails with ErrIncompleteBody.
	Size int64
	// ContentMD5, if set, is the expected md5 of the body; a mismatch fails
	// with ErrBadDigest and stores nothing.
	ContentMD5 []byte
	// Checksums, if set, is called after the body reached EOF and before the
	// commit; its result is merged into Meta.Checksums. It lets values that
	// arrive in a trailer be stored.
	Checksums func() map[string]string
	// Owner is the user id recorded as the object's owner.
	Owner string
	// MD5, if set, is called once the body reached EOF; the 16-byte digest
	// it returns is recorded as the object's md5 (its ETag) instead of the
	// md5 of the stored bytes. The S3 adapter sets it for encrypted bodies,
	// whose ETag is the md5 of the plaintext, not of the ciphertext.
	MD5 func() []byte
	// IfMatch / IfNoneMatch make the write conditional on the current latest
	// version (ETag, or "*" for "exists"/"does not exist").
	IfMatch     string
	IfNoneMatch string
}

// DeleteOptions select what DeleteObject removes.
type DeleteOptions struct {
	VersionID string // "" deletes the latest (adding a delete marker in versioned buckets)
	Owner     string // user id recorded as the owner of a delete marker it creates
	// Check, if set, is called with the version a delete is about to
	// remove (not when it only adds a delete marker), under the same lock
	// as the removal; an error aborts the delete and is returned.
	Check func(ObjectInfo) error
	// CheckHidden, if set, is called when a delete adds a delete marker,
	// under the same lock (or guard) as the write, with the version the
	// marker will hide (nil if the key has none); an error aborts the
	// delete and is returned. Lifecycle uses it so that a marker never
	// hides (or, in a suspended bucket, replaces) a version written after
	// the rule judged the key.
	CheckHidden func(hidden *ObjectInfo) error
}

// DeleteResult reports what a delete did.
type DeleteResult struct {
	VersionID    string // the version removed, or the delete marker's version created
	DeleteMarker bool   // a delete marker was created, or the removed version was one
}

// DeleteEntry is one delete of DeleteObjects.
type DeleteEntry struct {
	Key     string
	Options DeleteOptions
}

// DeleteOutcome is what DeleteObjects did for one entry.
type DeleteOutcome struct {
	Result DeleteResult
	Err    error
}

// CopySource names the object version a copy reads.
type CopySource struct {
	Bucket    string
	Key       string
	VersionID string
}

// CopyOptions carry what CopyObject needs besides source and destination.
type CopyOptions struct {
	// ReplaceMeta selects the REPLACE metadata directive: Meta replaces the
	// source's metadata. Otherwise the source's metadata is copied, except
	// that non-nil Meta.Tags still replaces the tags (x-amz-tagging-directive).
	ReplaceMeta bool
	Meta        Metadata
	ReplaceTags bool
	Owner       string
	// Check, if set, is called with the source's info before anything is
	// written (for x-amz-copy-source-if-* conditions).
	Check func(src ObjectInfo) error
}

// ListOptions page through the latest versions of a bucket's objects.
type ListOptions struct {
	Prefix    string
	Delimiter string
	Marker    string // list keys strictly after Marker
	MaxKeys   int    // 0 means 1000
}

// ListResult is one page of a listing.
type ListResult struct {
	Objects        []ObjectInfo
	CommonPrefixes []string
	IsTruncated    bool
	// NextMarker is the last key or common prefix returned, to continue after.
	NextMarker string
}

// ListVersionsOptions page through every version and delete marker.
type ListVersionsOptions struct {
	Prefix          string
	Delimiter       string
	KeyMarker       string
	VersionIDMarker string
	MaxKeys         int
}

// ListVersionsResult is one page of ListObjectVersions; Versions holds
// objects and delete markers in key order, newest version first per key.
type ListVersionsResult struct {
	Versions            []ObjectInfo
	CommonPrefixes      []string
	IsTruncated         bool
	NextKeyMarker       string
	NextVersionIDMarker string
}

// Upload describes an in-progress multipart upload.
type Upload struct {
	Bucket    string
	Key       string
	UploadID  string
	Initiated time.Time
	Owner     string
	Meta      Metadata
}

// PartOptions carry what UploadPart needs besides the body.
type PartOptions struct {
	Size       int64 // -1 if unknown
	ContentMD5 []byte
	Checksums  func() map[string]string
	// SSENonce, if set, is kept with the part and returned in the
	// completed object's Part.SSENonce (the part's encryption nonce).
	SSENonce string
	// MD5, if set, replaces the md5 of the stored bytes as the part's md5
	// (its ETag), as PutOptions.MD5 does.
	MD5 func() []byte
}

// CompletePart is one entry of a CompleteMultipartUpload request.
type CompletePart struct {
	Number    int
	ETag      string // without quotes
	Checksums map[string]string
}

// CompleteOptions refine CompleteMultipartUpload.
type CompleteOptions struct {
	// Checksums, if set, is called once the listed parts passed the store's
	// checks, before the commit and under the upload's lock, with the
	// upload and its listed parts in order (with their stored checksums).
	// The object records the checksums and checksum type it returns in
	// place of the upload's; an error it returns fails the completion and
	// changes nothing. It is not called when the upload was already
	// completed (the object it made is returned).
	Checksums func(up Upload, parts []Part) (sums map[string]string, typ string, err error)
	// IfMatch / IfNoneMatch make the completion conditional on the key's
	// latest version as PutOptions' do, checked inside the commit under the
	// key's lock, so of concurrent completions with IfNoneMatch "*" exactly
	// one succeeds. A failed check leaves the upload in place. An upload
	// already completed returns its object without a check.
	IfMatch     string
	IfNoneMatch string
}

// ListPartsOptions page through an upload's parts.
type ListPartsOptions struct {
	PartNumberMarker int
	MaxParts         int // 0 means 1000
}

// ListPartsResult is one page of ListParts.
type ListPartsResult struct {
	Upload               Upload
	Parts                []PartInfo
	IsTruncated          bool
	NextPartNumberMarker int
}

// PartInfo describes an uploaded part.
type PartInfo struct {
	Number       int
	Size         int64
	ETag         string
	LastModified time.Time
	Checksums    map[string]string
}

// ListUploadsOptions page through a bucket's in-progress uploads.
type ListUploadsOptions struct {
	Prefix         string
	Delimiter      string
	KeyMarker      string
	UploadIDMarker string
	MaxUploads     int
}

// ListUploadsResult is one page of ListMultipartUploads.
type ListUploadsResult struct {
	Uploads            []Upload
	CommonPrefixes     []string
	IsTruncated        bool
	NextKeyMarker      string
	NextUploadIDMarker string
}

// BucketStore manages buckets.
type BucketStore interface {
	// CreateBucket fails with ErrBucketExists if the name is taken (by
	// anyone; the caller compares owners).
	CreateBucket(ctx context.Context, b Bucket) error
	GetBucket(ctx context.Context, name string) (Bucket, error)
	// ListBuckets returns every bucket, sorted by name.
	ListBuckets(ctx context.Context) ([]Bucket, error)
	// DeleteBucket fails with ErrBucketNotEmpty while any object version or
	// delete marker remains; in-progress uploads are aborted with the bucket.
	DeleteBucket(ctx context.Context, name string) error
	// UpdateBucket applies fn to the bucket atomically.
	UpdateBucket(ctx context.Context, name string, fn func(*Bucket) error) error
	// UpdateBucketRecords is UpdateBucket whose fn may also add writes of
	// system records (the kv namespace) to w: they commit in the same
	// atomic commit as the bucket record, so that state derived from a
	// bucket's configuration (the pull subscriptions of its notifications)
	// exists iff the configuration does. An error of fn writes nothing.
	UpdateBucketRecords(ctx context.Context, name string, fn func(b *Bucket, w *kv.Batch) error) error
}

// ObjectStore manages objects and their versions.
type ObjectStore interface {
	PutObject(ctx context.Context, bucket, key string, body io.Reader, opts PutOptions) (ObjectInfo, error)
	// GetObject returns the version's info and a reader of the selected
	// range. Reading a delete marker fails with ErrNoSuchKey (latest) or
	// ErrMethodNotAllowed (by version id), returning its info as well.
	GetObject(ctx context.Context, bucket, key string, opts GetOptions) (ObjectInfo, io.ReadCloser, error)
	HeadObject(ctx context.Context, bucket, key string, opts GetOptions) (ObjectInfo, error)
	DeleteObject(ctx context.Context, bucket, key string, opts DeleteOptions) (DeleteResult, error)
	// DeleteObjects deletes several keys of one bucket as DeleteObject
	// deletes each, returning one outcome per entry, in order. Each entry
	// is atomic on its own and independent of the others: one failing
	// fails no other, and the ChangeHook runs once per entry that changes
	// something. Nothing more is promised: a backend may commit all
	// entries together (the local store makes one commit per call) or
	// apart (a sharded one, per shard).
	DeleteObjects(ctx context.Context, bucket string, entries []DeleteEntry) []DeleteOutcome
	CopyObject(ctx context.Context, src CopySource, dstBucket, dstKey string, opts CopyOptions) (ObjectInfo, error)
	// UpdateObject applies fn to a version's metadata (tags, ACL) in place.
	// It is no object change: no hook runs.
	UpdateObject(ctx context.Context, bucket, key, versionID string, fn func(*ObjectInfo) error) (ObjectInfo, error)
	// TransitionObject relabels a version's storage class in place (a
	// lifecycle transition: storage classes are labels, no data moves).
	// check, if set, is called with the version first, under the same
	// lock as the change; an error aborts it and is returned. The
	// ChangeHook runs with ChangeTransition and the relabeled version. A
	// delete marker cannot be relabeled (ErrMethodNotAllowed).
	TransitionObject(ctx context.Context, bucket, key, versionID, storageClass string, check func(ObjectInfo) error) (ObjectInfo, error)
	ListObjects(ctx context.Context, bucket string, opts ListOptions) (ListResult, error)
	ListObjectVersions(ctx context.Context, bucket string, opts ListVersionsOptions) (ListVersionsResult, error)
}

// MultipartStore manages multipart uploads.
type MultipartStore interface {
	CreateMultipartUpload(ctx context.Context, bucket, key string, opts PutOptions) (Upload, error)
	UploadPart(ctx context.Context, bucket, key, uploadID string, number int, body io.Reader, opts PartOptions) (PartInfo, error)
	// CompleteMultipartUpload checks parts (order, ETags, minimum size) and
	// commits the object; its ETag is md5(concat(part md5s)) + "-N".
	CompleteMultipartUpload(ctx context.Context, bucket, key, uploadID string, parts []CompletePart, opts CompleteOptions) (ObjectInfo, error)
	// AbortMultipartUpload removes an upload and its parts; the ChangeHook
	// runs with ChangeAbortUpload (Object names the key, no version, with
	// the upload's metadata and owner, LastModified the abort's time).
	AbortMultipartUpload(ctx context.Context, bucket, key, uploadID string) error
	ListParts(ctx context.Context, bucket, key, uploadID string, opts ListPartsOptions) (ListPartsResult, error)
	ListMultipartUploads(ctx context.Context, bucket string, opts ListUploadsOptions) (ListUploadsResult, error)
}

// Backend is everything the S3 adapter needs from storage.
type Backend interface {
	BucketStore
	ObjectStore
	MultipartStore
	io.Closer
}

// ChangeKind names the object change a commit made.
type ChangeKind int

// Object changes reported to a ChangeHook.
const (
	ChangePut                 ChangeKind = iota + 1 // PutObject (and POST uploads)
	ChangeCopy                                      // CopyObject
	ChangeCompleteMultipart                         // CompleteMultipartUpload
	ChangeDelete                                    // a version or an unversioned object removed
	ChangeDeleteMarkerCreated                       // a delete marker added
	// ChangeTransition is a version's storage class relabeled
	// (TransitionObject). No S3 request makes it: the caller names its
	// events (lifecycle, through reqctx).
	ChangeTransition
	// ChangeAbortUpload is an incomplete multipart upload aborted; S3
	// sends no event for it unless the caller names one (lifecycle).
	ChangeAbortUpload
)

func (k ChangeKind) String() string {
	switch k {
	case ChangePut:
		return "Put"
	case ChangeCopy:
		return "Copy"
	case ChangeCompleteMultipart:
		return "CompleteMultipartUpload"
	case ChangeDelete:
		return "Delete"
	case ChangeDeleteMarkerCreated:
		return "DeleteMarkerCreated"
	case ChangeTransition:
		return "Transition"
	case ChangeAbortUpload:
		return "AbortUpload"
	}
	return "Unknown"
}

// Change describes one committed object change.
type Change struct {
	Kind   ChangeKind
	Object ObjectInfo // the version written, or the version/marker removed or created
	// Hidden is, for ChangeDeleteMarkerCreated, the version that was
	// current before the marker hid it (nil if the key had none): event
	// records report its size and ETag (RGW does).
	Hidden *ObjectInfo
	// Bucket is the object's bucket as the commit read it, configuration
	// documents included, so a hook needs no second read per write.
	Bucket Bucket
	// Sequence is a store-wide number that grows with every commit; with
	// the key it orders changes per object.
	Sequence uint64
	Time     time.Time
}

// RecordWriter adds records to the commit in progress.
type RecordWriter interface {
	// Put writes key=value in the same atomic commit as the change. Keys
	// live in the namespace of the kv package and must not collide with
	// the store's own.
	Put(key, value []byte) error
	// AfterCommit registers fn to run once the commit is durable and the
	// change readable (to wake delivery workers), before the method that
	// made the change returns; it does not run if the commit fails. fn may
	// call the store.
	AfterCommit(fn func())
	// AfterAbort registers fn to run if the commit fails or is abandoned,
	// once it is certain the change will not become visible; exactly one of
	// a commit's AfterCommit and AfterAbort callbacks runs. It lets a hook
	// release what it reserved for the commit (such as a log position).
	AfterAbort(fn func())
}

// ChangeHook is called inside the commit of every object change. Records it
// writes through w commit atomically with the change; an error aborts the
// change, which the caller sees as the operation's error. The context is the
// request's, so the hook can read request data (user, source address, ids).
// It must be fast: it runs while the commit is being prepared.
type ChangeHook func(ctx context.Context, c Change, w RecordWriter) error
