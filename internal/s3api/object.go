package s3api

import "net/http"

// Placeholders: replaced by the real handlers.

func (a *API) putObject(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) getObject(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) headObject(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) deleteObject(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) deleteObjects(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}
