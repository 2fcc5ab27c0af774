package s3api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/cairn-s3/cairn/internal/lua"
	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// Scripting runs request scripts (lua.Engine): prerequest before
// authentication, postauth after authorization, postrequest once the
// response is written, and the data scripts on object bodies.
type Scripting interface {
	PreRequest(ctx context.Context, req *lua.Request) *lua.Denial
	PostAuth(ctx context.Context, req *lua.Request)
	PostRequest(ctx context.Context, req *lua.Request)
	HasScript(ctx context.Context, c lua.Context, tenant string) bool
	Data(ctx context.Context, c lua.Context, req *lua.Request, chunk []byte, offset int64)
}

// scriptRequest starts the scripts' view of a request.
func (a *API) scriptRequest(r *http.Request, req *Request) *lua.Request {
	return &lua.Request{HTTP: r, ID: req.ID, Start: req.Start, Info: scriptInfo{a: a, req: req}}
}

// syncScriptRequest copies what the router learned into the scripts' view.
func syncScriptRequest(req *Request) {
	l := req.script
	l.RGWOp = req.Row().Hook
	l.Tenant, l.Bucket = tenant.SplitBucket(req.Bucket)
	l.Key = req.Key
	if l.VersionID == "" && strings.Contains(l.HTTP.URL.RawQuery, "versionId") {
		l.VersionID = l.HTTP.URL.Query().Get("versionId")
	}
	if req.row != nil && req.row.CopySource && l.CopyFrom == nil {
		if src, err := parseCopySource(l.HTTP.Header, req.callerTenant()); err == nil {
			t, b := tenant.SplitBucket(src.Bucket)
			l.CopyFrom = &lua.CopyFrom{Tenant: t, Bucket: b, Key: src.Key, VersionID: src.VersionID}
		}
	}
	if !req.Identity.Anonymous && req.Identity.UserID != "" {
		t, id := tenant.SplitUser(req.Identity.UserID)
		l.User = &lua.User{Tenant: t, ID: id}
	}
}

// preRequest runs the prerequest script once the operation is known, in
// the tenant of the access key the request names (its bucket's tenant
// once authenticated). A script may redirect the request to another
// bucket or deny it.
func (a *API) preRequest(r *http.Request, req *Request) error {
	l := req.script
	syncScriptRequest(req)
	if l.Tenant == "" && req.bucketSegment != "" {
		if c, ok := a.auth.(claimer); ok {
			if user, ok := c.ClaimedUser(r); ok {
				l.Tenant = tenant.OfUser(user)
			}
		}
	}
	if d := a.cfg.Scripting.PreRequest(r.Context(), l); d != nil {
		return &s3err.Error{Code: d.Code, Status: d.Status, Message: d.Message}
	}
	if name, ok := l.BucketRename(); ok {
		req.bucketSegment = name
		return req.resolveBucket()
	}
	return nil
}

// postAuth runs once the caller is authorized: the request's bucket and
// user are final.
func (a *API) postAuth(r *http.Request, req *Request) {
	syncScriptRequest(req)
	a.cfg.Scripting.PostAuth(r.Context(), req.script)
}

// postRequest runs after the response was written.
func (a *API) postRequest(r *http.Request, req *Request, status int, err error) {
	syncScriptRequest(req)
	resp := &req.script.Response
	resp.HTTPStatusCode = status
	code := ""
	if err != nil {
		e := toS3(err)
		resp.HTTPStatus, resp.Message, code = e.Code, e.Message, e.Code
	}
	resp.RGWCode = rgwCode(status, code)
	a.cfg.Scripting.PostRequest(r.Context(), req.script)
}

// putDataHook shows a PUT's or an UploadPart's body to the putdata
// script, on the data as received (before encryption).
func (a *API) putDataHook(r *http.Request, req *Request) {
	switch req.Op {
	case OpPutObject, OpUploadPart:
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = readCloser{a.scriptData(r, req, lua.PutData, r.Body, 0, -1), r.Body}
		}
	}
}

// scriptData returns body showing each chunk, from offset off of the
// object to off+size (size -1: to its io.EOF), to the data script of context c, if the bucket's tenant has one
// (putdata: PUT, UploadPart, POST forms; getdata: GET after decryption).
func (a *API) scriptData(r *http.Request, req *Request, c lua.Context, body io.Reader, off, size int64) io.Reader {
	s := a.cfg.Scripting
	if req.script == nil || !s.HasScript(r.Context(), c, req.script.Tenant) {
		return body
	}
	syncScriptRequest(req)
	ctx := r.Context()
	end := int64(-1)
	if size >= 0 {
		end = off + size
	}
	return &dataReader{Reader: body, off: off, end: end, run: func(p []byte, off int64) { s.Data(ctx, c, req.script, p, off) }}
}

