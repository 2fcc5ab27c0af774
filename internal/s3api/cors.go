package s3api

import (
	"context"
	"encoding/xml"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-s3/cairn/internal/s3err"
	"github.com/cairn-s3/cairn/internal/store"
)

// corsConfig is the bucket Config key of the CORS configuration, stored as
// the normalized XML document.
const corsConfig = "cors"

const maxCORSRules = 100

type corsConfiguration struct {
	XMLName xml.Name   `xml:"CORSConfiguration"`
	Xmlns   string     `xml:"xmlns,attr,omitempty"`
	Rules   []corsRule `xml:"CORSRule"`
}

type corsRule struct {
	ID             string   `xml:"ID,omitempty"`
	AllowedMethods []string `xml:"AllowedMethod"`
	AllowedOrigins []string `xml:"AllowedOrigin"`
	AllowedHeaders []string `xml:"AllowedHeader"`
	ExposeHeaders  []string `xml:"ExposeHeader"`
	MaxAgeSeconds  *int     `xml:"MaxAgeSeconds"`
}

var corsMethods = []string{http.MethodGet, http.MethodPut, http.MethodHead, http.MethodPost, http.MethodDelete}

// validate checks a configuration as S3 does.
func (c corsConfiguration) validate() error {
	if len(c.Rules) == 0 || len(c.Rules) > maxCORSRules {
		return s3err.MalformedXML
	}
	for _, r := range c.Rules {
		if len(r.AllowedMethods) == 0 || len(r.AllowedOrigins) == 0 {
			return s3err.MalformedXML
		}
		for _, m := range r.AllowedMethods {
			if !slices.Contains(corsMethods, m) {
				return s3err.InvalidRequest.WithMessage("Found unsupported HTTP method in CORS config. Unsupported method is %s", m)
			}
		}
		for _, o := range r.AllowedOrigins {
			if strings.Count(o, "*") > 1 {
				return s3err.InvalidRequest.WithMessage("AllowedOrigin %q can not have more than one wildcard.", o)
			}
		}
		for _, h := range r.AllowedHeaders {
			if strings.Count(h, "*") > 1 {
				return s3err.InvalidRequest.WithMessage("AllowedHeader %q can not have more than one wildcard.", h)
			}
		}
	}
	return nil
}

// wildcardMatch matches s against a pattern with at most one "*".
func wildcardMatch(pattern, s string) bool {
	before, after, ok := strings.Cut(pattern, "*")
	if !ok {
		return pattern == s
	}
	return len(s) >= len(before)+len(after) && strings.HasPrefix(s, before) && strings.HasSuffix(s, after)
}

// match returns the first rule allowing origin and method, and the origin
// to answer with.
func (c corsConfiguration) match(origin, method string) (*corsRule, string) {
	for i := range c.Rules {
		r := &c.Rules[i]
		if !slices.Contains(r.AllowedMethods, method) {
			continue
		}
		for _, o := range r.AllowedOrigins {
			if o == "*" {
				return r, "*"
			}
			if wildcardMatch(o, origin) {
				return r, origin
			}
		}
	}
	return nil, ""
}

// allowsHeaders reports whether every requested header is allowed.
func (r *corsRule) allowsHeaders(requested []string) bool {
	for _, h := range requested {
		if !slices.ContainsFunc(r.AllowedHeaders, func(p string) bool { return wildcardMatch(strings.ToLower(p), h) }) {
			return false
		}
	}
	return true
}

func (r *corsRule) setHeaders(h http.Header, origin, method string) {
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Methods", method)
	if len(r.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", strings.Join(r.ExposeHeaders, ","))
	}
	if r.MaxAgeSeconds != nil {
		h.Set("Access-Control-Max-Age", strconv.Itoa(*r.MaxAgeSeconds))
	}
	if origin != "*" {
		// A rule naming its origins (not "*") lets browsers send
		// credentials, as S3 answers.
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
	}
}

