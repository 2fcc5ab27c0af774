package s3api

import "net/http"

// Placeholders: replaced by the real handlers.

func (a *API) getObjectTagging(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) putObjectTagging(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) deleteObjectTagging(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}
