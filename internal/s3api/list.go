package s3api

import (
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// maxListKeys is the most entries one listing page holds; larger requests
// are clamped, as S3 does.
const maxListKeys = 1000

// storageClassOf is the storage class reported for an object.
func storageClassOf(m store.Metadata) string {
	if m.StorageClass != "" {
		return m.StorageClass
	}
	return "STANDARD"
}

// listParams are the query parameters shared by the listing operations.
type listParams struct {
	prefix, delimiter string
	maxKeys           int
	urlEncode         bool
	owner             func(userID string) *xmlOwner
}

// parseListParams reads prefix, delimiter, encoding-type and the page size
// named maxName (max-keys, max-uploads, max-parts).
func (a *API) parseListParams(r *http.Request, q url.Values, maxName string) (listParams, error) {
	p := listParams{prefix: q.Get("prefix"), delimiter: q.Get("delimiter"), maxKeys: maxListKeys, owner: a.ownerNamer(r.Context())}
	switch et := q.Get("encoding-type"); {
	case !q.Has("encoding-type"):
	case strings.EqualFold(et, "url"):
		p.urlEncode = true
	default:
		return p, s3err.InvalidArgument.WithMessage("Invalid Encoding Method specified in Request")
	}
	n, err := parseMax(q, maxName, maxListKeys)
	if err != nil {
		return p, err
	}
	p.maxKeys = n
	return p, nil
}

// parseMax reads a page-size parameter: absent means limit, values above
// limit are clamped, anything but a non-negative integer is InvalidArgument.
func parseMax(q url.Values, name string, limit int) (int, error) {
	if !q.Has(name) {
		return limit, nil
	}
	n, err := strconv.Atoi(q.Get(name))
	if err != nil || n < 0 {
		return 0, s3err.InvalidArgument.WithMessage("Provided %s not an integer or within integer range", name)
	}
	return min(n, limit), nil
}

// s3URLEncode encodes a key the way S3 does for encoding-type=url: every
// byte but unreserved characters and "/" is percent-encoded, so that both
// plain and "+"-aware URL decoders restore it.
func s3URLEncode(s string) string {
	const hex = "0123456789ABCDEF"
	n := 0
	for i := 0; i < len(s); i++ {
		if !urlSafe(s[i]) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if urlSafe(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

func urlSafe(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~' || c == '/'
}

// enc applies encoding-type=url when it was asked for.
func (p listParams) enc(s string) string {
	if p.urlEncode {
		return s3URLEncode(s)
	}
	return s
}

func (p listParams) encodingType() string {
	if p.urlEncode {
		return "url"
	}
	return ""
}

type xmlPrefix struct {
	Prefix string
}

func (p listParams) commonPrefixes(in []string) []xmlPrefix {
	out := make([]xmlPrefix, len(in))
	for i, s := range in {
		out[i] = xmlPrefix{Prefix: p.enc(s)}
	}
	return out
}

// xmlObject is one Contents entry of ListObjects(V2).
type xmlObject struct {
	Key               string
	LastModified      string
	ETag              string
	ChecksumAlgorithm string `xml:",omitempty"`
	ChecksumType      string `xml:",omitempty"`
	Size              int64
	Owner             *xmlOwner `xml:",omitempty"`
	StorageClass      string
}

func (p listParams) object(o store.ObjectInfo, withOwner bool) xmlObject {
	x := xmlObject{
		Key: p.enc(o.Key), LastModified: isoTime(o.LastModified), ETag: quoteETag(o.ETag),
		Size: o.Size, StorageClass: storageClassOf(o.Meta),
	}
	x.ChecksumAlgorithm, x.ChecksumType = checksumAlgorithmOf(o.Meta)
	if withOwner {
		x.Owner = p.owner(o.Owner)
	}
	return x
}

// checksumAlgorithmOf names the (single) additional checksum an object
// carries, and its type, for listings.
func checksumAlgorithmOf(m store.Metadata) (algo, typ string) {
	for _, a := range []string{store.ChecksumCRC64NVME, store.ChecksumCRC32, store.ChecksumCRC32C, store.ChecksumSHA1, store.ChecksumSHA256} {
		if m.Checksums[a] != "" {
			typ = m.ChecksumType
			if typ == "" {
				typ = "FULL_OBJECT"
			}
			return a, typ
		}
	}
	return "", ""
}

// listBucketResult is the ListObjects (v1) response.
type listBucketResult struct {
	XMLName        xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name           string
	Prefix         string
	Marker         string
	MaxKeys        int
	Delimiter      string `xml:",omitempty"`
	EncodingType   string `xml:",omitempty"`
	IsTruncated    bool
	NextMarker     string      `xml:",omitempty"`
	Contents       []xmlObject `xml:",omitempty"`
	CommonPrefixes []xmlPrefix `xml:",omitempty"`
}

// listPage reads one page of the latest versions, answering max-keys=0
// with an empty page as S3 does (the store reads 0 as the default).
func (a *API) listPage(r *http.Request, req *Request, p listParams, marker string) (store.ListResult, error) {
	if p.maxKeys == 0 {
		return store.ListResult{}, nil
	}
	return a.store.ListObjects(r.Context(), req.Bucket, store.ListOptions{
		Prefix: p.prefix, Delimiter: p.delimiter, Marker: marker, MaxKeys: p.maxKeys,
	})
}

func (a *API) listObjects(w http.ResponseWriter, r *http.Request, req *Request) error {
	q := r.URL.Query()
	p, err := a.parseListParams(r, q, "max-keys")
	if err != nil {
		return err
	}
	marker := q.Get("marker")
	page, err := a.listPage(r, req, p, marker)
	if err != nil {
		return err
	}
	res := listBucketResult{
		// The v1 Prefix goes out as sent even with encoding-type=url: SDKs
		// (botocore) do not decode it, and RGW does not encode it.
		Name: req.BucketName(), Prefix: p.prefix, Marker: p.enc(marker), MaxKeys: p.maxKeys,
		Delimiter: p.enc(p.delimiter), EncodingType: p.encodingType(), IsTruncated: page.IsTruncated,
		CommonPrefixes: p.commonPrefixes(page.CommonPrefixes),
	}
	if page.IsTruncated && p.delimiter != "" {
		res.NextMarker = p.enc(page.NextMarker)
	}
	res.Contents = make([]xmlObject, len(page.Objects))
	for i, o := range page.Objects {
		res.Contents[i] = p.object(o, true)
	}
	return writeXML(w, res)
}

// listBucketResultV2 is the ListObjectsV2 response.
type listBucketResultV2 struct {
	XMLName               xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListBucketResult"`
	Name                  string
	Prefix                string
	ContinuationToken     *string `xml:",omitempty"` // echoed when sent, even empty
	NextContinuationToken string  `xml:",omitempty"`
	StartAfter            string  `xml:",omitempty"`
	KeyCount              int
	MaxKeys               int
	Delimiter             string `xml:",omitempty"`
	EncodingType          string `xml:",omitempty"`
	IsTruncated           bool
	Contents              []xmlObject `xml:",omitempty"`
	CommonPrefixes        []xmlPrefix `xml:",omitempty"`
}

func (a *API) listObjectsV2(w http.ResponseWriter, r *http.Request, req *Request) error {
	q := r.URL.Query()
	p, err := a.parseListParams(r, q, "max-keys")
	if err != nil {
		return err
	}
	marker := q.Get("start-after")
	var token *string
	if q.Has("continuation-token") {
		token = new(q.Get("continuation-token"))
	}
	if token != nil && *token != "" { // an empty token starts at the beginning (RGW)
		if marker, err = decodeToken(*token); err != nil {
			return err
		}
	}
	page, err := a.listPage(r, req, p, marker)
	if err != nil {
		return err
	}
	fetchOwner := q.Get("fetch-owner") == "true"
	res := listBucketResultV2{
		Name: req.BucketName(), Prefix: p.enc(p.prefix), ContinuationToken: token,
		StartAfter: p.enc(q.Get("start-after")), KeyCount: len(page.Objects) + len(page.CommonPrefixes),
		MaxKeys: p.maxKeys, Delimiter: p.enc(p.delimiter), EncodingType: p.encodingType(),
		IsTruncated: page.IsTruncated, CommonPrefixes: p.commonPrefixes(page.CommonPrefixes),
	}
	if page.IsTruncated {
		res.NextContinuationToken = encodeToken(page.NextMarker)
	}
	res.Contents = make([]xmlObject, len(page.Objects))
	for i, o := range page.Objects {
		res.Contents[i] = p.object(o, fetchOwner)
	}
	return writeXML(w, res)
}

// listVersionsResult is the ListObjectVersions response. Entries holds
// xmlVersion and xmlDeleteMarker values, in the store's order.
type listVersionsResult struct {
	XMLName             xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListVersionsResult"`
	Name                string
	Prefix              string
	KeyMarker           string
	VersionIdMarker     string
	NextKeyMarker       string `xml:",omitempty"`
	NextVersionIdMarker string `xml:",omitempty"`
	MaxKeys             int
	Delimiter           string `xml:",omitempty"`
	EncodingType        string `xml:",omitempty"`
	IsTruncated         bool
	Entries             []any
	CommonPrefixes      []xmlPrefix `xml:",omitempty"`
}

type xmlVersion struct {
	XMLName           xml.Name `xml:"Version"`
	Key               string
	VersionId         string
	IsLatest          bool
	LastModified      string
	ETag              string
	ChecksumAlgorithm string `xml:",omitempty"`
	ChecksumType      string `xml:",omitempty"`
	Size              int64
	Owner             *xmlOwner
	StorageClass      string
}

type xmlDeleteMarker struct {
	XMLName      xml.Name `xml:"DeleteMarker"`
	Owner        *xmlOwner
	Key          string
	VersionId    string
	IsLatest     bool
	LastModified string
}

// versionIDOf is the version id listings and headers report: unversioned
// objects are the null version.
func versionIDOf(o store.ObjectInfo) string {
	if o.VersionID == "" {
		return store.NullVersion
	}
	return o.VersionID
}

func (a *API) listObjectVersions(w http.ResponseWriter, r *http.Request, req *Request) error {
	q := r.URL.Query()
	p, err := a.parseListParams(r, q, "max-keys")
	if err != nil {
		return err
	}
	keyMarker, vidMarker := q.Get("key-marker"), q.Get("version-id-marker")
	if vidMarker != "" && keyMarker == "" {
		return s3err.InvalidArgument.WithMessage("A version-id marker cannot be specified without a key marker.")
	}
	bucket := req.auth.bucket
	var page store.ListVersionsResult
	if p.maxKeys > 0 {
		page, err = a.store.ListObjectVersions(r.Context(), req.Bucket, store.ListVersionsOptions{
			Prefix: p.prefix, Delimiter: p.delimiter, KeyMarker: keyMarker,
			VersionIDMarker: vidMarker, MaxKeys: p.maxKeys,
		})
		if err != nil {
			return err
		}
	}
	res := listVersionsResult{
		Name: req.BucketName(), Prefix: p.enc(p.prefix), KeyMarker: p.enc(keyMarker), VersionIdMarker: vidMarker,
		MaxKeys: p.maxKeys, Delimiter: p.enc(p.delimiter), EncodingType: p.encodingType(),
		IsTruncated: page.IsTruncated, CommonPrefixes: p.commonPrefixes(page.CommonPrefixes),
	}
	if page.IsTruncated {
		res.NextKeyMarker = p.enc(page.NextKeyMarker)
		res.NextVersionIdMarker = page.NextVersionIDMarker
	}
	res.Entries = make([]any, len(page.Versions))
	for i, o := range page.Versions {
		if o.Owner == "" {
			// store.DeleteOptions carries no owner, so delete markers
			// have none recorded: report the bucket's owner.
			o.Owner = bucket.Owner
		}
		if o.DeleteMarker {
			res.Entries[i] = xmlDeleteMarker{
				Owner: p.owner(o.Owner), Key: p.enc(o.Key), VersionId: versionIDOf(o),
				IsLatest: o.IsLatest, LastModified: isoTime(o.LastModified),
			}
			continue
		}
		v := xmlVersion{
			Key: p.enc(o.Key), VersionId: versionIDOf(o), IsLatest: o.IsLatest,
			LastModified: isoTime(o.LastModified), ETag: quoteETag(o.ETag), Size: o.Size,
			Owner: p.owner(o.Owner), StorageClass: storageClassOf(o.Meta),
		}
		v.ChecksumAlgorithm, v.ChecksumType = checksumAlgorithmOf(o.Meta)
		res.Entries[i] = v
	}
	return writeXML(w, res)
}

// listMultipartUploadsResult is the ListMultipartUploads response.
type listMultipartUploadsResult struct {
	XMLName            xml.Name `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListMultipartUploadsResult"`
	Bucket             string
	KeyMarker          string
	UploadIdMarker     string
	NextKeyMarker      string
	NextUploadIdMarker string
	Delimiter          string `xml:",omitempty"`
	Prefix             string
	MaxUploads         int
	EncodingType       string `xml:",omitempty"`
	IsTruncated        bool
	Uploads            []xmlUpload `xml:"Upload"`
	CommonPrefixes     []xmlPrefix `xml:",omitempty"`
}

type xmlUpload struct {
	Key               string
	UploadId          string
	Initiator         *xmlOwner
	Owner             *xmlOwner
	StorageClass      string
	Initiated         string
	ChecksumAlgorithm string `xml:",omitempty"`
	ChecksumType      string `xml:",omitempty"`
}

func (a *API) listMultipartUploads(w http.ResponseWriter, r *http.Request, req *Request) error {
	q := r.URL.Query()
	p, err := a.parseListParams(r, q, "max-uploads")
	if err != nil {
		return err
	}
	keyMarker, idMarker := q.Get("key-marker"), q.Get("upload-id-marker")
	var page store.ListUploadsResult
	if p.maxKeys > 0 {
		page, err = a.store.ListMultipartUploads(r.Context(), req.Bucket, store.ListUploadsOptions{
			Prefix: p.prefix, Delimiter: p.delimiter, KeyMarker: keyMarker,
			UploadIDMarker: idMarker, MaxUploads: p.maxKeys,
		})
		if err != nil {
			return err
		}
	}
	res := listMultipartUploadsResult{
		Bucket: req.BucketName(), KeyMarker: p.enc(keyMarker), UploadIdMarker: idMarker,
		Delimiter: p.enc(p.delimiter), Prefix: p.enc(p.prefix), MaxUploads: p.maxKeys,
		EncodingType: p.encodingType(), IsTruncated: page.IsTruncated,
		CommonPrefixes: p.commonPrefixes(page.CommonPrefixes),
	}
	switch {
	case page.IsTruncated:
		res.NextKeyMarker, res.NextUploadIdMarker = p.enc(page.NextKeyMarker), page.NextUploadIDMarker
	case len(page.Uploads) > 0:
		// S3 names the last upload listed even on the last page.
		last := page.Uploads[len(page.Uploads)-1]
		res.NextKeyMarker, res.NextUploadIdMarker = p.enc(last.Key), last.UploadID
	}
	res.Uploads = make([]xmlUpload, len(page.Uploads))
	for i, u := range page.Uploads {
		res.Uploads[i] = xmlUpload{
			Key: p.enc(u.Key), UploadId: u.UploadID, Initiator: p.owner(u.Owner), Owner: p.owner(u.Owner),
			StorageClass: storageClassOf(u.Meta), Initiated: isoTime(u.Initiated),
			ChecksumAlgorithm: uploadChecksumAlgorithm(u.Meta), ChecksumType: u.Meta.ChecksumType,
		}
	}
	return writeXML(w, res)
}
