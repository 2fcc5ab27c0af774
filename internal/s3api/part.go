package s3api

import "net/http"

// Placeholders: replaced by the real handlers.

func (a *API) uploadPart(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) uploadPartCopy(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}
