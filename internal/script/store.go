// Package script stores the Lua scripts and the package allowlist of RGW's
// Lua scripting (spec lua.md §2, §3) on the metadata kv store, so every
// gateway sharing the store sees the same scripts. A Generation counter
// moves on every change: the engine caches compiled chunks and re-reads
// them when it moves.
package script

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cairn-s3/cairn/internal/kv"
)

// The contexts (RGW's --context values, lower-case).
const (
	PreRequest  = "prerequest"
	PostRequest = "postrequest"
	PostAuth    = "postauth"
	Background  = "background"
	GetData     = "getdata"
	PutData     = "putdata"
)

// contexts lists the contexts in RGW's order (its LUA_CONTEXT_LIST).
var contexts = []string{PreRequest, PostAuth, PostRequest, Background, GetData, PutData}

// ContextList is the list radosgw-admin prints for an invalid context.
const ContextList = "prerequest, postauth, postrequest, background, getdata, putdata"

// Errors of the validation of a script's address.
var (
	ErrInvalidContext = errors.New("invalid script context")
	// ErrBackgroundTenant: background scripts are global (RGW refuses a tenant).
	ErrBackgroundTenant = errors.New("cannot specify tenant in background context")
	// ErrNamedDataScript: getdata and putdata allow one script only.
	ErrNamedDataScript = errors.New("named scripts are not allowed in getdata and putdata contexts")
)

// Key layout: every key of this package begins with "lua/":
//
//	lua/script/<context>/<tenant>/<name>   the source (name "" for the unnamed script)
//	lua/package/<name>                     an allowlisted package (JSON)
//	lua/generation                         the change counter (decimal)
//
// tenant and name are path-escaped so that neither can reach into another's keys.
const (
	scriptPrefix  = "lua/script/"
	packagePrefix = "lua/package/"
	generationKey = "lua/generation"
)

// Store keeps scripts and the package allowlist on a kv.Store.
type Store struct {
	kv  kv.Store
	now func() time.Time
	// mu serializes this gateway's read-modify-write of the generation.
	mu sync.Mutex
}

// Options tune a Store; the zero value is right outside tests.
type Options struct {
	// Now is the clock the generation is seeded from (time.Now if nil).
	Now func() time.Time
}

// New returns the script store over s.
func New(s kv.Store, opts Options) *Store {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{kv: s, now: opts.Now}
}

// NormalizeContext returns the lower-case context for a case-insensitive
// name ("preRequest"), or ErrInvalidContext.
func NormalizeContext(name string) (string, error) {
	c := strings.ToLower(name)
	if !slices.Contains(contexts, c) {
		return "", fmt.Errorf("%w: %s. must be one of: %s", ErrInvalidContext, name, ContextList)
	}
	return c, nil
}

// address validates a script's (context, tenant, name) and returns the
// normalized context.
func address(context, tenant, name string) (string, error) {
	c, err := NormalizeContext(context)
	if err != nil {
		return "", err
	}
	if c == Background && tenant != "" {
		return "", ErrBackgroundTenant
	}
	if name != "" && (c == GetData || c == PutData) {
		return "", ErrNamedDataScript
	}
	return c, nil
}

func scriptDir(context, tenant string) string {
	return scriptPrefix + context + "/" + url.PathEscape(tenant) + "/"
}

func scriptKey(context, tenant, name string) []byte {
	return []byte(scriptDir(context, tenant) + url.PathEscape(name))
}

// Put stores (or replaces) the script of (context, tenant, name); name is
// "" for the unnamed script. The caller has compiled it.
func (s *Store) Put(ctx context.Context, context, tenant, name, source string) error {
	c, err := address(context, tenant, name)
	if err != nil {
		return err
	}
	var b kv.Batch
	b.Put(scriptKey(c, tenant, name), []byte(source))
	return s.apply(ctx, &b)
}

// Get returns the unnamed script of (context, tenant); ok is false when
// there is none.
func (s *Store) Get(ctx context.Context, context, tenant string) (source string, ok bool, err error) {
	return s.GetNamed(ctx, context, tenant, "")
}

// GetNamed returns the script of (context, tenant, name).
func (s *Store) GetNamed(ctx context.Context, context, tenant, name string) (source string, ok bool, err error) {
	c, err := address(context, tenant, name)
	if err != nil {
		return "", false, err
	}
	data, err := s.kv.Get(ctx, scriptKey(c, tenant, name))
	if errors.Is(err, kv.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("script: read: %w", err)
	}
	return string(data), true, nil
}

// Remove deletes the script of (context, tenant, name); removing a missing
// script is not an error.
func (s *Store) Remove(ctx context.Context, context, tenant, name string) error {
	c, err := address(context, tenant, name)
	if err != nil {
		return err
	}
	var b kv.Batch
	b.Delete(scriptKey(c, tenant, name))
	return s.apply(ctx, &b)
}

// Script is one stored script.
type Script struct {
	Name   string // "" for the unnamed script
	Source string
}

// List returns the scripts of (context, tenant) in name order, the unnamed
// one first: the order RGW runs named scripts in.
func (s *Store) List(ctx context.Context, context, tenant string) ([]Script, error) {
	c, err := address(context, tenant, "")
	if err != nil {
		return nil, err
	}
	var out []Script
	dir := scriptDir(c, tenant)
	for p, err := range s.kv.Scan(ctx, []byte(dir), nil) {
		if err != nil {
			return nil, fmt.Errorf("script: list: %w", err)
		}
		name, err := url.PathUnescape(strings.TrimPrefix(string(p.Key), dir))
		if err != nil {
			return nil, fmt.Errorf("script: corrupt key %q: %w", p.Key, err)
		}
		out = append(out, Script{Name: name, Source: string(p.Value)})
	}
	slices.SortFunc(out, func(a, b Script) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
