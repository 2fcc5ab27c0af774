package s3api

import (
	"io"
	"net/http"
	"time"
	"unicode/utf8"
)

// RequestRecord describes one served S3 request, for metrics and access
// logs. Op is from the operation table, so it is a bounded label.
type RequestRecord struct {
	ID   string
	User string // "" for anonymous or unauthenticated requests
	Op   Op     // "" when the request was rejected before resolution
	// Bucket is the stored name, "tenant:bucket" for a tenant's bucket, so
	// that a log line names the bucket unambiguously (never a metric label).
	Bucket string
	// Key is the object key: as sent when it is UTF-8, else percent-encoded
	// (its encoding-type=url name), so that a log line always names the
	// object exactly; log handlers escape control characters.
	Key      string
	Status   int
	Code     string // the S3 error code written, "" on success
	BytesIn  int64  // request body bytes read
	BytesOut int64  // response body bytes written
	Start    time.Time
	Duration time.Duration
}

// observe serves the request through serve and reports it to
// Config.Observe: the one instrumentation point, which leaves handlers
// unchanged (status and bytes are captured by wrapping the writer and the
// body).
func (a *API) observe(w http.ResponseWriter, r *http.Request, req *Request, serve func(http.ResponseWriter, *http.Request)) {
	rw := &recordingWriter{ResponseWriter: w}
	var body *countingBody
	if r.Body != nil && r.Body != http.NoBody {
		body = &countingBody{ReadCloser: r.Body}
		r.Body = body
	}
	serve(rw, r)
	rec := RequestRecord{
		ID: req.ID, User: req.Identity.UserID, Op: req.Op, Bucket: req.Bucket, Key: loggableKey(req.Key),
		Status: rw.status, Code: req.errCode, BytesOut: rw.n, Start: req.Start,
		Duration: time.Since(req.Start),
	}
	if rec.Status == 0 {
		rec.Status = http.StatusOK // nothing written: net/http answers 200
	}
	if body != nil {
		rec.BytesIn = body.n
	}
	a.cfg.Observe(rec)
}

// loggableKey is a key as logs can carry it without losing bytes: a JSON
// log would replace every invalid UTF-8 byte by U+FFFD.
func loggableKey(key string) string {
	if utf8.ValidString(key) {
		return key
	}
	return s3URLEncode(key)
}

// recordingWriter captures the status and counts the body bytes written.
// It keeps http.Flusher working and lets http.ResponseController reach the
// underlying writer.
type recordingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *recordingWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recordingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.n += int64(n)
	return n, err
}

// Flush implements http.Flusher.
func (w *recordingWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *recordingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// countingBody counts the request body bytes the handler read.
type countingBody struct {
	io.ReadCloser
	n int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	return n, err
}
