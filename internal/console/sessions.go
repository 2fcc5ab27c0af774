package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"sync"
	"time"
)

// session is one signed-in browser. The secret key lives only here, in
// memory: it is never written to a response or a log.
type session struct {
	id        string // the cookie's value
	csrf      string // the X-Cairn-CSRF header's value
	accessKey string
	secretKey string
	userID    string
	created   time.Time
	expires   time.Time
	// ended is done once the session is removed, evicted or found
	// expired: forwarded requests still running under it (a live event
	// stream never ends by itself) stop then.
	ended context.Context
	end   context.CancelFunc
}

// LogValue keeps a logged session down to its user: never its secret.
func (s *session) LogValue() slog.Value { return slog.StringValue(s.userID) }

// maxSessionsPerUser bounds one user's sessions: signing in beyond it
// ends that user's own oldest session, so that one user (anyone with a
// key pair) signing in over and over cannot fill the table and evict
// everyone else's.
const maxSessionsPerUser = 32

// sessions is the bounded in-memory session table. When full, signing in
// evicts the oldest session: memory stays bounded whatever a client does.
type sessions struct {
	max      int
	lifetime time.Duration
	now      func() time.Time

	mu     sync.Mutex
	byID   map[string]*session
	byUser map[string]int // live sessions per user
	order  []*session     // by creation; may hold removed sessions, skipped lazily
}

func newSessions(max int, lifetime time.Duration, now func() time.Time) *sessions {
	return &sessions{max: max, lifetime: lifetime, now: now, byID: make(map[string]*session), byUser: make(map[string]int)}
}

// create stores a new session for the user's key pair.
func (t *sessions) create(userID, accessKey, secretKey string) *session {
	now := t.now()
	s := &session{id: randomToken(), csrf: randomToken(), accessKey: accessKey, secretKey: secretKey,
		userID: userID, created: now, expires: now.Add(t.lifetime)}
	s.ended, s.end = context.WithCancel(context.Background())
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweepLocked(now)
	if t.byUser[userID] >= maxSessionsPerUser {
		t.evictOldestOfLocked(userID)
	}
	for len(t.byID) >= t.max {
		t.evictOldestLocked()
	}
	t.byID[s.id] = s
	t.byUser[userID]++
	t.order = append(t.order, s)
	return s
}

// get returns the live session with this id, or nil.
func (t *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.byID[id]
	if s == nil {
		return nil
	}
	if !t.now().Before(s.expires) {
		t.deleteLocked(s)
		return nil
	}
	return s
}

// remove ends a session (sign-out).
func (t *sessions) remove(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.byID[id]; s != nil {
		t.deleteLocked(s)
	}
}

// deleteLocked drops s from the table and ends its requests.
func (t *sessions) deleteLocked(s *session) {
	delete(t.byID, s.id)
	if t.byUser[s.userID]--; t.byUser[s.userID] <= 0 {
		delete(t.byUser, s.userID)
	}
	s.end()
}

// sweepLocked drops expired and removed sessions from the front of order.
// Sessions all live equally long, so order is also by expiry.
func (t *sessions) sweepLocked(now time.Time) {
	i := 0
	for ; i < len(t.order); i++ {
		s := t.order[i]
		if t.byID[s.id] == s && now.Before(s.expires) {
			break
		}
		if t.byID[s.id] == s {
			t.deleteLocked(s)
		}
	}
	t.order = t.order[i:]
	// Signed-out sessions behind a live one stay in order until it
	// expires; compact so that sign-in/sign-out cycles cannot grow it.
	if len(t.order) > 2*len(t.byID)+64 {
		live := make([]*session, 0, len(t.byID))
		for _, s := range t.order {
			if t.byID[s.id] == s {
				live = append(live, s)
			}
		}
		t.order = live
	}
}

func (t *sessions) evictOldestLocked() {
	for len(t.order) > 0 {
		s := t.order[0]
		t.order = t.order[1:]
		if t.byID[s.id] == s {
			t.deleteLocked(s)
			return
		}
	}
}

// evictOldestOfLocked ends the user's oldest live session.
func (t *sessions) evictOldestOfLocked(userID string) {
	for _, s := range t.order {
		if s.userID == userID && t.byID[s.id] == s {
			t.deleteLocked(s)
			return
		}
	}
}

// checkCSRF reports whether token is the session's CSRF token.
func (s *session) checkCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.csrf)) == 1
}

// randomToken is 256 random bits, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}