// loadCORS returns a bucket's CORS configuration, if any.
func loadCORS(b store.Bucket) (corsConfiguration, bool) {
	var c corsConfiguration
	raw := b.Config[corsConfig]
	if len(raw) == 0 || xml.Unmarshal(raw, &c) != nil {
		return c, false
	}
	return c, true
}

// setCORSHeaders adds the CORS answer headers to a request that carries an
// Origin, whatever the request's outcome. The method matched is
// Access-Control-Request-Method when sent, else the request's own.
func (a *API) setCORSHeaders(ctx context.Context, w http.ResponseWriter, r *http.Request, bucket string) {
	origin := r.Header.Get("Origin")
	if origin == "" || bucket == "" || r.Method == http.MethodOptions {
		return
	}
	b, err := a.store.GetBucket(ctx, bucket)
	if err != nil {
		return
	}
	c, ok := loadCORS(b)
	if !ok {
		return
	}
	method := r.Header.Get("Access-Control-Request-Method")
	if method == "" {
		method = r.Method
	}
	if rule, o := c.match(origin, method); rule != nil {
		rule.setHeaders(w.Header(), o, method)
	}
}

// resetCORSHeaders replaces the CORS headers setCORSHeaders set for one
// bucket by those of bucket, once the request turned out to address
// another one (a form's signer is known only in its handler).
func (a *API) resetCORSHeaders(ctx context.Context, w http.ResponseWriter, r *http.Request, bucket string) {
	h := w.Header()
	for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
		"Access-Control-Expose-Headers", "Access-Control-Max-Age", "Access-Control-Allow-Credentials"} {
		h.Del(k)
	}
	vary := slices.DeleteFunc(h.Values("Vary"), func(v string) bool { return v == "Origin" })
	h.Del("Vary")
	for _, v := range vary {
		h.Add("Vary", v)
	}
	a.setCORSHeaders(ctx, w, r, bucket)
}

// preflight answers an OPTIONS request; it is not authenticated.
func (a *API) preflight(w http.ResponseWriter, r *http.Request, req *Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return s3err.InvalidRequest.WithMessage("Insufficient information. Origin request header needed.")
	}
	method := r.Header.Get("Access-Control-Request-Method")
	if method == "" {
		return s3err.InvalidRequest.WithMessage("Invalid Access-Control-Request-Method: ")
	}
	b, err := a.store.GetBucket(r.Context(), req.Bucket)
	if err != nil {
		return err
	}
	c, ok := loadCORS(b)
	if !ok {
		return s3err.AccessDenied.WithMessage("CORSResponse: CORS is not enabled for this bucket.")
	}
	var requested []string
	for _, v := range r.Header.Values("Access-Control-Request-Headers") {
		for h := range strings.SplitSeq(v, ",") {
			if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
				requested = append(requested, h)
			}
		}
	}
	rule, o := c.match(origin, method)
	if rule == nil || !rule.allowsHeaders(requested) {
		return s3err.AccessDenied.WithMessage("CORSResponse: This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.")
	}
	rule.setHeaders(w.Header(), o, method)
	if len(requested) > 0 {
		w.Header().Set("Access-Control-Allow-Headers", strings.Join(requested, ","))
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (a *API) getBucketCORS(w http.ResponseWriter, r *http.Request, req *Request) error {
	b := req.auth.bucket
	c, ok := loadCORS(b)
	if !ok {
		return s3err.NoSuchCORSConfiguration
	}
	c.Xmlns = s3Namespace
	return writeXML(w, c)
}

func (a *API) putBucketCORS(w http.ResponseWriter, r *http.Request, req *Request) error {
	var c corsConfiguration
	if err := decodeVerifiedXML(r, &c); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	c.Xmlns = ""
	return a.setBucketConfigXML(r.Context(), req.Bucket, corsConfig, c)
}

func (a *API) deleteBucketCORS(w http.ResponseWriter, r *http.Request, req *Request) error {
	return a.deleteBucketConfig(w, r, req, corsConfig)
}
