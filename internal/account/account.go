// Package account manages Cairn's users and their S3 access keys on top of
// the system-metadata KV (kv.Store), in the shape of Ceph RGW users: a user
// id (uid), a display name, an e-mail, a suspended flag, a bucket limit,
// S3 key pairs, capabilities and the admin/system flags.
//
// Layout in the KV (this package owns both prefixes):
//
//	users/<uid>        JSON of the user record
//	keys/<access-key>  the uid owning the key
//
// Every change of a user and its key index is one atomic kv.Batch. Writes
// through one Service are serialised by a mutex; the Service is the only
// writer of these prefixes in a process. (Several gateways sharing one
// RADOS-backed KV would need compare-and-set in kv; not needed for the
// single-process local store.)
//
// Service implements auth.Credentials. Lookups are cached in memory; every
// write through the Service updates the cache, so a removed key or a
// suspended user stops authenticating at once.
package account

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// Sentinel errors.
var (
	ErrNoSuchUser     = errors.New("account: no such user")
	ErrUserExists     = errors.New("account: user already exists")
	ErrKeyExists      = errors.New("account: access key already exists")
	ErrNoSuchKey      = errors.New("account: no such access key")
	ErrEmailExists    = errors.New("account: email already in use")
	ErrInvalidUserID  = errors.New("account: invalid user id")
	ErrInvalidKey     = errors.New("account: invalid access key")
	ErrInvalidSecret  = errors.New("account: invalid secret key")
	ErrInvalidCaps    = errors.New("account: invalid capabilities")
	ErrInvalidRequest = errors.New("account: invalid request")
	// ErrSuspended is returned by Lookup for a key of a suspended user. It
	// is always joined with auth.ErrUnknownAccessKey, so a verifier that
	// only knows that sentinel still refuses the request.
	ErrSuspended = errors.New("account: user is suspended")
)

// DefaultMaxBuckets is the bucket limit of a new user, as in RGW.
const DefaultMaxBuckets = 1000

// Lengths of generated keys, as radosgw-admin generates them.
const (
	AccessKeyLength = 20
	SecretKeyLength = 40
)

const (
	usersPrefix = "users/"
	keysPrefix  = "keys/"
)

// User is an account.
type User struct {
	ID          string    `json:"id"`
	DisplayName string    `json:"display_name"`
	Email       string    `json:"email,omitempty"`
	Suspended   bool      `json:"suspended,omitempty"`
	MaxBuckets  int       `json:"max_buckets"`
	Keys        []Key     `json:"keys,omitempty"`
	Caps        []Cap     `json:"caps,omitempty"`
	Admin       bool      `json:"admin,omitempty"`
	System      bool      `json:"system,omitempty"`
	Created     time.Time `json:"created"`
}

// Key is an S3 key pair.
type Key struct {
	AccessKey string `json:"access_key"`
	SecretKey string `json:"secret_key"`
}

// Cap is one capability, as RGW's user caps: a type ("users", "buckets",
// "metadata", "usage", ...) and a permission ("read", "write" or "*").
type Cap struct {
	Type string `json:"type"`
	Perm string `json:"perm"`
}

// HasCap reports whether u holds capability typ with at least perm
// ("read" or "write"); "*" grants both.
func (u User) HasCap(typ, perm string) bool {
	for _, c := range u.Caps {
		if c.Type == typ && (c.Perm == "*" || c.Perm == perm) {
			return true
		}
	}
	return false
}

// KeySpec asks for a key pair: a missing access or secret key is generated.
type KeySpec struct {
	AccessKey string
	SecretKey string
}

// CreateSpec describes a new user.
type CreateSpec struct {
	ID          string
	DisplayName string
	Email       string
	Suspended   bool
	MaxBuckets  *int // nil means DefaultMaxBuckets
	Caps        []Cap
	Admin       bool
	System      bool
	// Key, if not nil, is the user's first key pair (parts left empty are
	// generated). radosgw-admin generates a key unless told not to; the
	// caller decides.
	Key *KeySpec
}

// Modification changes a user; nil fields are left alone.
type Modification struct {
	DisplayName *string
	Email       *string
	Suspended   *bool
	MaxBuckets  *int
	Caps        *[]Cap
	Admin       *bool
	System      *bool
	// Key, if not nil, adds a key pair (or replaces the secret of one the
	// user already has), as RGW's modify does.
	Key *KeySpec
}

