package snsapi

import (
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/cairn-s3/cairn/internal/s3err"
)

// maxFormBody bounds the form body (RGW's rgw_max_put_param_size, 1 MiB).
const maxFormBody = 1 << 20

// params reads a request's parameters (spec §2.1): the query string merged
// with the URL-encoded form body (body values win), then every
// Attributes.entry.N.key/value pair flattened into key=value (a flat
// parameter of the same name wins).
func params(r *http.Request) (map[string]string, error) {
	out := map[string]string{}
	parseInto(out, r.URL.RawQuery)
	if r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxFormBody+1))
		if err != nil {
			return nil, s3err.IncompleteBody.WithCause(err)
		}
		if len(body) > maxFormBody {
			return nil, s3err.MaxMessageLengthExceeded
		}
		parseInto(out, string(body))
	}
	flattenAttributes(out)
	return out, nil
}

// parseInto splits s on '&' and each token at its first '=', URL-decoding
// both halves (undecodable text is kept as sent).
func parseInto(out map[string]string, s string) {
	for tok := range strings.SplitSeq(s, "&") {
		if tok == "" {
			continue
		}
		k, v, _ := strings.Cut(tok, "=")
		out[unescape(k)] = unescape(v)
	}
}

func unescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// flattenAttributes pairs Attributes.entry.<N>.key and .value by N (any
// unsigned integer, in any order) and adds each pair as a flat parameter.
func flattenAttributes(p map[string]string) {
	type entry struct {
		key, value       string
		hasKey, hasValue bool
	}
	entries := map[string]*entry{}
	for k, v := range p {
		rest, ok := strings.CutPrefix(k, "Attributes.entry.")
		if !ok {
			continue
		}
		n, field, ok := strings.Cut(rest, ".")
		if !ok || n == "" || strings.Trim(n, "0123456789") != "" {
			continue
		}
		e := entries[n]
		if e == nil {
			e = &entry{}
			entries[n] = e
		}
		switch field {
		case "key":
			e.key, e.hasKey = v, true
		case "value":
			e.value, e.hasValue = v, true
		}
	}
	for _, e := range entries {
		if !e.hasKey || !e.hasValue || e.key == "" {
			continue
		}
		if _, flat := p[e.key]; !flat {
			p[e.key] = e.value
		}
	}
}
