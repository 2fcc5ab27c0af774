package script

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cairn-s3/cairn/internal/kv"
)

// Package is one allowlist entry (radosgw-admin script-package add).
type Package struct {
	Name string `json:"name"`
	// Version is "" for "latest".
	Version string `json:"version,omitempty"`
	// AllowCompilation is --allow-compilation: recorded, meaningless here
	// (Cairn ships its packages built in).
	AllowCompilation bool `json:"allow_compilation,omitempty"`
}

// String is the package as radosgw-admin lists it: "name" or "name version".
func (p Package) String() string {
	if p.Version == "" {
		return p.Name
	}
	return p.Name + " " + p.Version
}

// ErrInvalidPackage is returned for an empty or malformed --package.
var ErrInvalidPackage = errors.New("invalid lua package")

// ParsePackage splits radosgw-admin's --package value: "name" or
// "name version".
func ParsePackage(spec string) (Package, error) {
	f := strings.Fields(spec)
	switch len(f) {
	case 1:
		return Package{Name: f[0]}, nil
	case 2:
		return Package{Name: f[0], Version: f[1]}, nil
	}
	return Package{}, fmt.Errorf("%w: %q: want NAME or 'NAME VERSION'", ErrInvalidPackage, spec)
}

func packageKey(name string) []byte { return []byte(packagePrefix + name) }

// AddPackage allowlists p, replacing any other version of it.
func (s *Store) AddPackage(ctx context.Context, p Package) error {
	if p.Name == "" || strings.ContainsAny(p.Name, " /") {
		return fmt.Errorf("%w: %q", ErrInvalidPackage, p.Name)
	}
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("script: encode package: %w", err)
	}
	var b kv.Batch
	b.Put(packageKey(p.Name), data)
	return s.apply(ctx, &b)
}

// RemovePackage removes p from the allowlist: every version when
// p.Version is "", else only that version. It reports whether anything
// was removed (removing a package that is not listed is not an error).
func (s *Store) RemovePackage(ctx context.Context, p Package) (removed bool, err error) {
	cur, ok, err := s.Package(ctx, p.Name)
	if err != nil || !ok || p.Version != "" && cur.Version != p.Version {
		return false, err
	}
	var b kv.Batch
	b.Delete(packageKey(p.Name))
	return true, s.apply(ctx, &b)
}

// Package returns the allowlist entry of a package name.
func (s *Store) Package(ctx context.Context, name string) (Package, bool, error) {
	data, err := s.kv.Get(ctx, packageKey(name))
	if errors.Is(err, kv.ErrNotFound) {
		return Package{}, false, nil
	}
	if err != nil {
		return Package{}, false, fmt.Errorf("script: read package: %w", err)
	}
	var p Package
	if err := json.Unmarshal(data, &p); err != nil {
		return Package{}, false, fmt.Errorf("script: corrupt package record %q: %w", name, err)
	}
	return p, true, nil
}

// Allowed tells whether `require(name)` may load the package name.
func (s *Store) Allowed(ctx context.Context, name string) (bool, error) {
	_, ok, err := s.Package(ctx, name)
	return ok, err
}

// Packages returns the allowlist in name order.
func (s *Store) Packages(ctx context.Context) ([]Package, error) {
	var out []Package
	for kvp, err := range s.kv.Scan(ctx, []byte(packagePrefix), nil) {
		if err != nil {
			return nil, fmt.Errorf("script: list packages: %w", err)
		}
		var p Package
		if err := json.Unmarshal(kvp.Value, &p); err != nil {
			return nil, fmt.Errorf("script: corrupt package record %q: %w", kvp.Key, err)
		}
		out = append(out, p)
	}
	return out, nil
}