// Options tune a Service.
type Options struct {
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Rand is the randomness for generated keys; crypto/rand if nil.
	Rand io.Reader
	// OnChange, if set, is called after every write that may have made
	// cached lookups stale, with the access keys it touched: on a store
	// shared by several gateways it tells the others to call Forget.
	OnChange func(ctx context.Context, accessKeys []string)
}

// Service manages users on a kv.Store.
type Service struct {
	kv   kv.Store
	now  func() time.Time
	rand io.Reader

	onChange func(ctx context.Context, accessKeys []string)

	mu sync.Mutex // serialises writes
	// cacheMu guards cache and gen. It is not mu, so that another
	// gateway's invalidation (Forget) never waits for a write here.
	cacheMu sync.Mutex
	cache   map[string]cacheItem // by access key
	gen     uint64               // bumped by every write, so a lookup racing a write is not cached
}

type cacheItem struct {
	uid, secret string
	suspended   bool
}

// New returns a Service storing users in s.
func New(s kv.Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	return &Service{kv: s, now: opts.Now, rand: opts.Rand, onChange: opts.OnChange, cache: make(map[string]cacheItem)}
}

var _ auth.Credentials = (*Service)(nil)

// ValidateUserID checks a user id: a uid, or "tenant$uid" for a user of a
// tenant (see package tenant). Like radosgw-admin, Cairn accepts most
// printable uids; it refuses the empty string, uids over 255 bytes,
// whitespace and control characters, and the characters RGW gives a
// meaning: '$' (tenant separator), ':' (subuser separator) and '/'.
func ValidateUserID(userID string) error {
	t, uid := tenant.SplitUser(userID)
	if strings.Contains(userID, "$") && t == "" {
		return fmt.Errorf("%w: %q has an empty tenant before '$'", ErrInvalidUserID, userID)
	}
	if err := tenant.Validate(t); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidUserID, err)
	}
	if uid == "" || len(uid) > 255 {
		return fmt.Errorf("%w: %q must be 1 to 255 bytes", ErrInvalidUserID, uid)
	}
	for _, r := range uid {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) || strings.ContainsRune("$:/", r) {
			return fmt.Errorf("%w: %q contains %q", ErrInvalidUserID, uid, r)
		}
	}
	return nil
}

func validateAccessKey(ak string) error {
	if ak == "" || len(ak) > 128 {
		return fmt.Errorf("%w: must be 1 to 128 bytes", ErrInvalidKey)
	}
	for _, r := range ak {
		if r <= ' ' || r >= 0x7f || r == '/' {
			return fmt.Errorf("%w: %q contains %q", ErrInvalidKey, ak, r)
		}
	}
	return nil
}

func validateSecret(sk string) error {
	if sk == "" || len(sk) > 256 {
		return fmt.Errorf("%w: must be 1 to 256 bytes", ErrInvalidSecret)
	}
	for _, r := range sk {
		if r < ' ' || r >= 0x7f {
			return fmt.Errorf("%w: contains a non-printable character", ErrInvalidSecret)
		}
	}
	return nil
}

// ParseCaps parses RGW's user-caps syntax, "users=read,write;buckets=*",
// into capabilities. "read,write" becomes "*".
func ParseCaps(s string) ([]Cap, error) {
	var caps []Cap
	for part := range strings.SplitSeq(s, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		typ, perms, ok := strings.Cut(part, "=")
		typ = strings.TrimSpace(typ)
		if !ok || typ == "" {
			return nil, fmt.Errorf("%w: %q", ErrInvalidCaps, part)
		}
		read, write := false, false
		for p := range strings.SplitSeq(perms, ",") {
			switch strings.TrimSpace(p) {
			case "read":
				read = true
			case "write":
				write = true
			case "*":
				read, write = true, true
			default:
				return nil, fmt.Errorf("%w: permission %q", ErrInvalidCaps, p)
			}
		}
		perm := "read"
		switch {
		case read && write:
			perm = "*"
		case write:
			perm = "write"
		}
		caps = append(caps, Cap{Type: typ, Perm: perm})
	}
	return caps, nil
}

