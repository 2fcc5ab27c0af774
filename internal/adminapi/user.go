package adminapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/cairn-s3/cairn/internal/account"
	"github.com/cairn-s3/cairn/internal/tenant"
)

// query reads RGW-style query parameters.
type query struct {
	url.Values
	// body is the request body, read by the operations that take one.
	body io.Reader
}

// str returns a parameter and whether it was given.
func (q query) str(name string) (string, bool) {
	if !q.Has(name) {
		return "", false
	}
	return q.Get(name), true
}

// boolean parses an RGW boolean ("true"/"false", "1"/"0"); a parameter given
// without a value ("?purge-data") is true.
func (q query) boolean(name string) (v, ok bool, err error) {
	s, ok := q.str(name)
	if !ok {
		return false, false, nil
	}
	if s == "" {
		return true, true, nil
	}
	v, err = strconv.ParseBool(strings.ToLower(s))
	if err != nil {
		return false, true, errInvalidArgument.with(fmt.Errorf("%s: %q is not a boolean", name, s))
	}
	return v, true, nil
}

func (q query) integer(name string) (*int, error) {
	s, ok := q.str(name)
	if !ok {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, errInvalidArgument.with(fmt.Errorf("%s: %q is not an integer", name, s))
	}
	return &n, nil
}

func (q query) uid() (string, error) {
	uid := q.Get("uid")
	if uid == "" {
		return "", errInvalidArgument.with(errors.New("uid is required"))
	}
	// radosgw-admin's two spellings of a tenant's user: --tenant T --uid U,
	// or --uid 'T$U'.
	t := q.Get("tenant")
	if t == "" {
		return uid, nil
	}
	if ut, _ := tenant.SplitUser(uid); strings.Contains(uid, "$") && ut != t {
		return "", errInvalidArgument.with(fmt.Errorf("uid %q is not in tenant %q", uid, t))
	}
	if !strings.Contains(uid, "$") {
		uid = tenant.User(t, uid)
	}
	return uid, nil
}

func (q query) checkKeyType() error {
	if t := q.Get("key-type"); t != "" && t != "s3" {
		return errInvalidKeyType
	}
	return nil
}

// keySpec returns the key pair a create or modify asks for, or nil:
// given access/secret keys (missing halves generated) or generate-key.
func (q query) keySpec(generateByDefault bool) (*account.KeySpec, error) {
	if err := q.checkKeyType(); err != nil {
		return nil, err
	}
	gen, given, err := q.boolean("generate-key")
	if err != nil {
		return nil, err
	}
	if !given {
		gen = generateByDefault
	}
	ak, sk := q.Get("access-key"), q.Get("secret-key")
	if sk == "" {
		sk = q.Get("secret") // radosgw-admin's spelling
	}
	if ak == "" && sk == "" && !gen {
		return nil, nil
	}
	return &account.KeySpec{AccessKey: ak, SecretKey: sk}, nil
}

func (q query) caps() (*[]account.Cap, error) {
	s, ok := q.str("user-caps")
	if !ok {
		return nil, nil
	}
	caps, err := account.ParseCaps(s)
	if err != nil {
		return nil, err
	}
	return &caps, nil
}

