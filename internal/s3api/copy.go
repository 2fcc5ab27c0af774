package s3api

import "net/http"

// Placeholders: replaced by the real handlers.

func (a *API) copyObject(w http.ResponseWriter, r *http.Request, req *Request) error {
	return notImplemented(w, r, req)
}