// Lookup implements auth.Credentials. A key nobody owns fails with
// auth.ErrUnknownAccessKey; a key of a suspended user fails with an error
// that is both ErrSuspended and auth.ErrUnknownAccessKey.
func (s *Service) Lookup(ctx context.Context, accessKey string) (userID, secretKey string, err error) {
	s.cacheMu.Lock()
	c, ok := s.cache[accessKey]
	gen := s.gen
	s.cacheMu.Unlock()
	if !ok {
		u, err := s.InfoByAccessKey(ctx, accessKey)
		if errors.Is(err, ErrNoSuchKey) {
			return "", "", auth.ErrUnknownAccessKey
		}
		if err != nil {
			return "", "", err
		}
		c = cacheItem{uid: u.ID, suspended: u.Suspended}
		for _, k := range u.Keys {
			if k.AccessKey == accessKey {
				c.secret = k.SecretKey
			}
		}
		s.cacheMu.Lock()
		if s.gen == gen {
			s.cache[accessKey] = c
		}
		s.cacheMu.Unlock()
	}
	if c.suspended {
		return "", "", fmt.Errorf("%w: %w", ErrSuspended, auth.ErrUnknownAccessKey)
	}
	return c.uid, c.secret, nil
}

// Info returns the user with id uid, or ErrNoSuchUser.
func (s *Service) Info(ctx context.Context, uid string) (User, error) {
	v, err := s.kv.Get(ctx, []byte(usersPrefix+uid))
	if errors.Is(err, kv.ErrNotFound) {
		return User{}, fmt.Errorf("%w: %q", ErrNoSuchUser, uid)
	}
	if err != nil {
		return User{}, fmt.Errorf("account: read user %q: %w", uid, err)
	}
	var u User
	if err := json.Unmarshal(v, &u); err != nil {
		return User{}, fmt.Errorf("account: decode user %q: %w", uid, err)
	}
	return u, nil
}

// InfoByEmail returns the user whose email address is email (compared
// case-insensitively), or ErrNoSuchUser. Users are few, so a scan is fine.
func (s *Service) InfoByEmail(ctx context.Context, email string) (User, error) {
	if email != "" {
		for p, err := range s.kv.Scan(ctx, []byte(usersPrefix), nil) {
			if err != nil {
				return User{}, fmt.Errorf("account: scan users: %w", err)
			}
			var u User
			if err := json.Unmarshal(p.Value, &u); err != nil {
				return User{}, fmt.Errorf("account: decode user %q: %w", p.Key, err)
			}
			if strings.EqualFold(u.Email, email) {
				return u, nil
			}
		}
	}
	return User{}, fmt.Errorf("%w: email %q", ErrNoSuchUser, email)
}

// InfoByAccessKey returns the user owning accessKey, or ErrNoSuchKey.
func (s *Service) InfoByAccessKey(ctx context.Context, accessKey string) (User, error) {
	v, err := s.kv.Get(ctx, []byte(keysPrefix+accessKey))
	if errors.Is(err, kv.ErrNotFound) {
		return User{}, fmt.Errorf("%w: %q", ErrNoSuchKey, accessKey)
	}
	if err != nil {
		return User{}, fmt.Errorf("account: read key: %w", err)
	}
	u, err := s.Info(ctx, string(v))
	if errors.Is(err, ErrNoSuchUser) {
		// A dangling index entry; Cairn never writes one.
		return User{}, fmt.Errorf("%w: %q", ErrNoSuchKey, accessKey)
	}
	return u, err
}

// List returns every uid, sorted.
func (s *Service) List(ctx context.Context) ([]string, error) {
	var ids []string
	for p, err := range s.kv.Scan(ctx, []byte(usersPrefix), nil) {
		if err != nil {
			return nil, fmt.Errorf("account: list users: %w", err)
		}
		ids = append(ids, strings.TrimPrefix(string(p.Key), usersPrefix))
	}
	slices.Sort(ids)
	return ids, nil
}