// getUser answers a user's document, with stats=true also the storage
// its buckets hold (RGW's user info with stats).
func (a *API) getUser(ctx context.Context, q query) (any, error) {
	var u account.User
	var err error
	if ak := q.Get("access-key"); ak != "" && q.Get("uid") == "" {
		u, err = a.accounts.InfoByAccessKey(ctx, ak)
		if errors.Is(err, account.ErrNoSuchKey) {
			return nil, errNoSuchUser.with(err)
		}
	} else {
		uid, err2 := q.uid()
		if err2 != nil {
			return nil, err2
		}
		u, err = a.accounts.Info(ctx, uid)
	}
	if err != nil {
		return nil, err
	}
	info := userInfo(u)
	stats, _, err := q.boolean("stats")
	if err != nil || !stats {
		return info, err
	}
	usage, err := a.userUsage(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	info.Stats = &usage
	return info, nil
}

// listDoc is the answer of GET /admin/user?list.
type listDoc struct {
	Keys      []string `json:"keys"`
	Truncated bool     `json:"truncated"`
	Count     int      `json:"count"`
}

func (a *API) listUsers(ctx context.Context, q query) (any, error) {
	ids, err := a.userIDs(ctx, q)
	if err != nil {
		return nil, err
	}
	return listDoc{Keys: ids, Count: len(ids)}, nil
}

func (a *API) listMetadata(ctx context.Context, q query) (any, error) {
	return a.userIDs(ctx, q)
}

// userIDs lists every user id, or with tenant=T those of tenant T (""
// for the default tenant's).
func (a *API) userIDs(ctx context.Context, q query) ([]string, error) {
	ids, err := a.accounts.List(ctx)
	if err != nil {
		return nil, err
	}
	if q.Has("tenant") {
		t := q.Get("tenant")
		if err := tenant.Validate(t); err != nil {
			return nil, errInvalidArgument.with(err)
		}
		ids = slices.DeleteFunc(ids, func(id string) bool { return tenant.OfUser(id) != t })
	}
	if ids == nil {
		ids = []string{}
	}
	return ids, nil
}

func (a *API) createUser(ctx context.Context, q query) (any, error) {
	uid, err := q.uid()
	if err != nil {
		return nil, err
	}
	spec := account.CreateSpec{ID: uid, DisplayName: q.Get("display-name"), Email: q.Get("email")}
	if spec.MaxBuckets, err = q.integer("max-buckets"); err != nil {
		return nil, err
	}
	if spec.Suspended, _, err = q.boolean("suspended"); err != nil {
		return nil, err
	}
	if spec.System, _, err = q.boolean("system"); err != nil {
		return nil, err
	}
	if spec.Admin, _, err = q.boolean("admin"); err != nil {
		return nil, err
	}
	caps, err := q.caps()
	if err != nil {
		return nil, err
	}
	if caps != nil {
		spec.Caps = *caps
	}
	// Like RGW, a new user gets a generated key unless generate-key=false.
	if spec.Key, err = q.keySpec(true); err != nil {
		return nil, err
	}
	u, err := a.accounts.Create(ctx, spec)
	if err != nil {
		return nil, err
	}
	return userInfo(u), nil
}

func (a *API) modifyUser(ctx context.Context, q query) (any, error) {
	uid, err := q.uid()
	if err != nil {
		return nil, err
	}
	var m account.Modification
	if s, ok := q.str("display-name"); ok {
		m.DisplayName = &s
	}
	if s, ok := q.str("email"); ok {
		m.Email = &s
	}
	if m.MaxBuckets, err = q.integer("max-buckets"); err != nil {
		return nil, err
	}
	for name, dst := range map[string]**bool{"suspended": &m.Suspended, "system": &m.System, "admin": &m.Admin} {
		v, ok, err := q.boolean(name)
		if err != nil {
			return nil, err
		}
		if ok {
			*dst = &v
		}
	}
	if m.Caps, err = q.caps(); err != nil {
		return nil, err
	}
	if m.Key, err = q.keySpec(false); err != nil {
		return nil, err
	}
	u, err := a.accounts.Modify(ctx, uid, m)
	if err != nil {
		return nil, err
	}
	return userInfo(u), nil
}

// removeUser removes a user and its keys. purge-data is accepted; the
// user's buckets and objects are left in place (owned by a uid that no
// longer exists, reachable by admin tooling).
func (a *API) removeUser(ctx context.Context, q query) (any, error) {
	uid, err := q.uid()
	if err != nil {
		return nil, err
	}
	if _, _, err := q.boolean("purge-data"); err != nil {
		return nil, err
	}
	return nil, a.accounts.Remove(ctx, uid)
}

func (a *API) createKey(ctx context.Context, q query) (any, error) {
	uid, err := q.uid()
	if err != nil {
		return nil, err
	}
	spec, err := q.keySpec(true)
	if err != nil {
		return nil, err
	}
	if spec == nil { // generate-key=false and nothing given
		return nil, errInvalidAccessKey.with(errors.New("no access key given and generate-key is false"))
	}
	u, err := a.accounts.KeyCreate(ctx, uid, *spec)
	if err != nil {
		return nil, err
	}
	return userInfo(u).Keys, nil
}

func (a *API) removeKey(ctx context.Context, q query) (any, error) {
	if err := q.checkKeyType(); err != nil {
		return nil, err
	}
	ak := q.Get("access-key")
	if ak == "" {
		return nil, errInvalidAccessKey.with(errors.New("access-key is required"))
	}
	var uid string
	var err error
	if q.Get("uid") == "" { // RGW finds the user by the key
		var u account.User
		u, err = a.accounts.InfoByAccessKey(ctx, ak)
		uid = u.ID
	} else {
		uid, err = q.uid() // tenant=T&uid=U is T$U, never the default tenant's U
	}
	if err != nil {
		return nil, err
	}
	_, err = a.accounts.KeyRemove(ctx, uid, ak)
	return nil, err
}

func (a *API) addCaps(ctx context.Context, q query) (any, error) {
	return a.changeCaps(ctx, q, func(have []account.Cap, c account.Cap) []account.Cap {
		i := slices.IndexFunc(have, func(h account.Cap) bool { return h.Type == c.Type })
		if i < 0 {
			return append(have, c)
		}
		if have[i].Perm != c.Perm {
			have[i].Perm = "*"
		}
		return have
	})
}

func (a *API) removeCaps(ctx context.Context, q query) (any, error) {
	return a.changeCaps(ctx, q, func(have []account.Cap, c account.Cap) []account.Cap {
		i := slices.IndexFunc(have, func(h account.Cap) bool { return h.Type == c.Type })
		switch {
		case i < 0:
		case c.Perm == "*" || have[i].Perm == c.Perm:
			have = slices.Delete(have, i, i+1)
		case have[i].Perm == "*": // remove one half of read+write
			have[i].Perm = map[string]string{"read": "write", "write": "read"}[c.Perm]
		}
		return have
	})
}

// changeCaps applies fn for each capability in user-caps and returns the
// resulting capabilities, as RGW does.
func (a *API) changeCaps(ctx context.Context, q query, fn func([]account.Cap, account.Cap) []account.Cap) (any, error) {
	uid, err := q.uid()
	if err != nil {
		return nil, err
	}
	caps, err := q.caps()
	if err != nil {
		return nil, err
	}
	if caps == nil {
		return nil, errInvalidCapability.with(errors.New("user-caps is required"))
	}
	u, err := a.accounts.Info(ctx, uid)
	if err != nil {
		return nil, err
	}
	have := slices.Clone(u.Caps)
	for _, c := range *caps {
		have = fn(have, c)
	}
	if u, err = a.accounts.Modify(ctx, uid, account.Modification{Caps: &have}); err != nil {
		return nil, err
	}
	return userInfo(u).Caps, nil
}
