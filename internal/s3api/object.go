package s3api

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/lua"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// putObject streams the body into the store: parse → authorize → store →
// respond. Nothing is visible until the store committed the whole body, and
// a failed Content-MD5 or checksum leaves nothing behind.
func (a *API) putObject(w http.ResponseWriter, r *http.Request, req *Request) error {
	meta, err := parseMetadata(r.Header)
	if err != nil {
		return err
	}
	if meta.ACL, err = a.checkGrants(r.Context(), meta.ACL); err != nil {
		return err
	}
	body, err := newPutBody(r)
	if err != nil {
		return err
	}
	b := req.auth.bucket
	if err := applyObjectLock(b, r.Header, &meta, time.Now()); err != nil {
		return err
	}
	owner, err := objectWriteOwner(b, req.Identity.UserID, r.Header) // ownership.go
	if err != nil {
		return err
	}
	opts := body.putOptions(meta, owner)
	opts.IfMatch = trimETag(r.Header.Get("If-Match"))
	opts.IfNoneMatch = trimETag(r.Header.Get("If-None-Match"))
	data, err := a.encryptPut(r, b, body, &opts) // sse.go
	if err != nil {
		return err
	}
	oi, err := a.store.PutObject(r.Context(), req.Bucket, req.Key, data, opts)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("ETag", quoteETag(oi.ETag))
	setWrittenVersionHeader(h, oi.VersionID)
	sums, typ := objectChecksums(oi.Meta)
	setChecksumHeaders(h, sums, typ)
	setSSEHeaders(h, oi.Meta.SSE)
	a.setExpirationHeader(h, &b, &oi, "")
	return nil
}