// Create adds a user. It fails with ErrUserExists if the uid is taken,
// ErrKeyExists if a given access key is, and ErrEmailExists if another
// user has the e-mail.
func (s *Service) Create(ctx context.Context, spec CreateSpec) (User, error) {
	if err := ValidateUserID(spec.ID); err != nil {
		return User{}, err
	}
	if spec.DisplayName == "" {
		return User{}, fmt.Errorf("%w: display name is required", ErrInvalidRequest)
	}
	u := User{
		ID:          spec.ID,
		DisplayName: spec.DisplayName,
		Email:       spec.Email,
		Suspended:   spec.Suspended,
		MaxBuckets:  DefaultMaxBuckets,
		Caps:        spec.Caps,
		Admin:       spec.Admin,
		System:      spec.System,
		Created:     s.now().UTC(),
	}
	if spec.MaxBuckets != nil {
		u.MaxBuckets = *spec.MaxBuckets
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.Info(ctx, spec.ID); err == nil {
		return User{}, fmt.Errorf("%w: %q", ErrUserExists, spec.ID)
	} else if !errors.Is(err, ErrNoSuchUser) {
		return User{}, err
	}
	if err := s.checkEmail(ctx, u.ID, u.Email); err != nil {
		return User{}, err
	}
	var b kv.Batch
	if spec.Key != nil {
		if err := s.addKey(ctx, &b, &u, *spec.Key); err != nil {
			return User{}, err
		}
	}
	if err := s.commit(ctx, &b, u, nil); err != nil {
		return User{}, err
	}
	return u, nil
}

// Modify changes a user and returns it.
func (s *Service) Modify(ctx context.Context, uid string, m Modification) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.Info(ctx, uid)
	if err != nil {
		return User{}, err
	}
	old := u
	if m.DisplayName != nil {
		if *m.DisplayName == "" {
			return User{}, fmt.Errorf("%w: display name cannot be empty", ErrInvalidRequest)
		}
		u.DisplayName = *m.DisplayName
	}
	if m.Email != nil && *m.Email != u.Email {
		if err := s.checkEmail(ctx, uid, *m.Email); err != nil {
			return User{}, err
		}
		u.Email = *m.Email
	}
	if m.Suspended != nil {
		u.Suspended = *m.Suspended
	}
	if m.MaxBuckets != nil {
		u.MaxBuckets = *m.MaxBuckets
	}
	if m.Caps != nil {
		u.Caps = *m.Caps
	}
	if m.Admin != nil {
		u.Admin = *m.Admin
	}
	if m.System != nil {
		u.System = *m.System
	}
	var b kv.Batch
	if m.Key != nil {
		if err := s.addKey(ctx, &b, &u, *m.Key); err != nil {
			return User{}, err
		}
	}
	if err := s.commit(ctx, &b, u, old.Keys); err != nil {
		return User{}, err
	}
	return u, nil
}

// Suspend sets or clears a user's suspended flag.
func (s *Service) Suspend(ctx context.Context, uid string, suspended bool) (User, error) {
	return s.Modify(ctx, uid, Modification{Suspended: &suspended})
}

// Remove deletes a user and all its keys. It does not look at buckets:
// the caller decides what happens to the user's data.
func (s *Service) Remove(ctx context.Context, uid string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.Info(ctx, uid)
	if err != nil {
		return err
	}
	var b kv.Batch
	for _, k := range u.Keys {
		b.Delete([]byte(keysPrefix + k.AccessKey))
	}
	b.Delete([]byte(usersPrefix + uid))
	if err := s.kv.Apply(ctx, &b); err != nil {
		return fmt.Errorf("account: remove user %q: %w", uid, err)
	}
	s.forget(ctx, u.Keys)
	return nil
}

// KeyCreate adds a key pair to a user (generating missing parts) and
// returns the user. If the user already has the access key, its secret is
// replaced; if another user has it, it fails with ErrKeyExists.
func (s *Service) KeyCreate(ctx context.Context, uid string, spec KeySpec) (User, error) {
	return s.Modify(ctx, uid, Modification{Key: &spec})
}

// KeyRemove removes a key pair from a user; ErrNoSuchKey if the user does
// not have it.
func (s *Service) KeyRemove(ctx context.Context, uid, accessKey string) (User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.Info(ctx, uid)
	if err != nil {
		return User{}, err
	}
	i := slices.IndexFunc(u.Keys, func(k Key) bool { return k.AccessKey == accessKey })
	if i < 0 {
		return User{}, fmt.Errorf("%w: %q is not a key of %q", ErrNoSuchKey, accessKey, uid)
	}
	old := u.Keys
	u.Keys = slices.Delete(slices.Clone(u.Keys), i, i+1)
	var b kv.Batch
	b.Delete([]byte(keysPrefix + accessKey))
	if err := s.commit(ctx, &b, u, old); err != nil {
		return User{}, err
	}
	return u, nil
}

