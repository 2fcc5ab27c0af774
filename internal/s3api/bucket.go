package s3api

import "net/http"

// Placeholders: replaced by the real handlers.

func (a *API) listBuckets(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) createBucket(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) headBucket(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) deleteBucket(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) getBucketLocation(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) getBucketVersioning(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) putBucketVersioning(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) getBucketTagging(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) putBucketTagging(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}

func (a *API) deleteBucketTagging(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}
