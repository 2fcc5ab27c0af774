package reqctx

import (
	"net/http"
	"strings"
)

// Secure reports whether a request came over a secure transport: TLS
// terminated here, or, when trustForwarded, a proxy's forwarded https
// (X-Forwarded-Proto or Forwarded: proto=https).
func Secure(r *http.Request, trustForwarded bool) bool {
	if r.TLS != nil {
		return true
	}
	if !trustForwarded {
		return false
	}
	if strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return true
	}
	for _, part := range strings.FieldsFunc(r.Header.Get("Forwarded"), func(c rune) bool { return c == ';' || c == ',' }) {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && strings.EqualFold(k, "proto") && strings.EqualFold(strings.Trim(v, `"`), "https") {
			return true
		}
	}
	return false
}
