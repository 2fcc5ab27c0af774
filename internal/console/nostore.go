package console

import "net/http"

// noStoreWriter keeps a forwarded answer out of every cache. The S3
// handler writes an object's own Cache-Control and Expires (set by whoever
// uploaded it, or asked for with response-cache-control), which would
// replace the console's no-store: the browser would then keep a signed-in
// user's object on disk past sign-out, and a shared cache in front of the
// console could hand it to others. So they are set again as the header
// goes out.
type noStoreWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *noStoreWriter) WriteHeader(code int) {
	if !w.wrote && code >= 200 { // not for 1xx answers: the final header follows
		w.wrote = true
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Del("Expires")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *noStoreWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Flush implements http.Flusher (the live stream flushes each event).
func (w *noStoreWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection (the S3
// handler sets body read and write deadlines through it).
func (w *noStoreWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
