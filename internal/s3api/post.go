package s3api

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"time"

	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/checksum"
	"github.com/cairn-s3/cairn/internal/lua"
	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// postPolicyVerifier authenticates the signed policy of a POST form
// (auth.Verifier implements it). A browser POST carries no Authorization
// header, so Verify has seen it as anonymous; the form's own signature is
// checked by the handler.
type postPolicyVerifier interface {
	VerifyPostPolicy(ctx context.Context, p auth.PostSignature) (auth.Identity, error)
}

var _ postPolicyVerifier = (*auth.Verifier)(nil)

// postObject serves a browser-based upload, an HTML form POSTed to the
// bucket: read the fields → authenticate the policy → check it → authorize
// → stream the file into the store → respond (redirect, 200, 201 or 204).
func (a *API) postObject(w http.ResponseWriter, r *http.Request, req *Request) error {
	form, err := readPostForm(r.Body, r.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	f := form.fields
	if req.Identity, err = a.postIdentity(r.Context(), req.Identity, f); err != nil {
		return err
	}
	// The form's signer is the caller: a plain bucket name is in their
	// tenant (tenancy.go), and so are the CORS rules the response follows
	// (serve set those of the bucket the anonymous request named).
	named := req.Bucket
	if err := req.resolveBucket(); err != nil {
		return err
	}
	if req.Bucket != named {
		a.resetCORSHeaders(r.Context(), w, r, req.Bucket)
	}
	// The bucket posted to, whatever a bucket field says, as the signer
	// names it: a policy signed for "b" is for the signer's own tenant's
	// b, not for another tenant's b the signer may also write to.
	f["bucket"] = bucketSeenFrom(req.Bucket, req.callerTenant())
	var policy *postPolicy
	if p, ok := f["policy"]; ok {
		if policy, err = parsePostPolicy(p); err != nil {
			return err
		}
	}
	if req.Key, err = postKey(f, form.fileName); err != nil {
		return err
	}
	f["key"] = req.Key
	size := sizeRange{r: form.file, max: maxPutSize}
	if policy != nil {
		if err := policy.check(f, time.Now()); err != nil {
			return err
		}
		size.min, size.max = policy.minSize, policy.maxSize
	}
	req.postFields = f
	if err := a.authorizeForm(r, req); err != nil {
		return err
	}
	h := postHeader(f)
	opts, body, err := postPutOptions(f, h, &size, req.Identity.UserID)
	if err != nil {
		return err
	}
	// What a PUT with these headers gets: grants resolved, the bucket's
	// default retention (a form must not be a way around object lock),
	// and the bucket's ownership rule.
	if opts.Meta.ACL, err = a.checkGrants(r.Context(), opts.Meta.ACL); err != nil {
		return err
	}
	if err := applyObjectLock(req.auth.bucket, h, &opts.Meta, time.Now()); err != nil {
		return err
	}
	if opts.Owner, err = objectWriteOwner(req.auth.bucket, req.Identity.UserID, h); err != nil {
		return err
	}
	// The form's encryption fields, or else the bucket's default, as a PUT
	// with those headers would get (sse.go).
	q, err := a.writeSSEHeader(h, r.TLS != nil, req.auth.bucket)
	if err != nil {
		return err
	}
	data, err := a.encryptObject(q, a.scriptData(r, req, lua.PutData, body, 0, -1), &opts)
	if err != nil {
		return err
	}
	oi, err := a.store.PutObject(r.Context(), req.Bucket, req.Key, data, opts)
	if err != nil {
		return err
	}
	return writePostResponse(w, r, req, f, oi)
}

// postIdentity authenticates a form carrying a policy; a form without one
// is anonymous (or whatever a signed header said).
func (a *API) postIdentity(ctx context.Context, id auth.Identity, f map[string]string) (auth.Identity, error) {
	policy, ok := f["policy"]
	if !ok {
		for _, name := range []string{"awsaccesskeyid", "signature", "x-amz-credential", "x-amz-signature"} {
			if _, signed := f[name]; signed {
				return auth.Identity{}, s3err.InvalidArgument.WithMessage("Bucket POST must contain a field named 'policy'.  If it is specified, please check the order of the fields.")
			}
		}
		return id, nil
	}
	pv, ok := a.auth.(postPolicyVerifier)
	if !ok {
		return auth.Identity{}, s3err.NotImplemented.WithMessage("POST policy signatures are not supported by this authenticator")
	}
	sig := auth.PostSignature{
		Policy: policy, Algorithm: f["x-amz-algorithm"], AccessKey: f["awsaccesskeyid"],
		Credential: f["x-amz-credential"], Date: f["x-amz-date"], Signature: f["signature"],
	}
	if sig.Algorithm != "" {
		sig.Signature = f["x-amz-signature"]
	}
	return pv.VerifyPostPolicy(ctx, sig)
}

// postPutOptions turns the form's fields f, and h, the PUT headers they
// stand for, into what such a PUT would store, and wraps the file in the
// checksum verifier a x-amz-checksum-* field asks for.
func postPutOptions(f map[string]string, h http.Header, file *sizeRange, owner string) (store.PutOptions, *putBody, error) {
	meta, err := parseMetadata(h)
	if err != nil {
		return store.PutOptions{}, nil, err
	}
	if v, ok := f["tagging"]; ok {
		if meta.Tags, err = parseTagging([]byte(v)); err != nil {
			return store.PutOptions{}, nil, err
		}
	}
	q, err := checksum.ParseRequest(h)
	if err != nil {
		return store.PutOptions{}, nil, err
	}
	b := &putBody{Reader: file, size: -1}
	if q.Algorithm != "" {
		hs, err := checksum.New(q.Algorithm)
		if err != nil {
			return store.PutOptions{}, nil, err
		}
		v := &checksumVerifier{src: file, algo: q.Algorithm, h: hs, want: q.Value}
		b.Reader, b.sums = v, v.result
	}
	return b.putOptions(meta, owner), b, nil
}

// postResponse is the document a POST with success_action_status 201
// answers with.
type postResponse struct {
	XMLName  xml.Name `xml:"PostResponse"`
	Location string   `xml:"Location"`
	Bucket   string   `xml:"Bucket"`
	Key      string   `xml:"Key"`
	ETag     string   `xml:"ETag"`
}

// writePostResponse answers a successful upload as the form asked.
func writePostResponse(w http.ResponseWriter, r *http.Request, req *Request, f map[string]string, oi store.ObjectInfo) error {
	h := w.Header()
	h.Set("ETag", quoteETag(oi.ETag))
	setVersionHeaders(h, oi.VersionID, false)
	setChecksumHeaders(h, oi.Meta.Checksums, "")
	setSSEHeaders(h, oi.Meta.SSE)
	if target := postRedirect(f, req.BucketName(), req.Key, oi.ETag); target != "" {
		h.Set("Location", target)
		w.WriteHeader(http.StatusSeeOther)
		return nil
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	loc := (&url.URL{Scheme: scheme, Host: r.Host, Path: "/" + req.bucketSegment + "/" + req.Key}).String()
	h.Set("Location", loc)
	status := postStatus(f)
	if status == http.StatusCreated {
		writeXMLStatus(w, status, postResponse{Location: loc, Bucket: req.BucketName(), Key: req.Key, ETag: quoteETag(oi.ETag)})
		return nil
	}
	w.WriteHeader(status)
	return nil
}