// addKey adds or updates a key pair in u and its index entry in b.
// Callers hold s.mu.
func (s *Service) addKey(ctx context.Context, b *kv.Batch, u *User, spec KeySpec) error {
	var err error
	if spec.AccessKey == "" {
		for range 10 { // a collision of 20 random characters is not expected
			if spec.AccessKey, err = s.generate(AccessKeyLength, upperAlnum); err != nil {
				return err
			}
			if owner, err := s.keyOwner(ctx, spec.AccessKey); err != nil {
				return err
			} else if owner == "" {
				break
			}
		}
	}
	if err := validateAccessKey(spec.AccessKey); err != nil {
		return err
	}
	if spec.SecretKey == "" {
		if spec.SecretKey, err = s.generate(SecretKeyLength, alnum); err != nil {
			return err
		}
	}
	if err := validateSecret(spec.SecretKey); err != nil {
		return err
	}
	owner, err := s.keyOwner(ctx, spec.AccessKey)
	if err != nil {
		return err
	}
	if owner != "" && owner != u.ID {
		return fmt.Errorf("%w: %q", ErrKeyExists, spec.AccessKey)
	}
	k := Key(spec)
	keys := slices.Clone(u.Keys)
	if i := slices.IndexFunc(keys, func(k Key) bool { return k.AccessKey == spec.AccessKey }); i >= 0 {
		keys[i] = k
	} else {
		keys = append(keys, k)
	}
	u.Keys = keys
	b.Put([]byte(keysPrefix+spec.AccessKey), []byte(u.ID))
	return nil
}

// keyOwner returns the uid owning accessKey, or "".
func (s *Service) keyOwner(ctx context.Context, accessKey string) (string, error) {
	v, err := s.kv.Get(ctx, []byte(keysPrefix+accessKey))
	if errors.Is(err, kv.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("account: read key: %w", err)
	}
	return string(v), nil
}

// checkEmail fails with ErrEmailExists if a user other than uid has email.
// Users are few, so a scan is fine.
func (s *Service) checkEmail(ctx context.Context, uid, email string) error {
	if email == "" {
		return nil
	}
	for p, err := range s.kv.Scan(ctx, []byte(usersPrefix), nil) {
		if err != nil {
			return fmt.Errorf("account: scan users: %w", err)
		}
		var u User
		if err := json.Unmarshal(p.Value, &u); err != nil {
			return fmt.Errorf("account: decode user %q: %w", p.Key, err)
		}
		if u.ID != uid && strings.EqualFold(u.Email, email) {
			return fmt.Errorf("%w: %q", ErrEmailExists, email)
		}
	}
	return nil
}

// commit writes u with the index changes in b, then drops the cached
// entries of oldKeys and u's keys. Callers hold s.mu.
func (s *Service) commit(ctx context.Context, b *kv.Batch, u User, oldKeys []Key) error {
	v, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("account: encode user: %w", err)
	}
	b.Put([]byte(usersPrefix+u.ID), v)
	if err := s.kv.Apply(ctx, b); err != nil {
		return fmt.Errorf("account: write user %q: %w", u.ID, err)
	}
	s.forget(ctx, append(oldKeys[:len(oldKeys):len(oldKeys)], u.Keys...))
	return nil
}

// forget drops cached lookups of keys a write changed and reports them to
// Options.OnChange. Callers hold s.mu.
func (s *Service) forget(ctx context.Context, keys []Key) {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.AccessKey
	}
	if len(names) == 0 { // no key: nothing cached (Forget() would drop all)
		return
	}
	s.Forget(names...)
	if s.onChange != nil {
		s.onChange(ctx, names)
	}
}

// Forget drops the cached lookups of accessKeys, or of every key if none
// is given: another gateway sharing the store changed them.
func (s *Service) Forget(accessKeys ...string) {
	s.cacheMu.Lock()
	defer s.cacheMu.Unlock()
	s.gen++
	if len(accessKeys) == 0 {
		clear(s.cache)
		return
	}
	for _, k := range accessKeys {
		delete(s.cache, k)
	}
}

const (
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// generate returns n characters drawn uniformly from set.
func (s *Service) generate(n int, set string) (string, error) {
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	limit := 256 - 256%len(set) // reject bytes that would bias the draw
	for len(out) < n {
		if _, err := io.ReadFull(s.rand, buf); err != nil {
			return "", fmt.Errorf("account: generate key: %w", err)
		}
		for _, c := range buf {
			if int(c) < limit && len(out) < n {
				out = append(out, set[int(c)%len(set)])
			}
		}
	}
	return string(out), nil
}
