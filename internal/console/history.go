package console

import (
	"bytes"
	"net/http"
)

// serveHistory answers GET /api/metrics/history for admins: the server's
// own metrics of the last hour, as History writes them.
func (c *Console) serveHistory(w http.ResponseWriter, r *http.Request, s *session) {
	if !safeMethod(r.Method) {
		w.Header().Set("Allow", "GET")
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "use GET")
		return
	}
	u, err := c.user(r.Context(), s)
	if err != nil || !u.Admin {
		writeError(w, http.StatusForbidden, "AccessDenied", "the metrics history is for admins")
		return
	}
	if c.cfg.History == nil {
		writeError(w, http.StatusNotFound, "NotFound", "this server keeps no metrics history (metrics are off)")
		return
	}
	// The history is small (bounded points); buffering lets a failure be
	// answered as an error rather than as a truncated body.
	var buf bytes.Buffer
	if err := c.cfg.History.JSON(&buf); err != nil {
		c.log.ErrorContext(r.Context(), "console: metrics history", "err", err)
		writeError(w, http.StatusInternalServerError, "InternalError", "could not render the metrics history")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf.Bytes())
}