// scriptDataChunk is the size of the chunks data scripts see. Reads of a
// request body follow the client's writes: a client trickling its body a
// byte at a time would otherwise buy a script execution (up to the whole
// time limit of CPU) per byte. RGW shows its own buffers too.
const scriptDataChunk = 64 << 10

// dataReader passes a body through and shows it, in chunks of
// scriptDataChunk (the last one shorter), to a data script.
type dataReader struct {
	io.Reader
	off int64
	end int64  // the offset where the body ends, -1 if unknown
	buf []byte // the chunk being filled, shown when full or at the end
	run func(p []byte, off int64)
}

func (d *dataReader) Read(p []byte) (int, error) {
	n, err := d.Reader.Read(p)
	for rest := p[:n]; len(rest) > 0; {
		if d.buf == nil {
			d.buf = make([]byte, 0, scriptDataChunk)
		}
		k := min(len(rest), scriptDataChunk-len(d.buf))
		d.buf, rest = append(d.buf, rest[:k]...), rest[k:]
		if len(d.buf) == scriptDataChunk {
			d.flush()
		}
	}
	if err != nil || (d.end >= 0 && d.off+int64(len(d.buf)) >= d.end) {
		// The end: a reader of a known length (a GET's ResponseWriter)
		// may never read again to see io.EOF.
		d.flush()
	}
	return n, err
}

// flush shows the chunk filled so far, if any.
func (d *dataReader) flush() {
	if len(d.buf) == 0 {
		return
	}
	d.run(d.buf, d.off)
	d.off += int64(len(d.buf))
	d.buf = d.buf[:0]
}

// scriptInfo reads the request's bucket and object records for scripts.
type scriptInfo struct {
	a   *API
	req *Request
}

func (s scriptInfo) Bucket(ctx context.Context) (lua.BucketInfo, bool) {
	b, err := s.a.store.GetBucket(ctx, s.req.Bucket)
	if err != nil {
		return lua.BucketInfo{}, false
	}
	ownerTenant, ownerID := tenant.SplitUser(b.Owner)
	var tags map[string]string
	var tagList []bucketTag
	if err := json.Unmarshal(b.Config[bucketTaggingConfig], &tagList); err == nil {
		tags = make(map[string]string, len(tagList))
		for _, tag := range tagList {
			tags[tag.Key] = tag.Value
		}
	}
	// Cairn keeps no bucket modification time: MTime is the creation.
	id := notify.BucketID(&b)
	return lua.BucketInfo{Tags: tags, ID: id, Marker: id, Created: b.Created, Modified: b.Created,
		Owner: lua.User{Tenant: ownerTenant, ID: ownerID}, PlacementID: "default-placement", StorageClass: "STANDARD",
		Policy: string(b.Config[configPolicy])}, true
}

func (s scriptInfo) Object(ctx context.Context) (lua.ObjectInfo, bool) {
	if s.req.Key == "" || s.req.Bucket == "" {
		return lua.ObjectInfo{}, false
	}
	oi, err := s.a.store.HeadObject(ctx, s.req.Bucket, s.req.Key, store.GetOptions{VersionID: s.req.script.VersionID})
	if err != nil {
		return lua.ObjectInfo{}, false // none yet (prerequest of a PUT) or gone
	}
	return lua.ObjectInfo{Size: oi.Size, Modified: oi.LastModified, Version: oi.VersionID}, true
}

func (s scriptInfo) BucketACL(ctx context.Context) (lua.ACL, bool) {
	b, err := s.a.store.GetBucket(ctx, s.req.Bucket)
	if err != nil {
		return lua.ACL{}, false
	}
	return s.a.scriptACL(ctx, b.ACL, b.Owner, b.Owner), true
}

func (s scriptInfo) ObjectACL(ctx context.Context) (lua.ACL, bool) {
	if s.req.Key == "" || s.req.Bucket == "" {
		return lua.ACL{}, false
	}
	b, err := s.a.store.GetBucket(ctx, s.req.Bucket)
	if err != nil {
		return lua.ACL{}, false
	}
	oi, err := s.a.store.HeadObject(ctx, s.req.Bucket, s.req.Key, store.GetOptions{VersionID: s.req.script.VersionID})
	if err != nil {
		return lua.ACL{}, false
	}
	return s.a.scriptACL(ctx, oi.Meta.ACL, objectOwner(oi, b), b.Owner), true
}
