package s3api

import "net/http"

// Placeholders: replaced by the real handlers.

func (a *API) getBucketACL(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) putBucketACL(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) getObjectACL(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) putObjectACL(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}
