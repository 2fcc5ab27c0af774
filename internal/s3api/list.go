package s3api

import "net/http"

// Placeholders: replaced by the real handlers.

func (a *API) listObjects(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) listObjectsV2(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) listObjectVersions(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) listMultipartUploads(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}
