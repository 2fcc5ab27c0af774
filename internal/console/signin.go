package console

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/cairn-s3/cairn/internal/tenant"
)

// sessionJSON is the answer of GET and POST /api/session.
type sessionJSON struct {
	User        string `json:"user"`
	Tenant      string `json:"tenant"`
	DisplayName string `json:"displayName"`
	Admin       bool   `json:"admin"`
	CSRFToken   string `json:"csrfToken"`
	Expires     string `json:"expires"`
	Endpoint    string `json:"endpoint"`
}

// maxSignInBody bounds the sign-in request's body.
const maxSignInBody = 16 << 10

func (c *Console) serveSession(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		c.signIn(w, r)
	case http.MethodGet, http.MethodHead:
		c.withSession(w, r, c.currentSession)
	case http.MethodDelete:
		if c.session(r) == nil { // signing out twice is fine
			c.clearCookie(w, r)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		c.withSession(w, r, c.signOut)
	default:
		w.Header().Set("Allow", "GET, POST, DELETE")
		writeError(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "use GET, POST or DELETE")
	}
}

// signIn verifies a key pair and starts a session. Every refusal (unknown
// key, wrong secret, suspended user, removed key) is the same 401, so the
// answer tells nothing about which keys exist.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		// A cross-site form cannot send JSON without a CORS preflight.
		writeError(w, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "send the key pair as application/json")
		return
	}
	var req struct {
		AccessKey string `json:"accessKey"`
		SecretKey string `json:"secretKey"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, maxSignInBody)).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "MalformedJSON", "want {\"accessKey\": ..., \"secretKey\": ...}")
		return
	}
	u, err := c.verify(r.Context(), req.AccessKey, req.SecretKey)
	if errors.Is(err, errInvalidCredentials) {
		// The submitted keys are never logged: people paste secrets into
		// the access key field.
		c.log.InfoContext(r.Context(), "console sign-in refused", "remote", r.RemoteAddr)
		writeError(w, http.StatusUnauthorized, "InvalidCredentials", "the access key or secret key is wrong, or the user is suspended")
		return
	}
	if err != nil {
		c.log.ErrorContext(r.Context(), "console sign-in", "err", err)
		writeError(w, http.StatusInternalServerError, "InternalError", "could not read the account")
		return
	}
	for _, old := range c.presented(r) {
		c.sessions.remove(old.id)
	}
	s := c.sessions.create(u.UserID, req.AccessKey, req.SecretKey)
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: s.id, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: max(1, int(c.cfg.SessionLifetime/time.Second))})
	c.log.InfoContext(r.Context(), "console sign-in", "user", u.UserID, "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, c.describe(s, u))
}

var errInvalidCredentials = errors.New("console: invalid credentials")

// verify returns the user owning the key pair, or errInvalidCredentials.
// The secret is compared in constant time, and compared (against a dummy)
// even when the key is unknown, so timing tells no more than the answer.
func (c *Console) verify(ctx context.Context, accessKey, secretKey string) (KeyOwner, error) {
	if accessKey == "" || secretKey == "" {
		return KeyOwner{}, errInvalidCredentials
	}
	u, err := c.cfg.Accounts.KeyOwner(ctx, accessKey)
	if err != nil && !errors.Is(err, ErrUnknownKey) {
		return KeyOwner{}, err
	}
	want, found := u.SecretKey, err == nil
	if !found {
		want = "\x00no key"
	}
	// Hashing first makes the comparison independent of the lengths.
	got, exp := sha256.Sum256([]byte(secretKey)), sha256.Sum256([]byte(want))
	match := subtle.ConstantTimeCompare(got[:], exp[:]) == 1
	if !found || !match || u.Suspended {
		return KeyOwner{}, errInvalidCredentials
	}
	return u, nil
}

// currentSession answers GET /api/session. The user is read again, so a
// session whose key was removed or whose user was suspended ends here (the
// S3 handler refuses its requests anyway).
func (c *Console) currentSession(w http.ResponseWriter, r *http.Request, s *session) {
	u, err := c.user(r.Context(), s)
	if err != nil {
		c.sessions.remove(s.id)
		c.clearCookie(w, r)
		writeError(w, http.StatusUnauthorized, "NoSession", "the session's key or user is gone or suspended: sign in again")
		return
	}
	writeJSON(w, http.StatusOK, c.describe(s, u))
}

// user reads the session's user again, failing if its key no longer
// verifies (removed, secret rotated, user suspended).
func (c *Console) user(ctx context.Context, s *session) (KeyOwner, error) {
	return c.verify(ctx, s.accessKey, s.secretKey)
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, s *session) {
	c.sessions.remove(s.id)
	c.clearCookie(w, r)
	c.log.InfoContext(r.Context(), "console sign-out", "user", s.userID)
	w.WriteHeader(http.StatusNoContent)
}

func (c *Console) clearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// describe is the page's view of a session: never the secret.
func (c *Console) describe(s *session, u KeyOwner) sessionJSON {
	t, _ := tenant.SplitUser(u.UserID)
	return sessionJSON{User: u.UserID, Tenant: t, DisplayName: u.DisplayName, Admin: u.Admin,
		CSRFToken: s.csrf, Expires: s.expires.UTC().Format(time.RFC3339), Endpoint: c.cfg.Endpoint}
}