// getObject streams one version, a range of it or one of its parts. The
// range, the preconditions and the object's own ACL are resolved against
// the exact version the store reads, inside its RangeFunc.
func (a *API) getObject(w http.ResponseWriter, r *http.Request, req *Request) error {
	g, err := a.parseGetRequest(r, req)
	if err != nil {
		return err
	}
	h := w.Header()
	var s served
	oi, body, err := a.store.GetObject(r.Context(), req.Bucket, req.Key, store.GetOptions{
		VersionID: g.versionID,
		RangeFunc: func(oi store.ObjectInfo) (*store.Range, error) {
			var err error
			if s, err = g.prepare(h, oi); err != nil || !s.partial {
				return nil, err
			}
			return &s.rng, nil
		},
	})
	if err != nil {
		return g.readError(h, oi, err)
	}
	if body, err = decryptBody(oi, g.dataKey, s.rng.Offset, body); err != nil { // sse.go
		return err
	}
	defer body.Close()
	data := a.scriptData(r, req, lua.GetData, body, s.rng.Offset, s.rng.Length)
	a.setExpirationHeader(h, &req.auth.bucket, &oi, g.versionID)
	w.WriteHeader(g.writeHeaders(h, oi, s, true))
	if _, err := io.CopyBuffer(w, data, make([]byte, copyBufferSize(oi.Size))); err != nil {
		// The status line is gone; the only honest signal left is to cut
		// the connection so the client sees a short body.
		a.log.DebugContext(r.Context(), "get body aborted", "request_id", req.ID, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// copyBufferSize is the size of the buffer a body of size bytes is copied
// through: io.Copy's 32 KiB, or less for a smaller body (io.Copy allocated
// and zeroed 32 KiB for every GET, eight times a 4 KiB object).
func copyBufferSize(size int64) int {
	const maxBuf, minBuf = 32 << 10, 512
	return int(min(max(size, minBuf), maxBuf))
}

// headObject answers with GetObject's headers and no body.
func (a *API) headObject(w http.ResponseWriter, r *http.Request, req *Request) error {
	g, err := a.parseGetRequest(r, req)
	if err != nil {
		return err
	}
	h := w.Header()
	oi, err := a.store.HeadObject(r.Context(), req.Bucket, req.Key, store.GetOptions{VersionID: g.versionID})
	if err != nil {
		return g.readError(h, oi, err)
	}
	s, err := g.prepare(h, oi)
	if err != nil {
		return g.readError(h, oi, err)
	}
	a.setExpirationHeader(h, &req.auth.bucket, &oi, g.versionID)
	w.WriteHeader(g.writeHeaders(h, oi, s, false))
	return nil
}

// deleteObject removes a version, or adds a delete marker in a versioned
// bucket. A key or version that does not exist is success, as in S3.
func (a *API) deleteObject(w http.ResponseWriter, r *http.Request, req *Request) error {
	versionID, err := versionIDParam(r)
	if err != nil {
		return err
	}
	res, err := a.store.DeleteObject(r.Context(), req.Bucket, req.Key, store.DeleteOptions{
		VersionID: versionID, Check: deleteLockCheck(a.bypassGovernanceFor(r, req, req.Key, versionID)),
	})
	if err != nil && !isMissing(err) {
		return err
	}
	setVersionHeaders(w.Header(), res.VersionID, res.DeleteMarker)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// isMissing reports whether a delete ran into nothing to delete.
func isMissing(err error) bool {
	return errors.Is(err, store.ErrNoSuchKey) || errors.Is(err, store.ErrNoSuchVersion)
}

// versionIDParam returns the versionId query parameter; present but empty
// is an error in S3.
func versionIDParam(r *http.Request) (string, error) {
	v, ok := r.URL.Query()["versionId"]
	if !ok {
		return "", nil
	}
	if v[0] == "" {
		return "", s3err.InvalidArgument.WithMessage("Version id cannot be the empty string")
	}
	return v[0], nil
}

// readError adds to the error of a read what S3 says about a delete marker
// it ran into: its version id and x-amz-delete-marker, and for a marker
// addressed by version id the one method that applies.
func readError(h http.Header, oi store.ObjectInfo, err error) error {
	if errors.Is(err, store.ErrNoSuchKey) && !oi.DeleteMarker {
		h.Set("X-Amz-Delete-Marker", "false") // RGW says so explicitly
	}
	if oi.DeleteMarker {
		setDeleteMarkerHeaders(h, oi)
		if errors.Is(err, store.ErrMethodNotAllowed) {
			h.Set("Allow", http.MethodDelete)
		}
	}
	return err
}

// getRequest is a parsed GetObject or HeadObject request.
type getRequest struct {
	versionID  string
	partNumber int
	rng        byteRange
	hasRange   bool
	cond       conditions
	overrides  [][2]string // header, value
	checksums  bool        // x-amz-checksum-mode: ENABLED
	anonymous  bool
	auth       *authz // what the router's authorization established
	identity   auth.Identity
	// sseKey is the SSE-C key sent; dataKey the served version's data key
	// once prepare opened it (nil for plaintext objects).
	sseKey  *customerKey
	dataKey []byte
	openSSE func(*store.SSEInfo, *customerKey) ([]byte, error)
	// objectACL is set when the bucket's ACL does not let the caller list,
	// who then learns nothing of a version its ACL does not let them read;
	// aclPassed records that the version served did.
	objectACL, aclPassed bool
	// listable is set when the bucket policy lets a caller who relies on
	// the object's ACL list the key, so a missing key is NoSuchKey.
	listable bool
}

// responseOverrides are the response-* query parameters of a signed GET and
// the headers they replace.
var responseOverrides = [...][2]string{
	{"response-content-type", "Content-Type"},
	{"response-content-language", "Content-Language"},
	{"response-expires", "Expires"},
	{"response-cache-control", "Cache-Control"},
	{"response-content-disposition", "Content-Disposition"},
	{"response-content-encoding", "Content-Encoding"},
}

// parseGetRequest reads the request's parameters and checks bucket access.
func (a *API) parseGetRequest(r *http.Request, req *Request) (*getRequest, error) {
	q := r.URL.Query()
	g := &getRequest{
		cond:      readConditions(r.Header),
		checksums: strings.EqualFold(r.Header.Get("X-Amz-Checksum-Mode"), "ENABLED"),
		anonymous: req.Identity.Anonymous,
		openSSE:   a.openSSE,
	}
	var err error
	if g.versionID, err = versionIDParam(r); err != nil {
		return nil, err
	}
	if v, ok := q["partNumber"]; ok {
		if g.partNumber, err = parsePartNumber(v[0]); err != nil {
			return nil, err
		}
	}
	if g.sseKey, err = parseReadSSE(r.Header); err != nil {
		return nil, err
	}
	g.rng, g.hasRange = parseRange(r.Header.Get("Range"))
	if g.hasRange && g.partNumber > 0 {
		return nil, s3err.InvalidRequest.WithMessage("Cannot specify both Range header and partNumber query parameter")
	}
	for _, o := range responseOverrides {
		if v := q.Get(o[0]); v != "" {
			if g.anonymous {
				return nil, s3err.InvalidRequest.WithMessage("Request specific response headers cannot be used for anonymous GET requests.")
			}
			g.overrides = append(g.overrides, [2]string{o[1], v})
		}
	}
	// The router applied the bucket policy (authorize.go): an Allow
	// settled the request. Otherwise the object's ACL decides, and a caller
	// the bucket does not let list is not told whether the object exists.
	g.auth, g.identity = &req.auth, req.Identity
	g.objectACL = !req.auth.mayLearnMissing()
	g.listable = g.objectACL && a.policyAllowsListing(r, req)
	return g, nil
}

// parsePartNumber validates a partNumber parameter.
func parsePartNumber(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPartNumber {
		return 0, s3err.InvalidArgument.WithMessage("Part number must be an integer between 1 and 10000, inclusive")
	}
	return n, nil
}

// served is the part of an object an answer carries.
type served struct {
	rng     store.Range
	partial bool        // a range or a part of a multipart object: 206
	part    *store.Part // the part served, if any
}

// prepare runs once the version to serve is known: it applies the object's
// ACL when the bucket's did not grant access, the preconditions, and
// resolves the range or part.
func (g *getRequest) prepare(h http.Header, oi store.ObjectInfo) (served, error) {
	if !g.auth.allowsVersion(oi, g.identity) {
		return served{}, s3err.AccessDenied
	}
	g.aclPassed = true
	if g.partNumber > 0 {
		if _, err := partRange(oi, g.partNumber); err != nil {
			return served{}, err // a part that does not exist is reported before a missing SSE-C key
		}
	}
	var err error
	if g.dataKey, err = g.openSSE(oi.Meta.SSE, g.sseKey); err != nil {
		return served{}, err
	}
	if err := g.cond.check(oi); err != nil {
		if errors.Is(err, s3err.NotModified) {
			h.Set("ETag", quoteETag(oi.ETag))
			h.Set("Last-Modified", oi.LastModified.UTC().Format(http.TimeFormat))
		}
		return served{}, err
	}
	switch {
	case g.partNumber > 0:
		return partRange(oi, g.partNumber)
	case g.hasRange:
		rg, err := g.rng.resolve(oi.Size)
		if err != nil {
			setUnsatisfiable(h, oi.Size)
			return served{}, err
		}
		return served{rng: rg, partial: true}, nil
	}
	return served{rng: store.Range{Length: oi.Size}}, nil
}

// partRange locates part n of an object. An object not uploaded in parts
// has exactly one part, itself.
func partRange(oi store.ObjectInfo, n int) (served, error) {
	if len(oi.Parts) == 0 {
		if n != 1 {
			return served{}, s3err.InvalidPart.WithMessage("The requested partnumber is not satisfiable")
		}
		return served{rng: store.Range{Length: oi.Size}}, nil
	}
	if n > len(oi.Parts) {
		return served{}, s3err.InvalidPart.WithMessage("The requested partnumber is not satisfiable")
	}
	var off int64
	for _, p := range oi.Parts[:n-1] {
		off += p.Size
	}
	p := &oi.Parts[n-1]
	return served{rng: store.Range{Offset: off, Length: p.Size}, partial: true, part: p}, nil
}

// readError hides from a caller the object's ACL has not let in whether
// the object exists, and otherwise describes delete markers.
func (g *getRequest) readError(h http.Header, oi store.ObjectInfo, err error) error {
	if g.objectACL && !g.aclPassed && !(g.listable && errors.Is(err, store.ErrNoSuchKey)) {
		return s3err.AccessDenied
	}
	return readError(h, oi, err)
}

// writeHeaders writes the answer's headers and returns its status.
// Checksums are sent only for what they describe: the whole object, or the
// whole part they were computed for (servedChecksums).
func (g *getRequest) writeHeaders(h http.Header, oi store.ObjectInfo, s served, isGet bool) int {
	setObjectHeaders(h, oi)
	h.Set("Content-Length", itoa(s.rng.Length))
	status := http.StatusOK
	if s.partial {
		h.Set("Content-Range", contentRange(s.rng, oi.Size))
		status = http.StatusPartialContent
	}
	if g.partNumber > 0 && len(oi.Parts) > 0 {
		h.Set("X-Amz-Mp-Parts-Count", strconv.Itoa(len(oi.Parts)))
	}
	if g.checksums {
		sums, typ := servedChecksums(oi, s)
		setChecksumHeaders(h, sums, typ)
	}
	if len(oi.Meta.Tags) > 0 {
		h.Set("X-Amz-Tagging-Count", strconv.Itoa(len(oi.Meta.Tags)))
	}
	for _, o := range g.overrides {
		h.Set(o[0], o[1])
	}
	return status
}

// maxDeleteObjects is the most keys one DeleteObjects request may name.
const maxDeleteObjects = 1000

// deleteRequest is the Delete document of DeleteObjects.
type deleteRequest struct {
	XMLName xml.Name           `xml:"Delete"`
	Quiet   bool               `xml:"Quiet"`
	Objects []objectIdentifier `xml:"Object"`
}

type objectIdentifier struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId"`
}

// deleteResult is the answer of DeleteObjects.
type deleteResult struct {
	XMLName xml.Name       `xml:"DeleteResult"`
	Xmlns   string         `xml:"xmlns,attr"`
	Deleted []deletedEntry `xml:"Deleted"`
	Errors  []deleteError  `xml:"Error"`
}

type deletedEntry struct {
	Key                   string `xml:"Key"`
	VersionID             string `xml:"VersionId,omitempty"`
	DeleteMarker          bool   `xml:"DeleteMarker,omitempty"`
	DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
}

type deleteError struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId,omitempty"`
	Code      string `xml:"Code"`
	Message   string `xml:"Message"`
}

// parseDeleteRequest decodes and bounds a Delete document.
func parseDeleteRequest(body []byte) (deleteRequest, error) {
	var d deleteRequest
	if err := xml.Unmarshal(body, &d); err != nil {
		return d, s3err.MalformedXML.WithCause(err)
	}
	if len(d.Objects) == 0 || len(d.Objects) > maxDeleteObjects {
		return d, s3err.MalformedXML
	}
	return d, nil
}

// deleteObjects deletes up to 1000 keys, reporting each outcome; a failure
// on one key does not stop the others. Every key is authorized on its own;
// those allowed go to the store in one call, which may commit them together
// (one event per key still).
func (a *API) deleteObjects(w http.ResponseWriter, r *http.Request, req *Request) error {
	body, err := readVerifiedBody(r, maxXMLBody, true)
	if err != nil {
		return err
	}
	d, err := parseDeleteRequest(body)
	if err != nil {
		return err
	}
	denied := make([]error, len(d.Objects))
	entries := make([]store.DeleteEntry, 0, len(d.Objects))
	for i, o := range d.Objects {
		if err := a.authorizeEntry(r, req, o.Key, o.VersionID); err != nil {
			denied[i] = err
			continue
		}
		check := deleteLockCheck(a.bypassGovernanceFor(r, req, o.Key, o.VersionID))
		entries = append(entries, store.DeleteEntry{Key: o.Key, Options: store.DeleteOptions{VersionID: o.VersionID, Check: check}})
	}
	var outcomes []store.DeleteOutcome
	if len(entries) > 0 {
		outcomes = a.store.DeleteObjects(r.Context(), req.Bucket, entries)
	}
	return writeXML(w, deleteReport(d, denied, outcomes))
}

// deleteReport lists the outcome of each object of d in request order:
// denied[i] for those refused before the store, the next of outcomes for
// the others.
func deleteReport(d deleteRequest, denied []error, outcomes []store.DeleteOutcome) deleteResult {
	out := deleteResult{Xmlns: s3Namespace}
	next := 0
	for i, o := range d.Objects {
		if err := denied[i]; err != nil {
			e := toS3(err)
			out.Errors = append(out.Errors, deleteError{Key: o.Key, VersionID: o.VersionID, Code: e.Code, Message: e.Message})
			continue
		}
		res, err := outcomes[next].Result, outcomes[next].Err
		next++
		if err != nil && !isMissing(err) {
			e := toS3(err)
			out.Errors = append(out.Errors, deleteError{Key: o.Key, VersionID: o.VersionID, Code: e.Code, Message: e.Message})
			continue
		}
		if d.Quiet {
			continue
		}
		entry := deletedEntry{Key: o.Key, VersionID: o.VersionID}
		if res.DeleteMarker {
			entry.DeleteMarker, entry.DeleteMarkerVersionID = true, res.VersionID
		}
		out.Deleted = append(out.Deleted, entry)
	}
	return out
}
