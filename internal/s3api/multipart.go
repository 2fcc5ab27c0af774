package s3api

import "net/http"

// Placeholders: replaced by the real handlers.

func (a *API) createMultipartUpload(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) completeMultipartUpload(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) abortMultipartUpload(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) listParts(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}
