package script_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/script"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// newKV returns the KV of a real local store in a temporary directory.
func newKV(t *testing.T) kv.Store {
	t.Helper()
	st, err := local.Open(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return st.KV()
}

func mustGet(t *testing.T, s *script.Store, c, tenant string) (string, bool) {
	t.Helper()
	src, ok, err := s.Get(context.Background(), c, tenant)
	if err != nil {
		t.Fatalf("get %s/%s: %v", c, tenant, err)
	}
	return src, ok
}

func TestScriptsPerContextAndTenant(t *testing.T) {
	ctx := context.Background()
	s := script.New(newKV(t), script.Options{})
	if _, ok := mustGet(t, s, "prerequest", ""); ok {
		t.Fatal("script before any put")
	}
	for _, p := range []struct{ c, tenant, src string }{
		{"preRequest", "", "-- global"},
		{"PREREQUEST", "t1", "-- t1"},
		{"postRequest", "", "-- post"},
		{"background", "", "-- bg"},
	} {
		if err := s.Put(ctx, p.c, p.tenant, "", p.src); err != nil {
			t.Fatalf("put %+v: %v", p, err)
		}
	}
	for _, want := range []struct{ c, tenant, src string }{
		{"prerequest", "", "-- global"},
		{"PreRequest", "t1", "-- t1"},
		{"postrequest", "", "-- post"},
		{"Background", "", "-- bg"},
	} {
		if src, ok := mustGet(t, s, want.c, want.tenant); !ok || src != want.src {
			t.Errorf("get %s/%s = %q, %v; want %q", want.c, want.tenant, src, ok, want.src)
		}
	}
	// No inheritance between tenants and the global script.
	if _, ok := mustGet(t, s, "prerequest", "t2"); ok {
		t.Error("tenant t2 sees another tenant's script")
	}
	if _, ok := mustGet(t, s, "postrequest", "t1"); ok {
		t.Error("tenant t1 inherits the global postrequest script")
	}
	// Replace, then remove (twice: removing a missing script succeeds).
	if err := s.Put(ctx, "prerequest", "t1", "", "-- t1 v2"); err != nil {
		t.Fatal(err)
	}
	if src, _ := mustGet(t, s, "prerequest", "t1"); src != "-- t1 v2" {
		t.Errorf("after replace: %q", src)
	}
	for range 2 {
		if err := s.Remove(ctx, "PreRequest", "t1", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := mustGet(t, s, "prerequest", "t1"); ok {
		t.Error("removed script still there")
	}
	if src, _ := mustGet(t, s, "prerequest", ""); src != "-- global" {
		t.Errorf("removing t1's script touched the global one: %q", src)
	}
}

func TestScriptAddressRules(t *testing.T) {
	ctx := context.Background()
	s := script.New(newKV(t), script.Options{})
	for _, tc := range []struct {
		c, tenant, name string
		want            error
	}{
		{"nope", "", "", script.ErrInvalidContext},
		{"", "", "", script.ErrInvalidContext},
		{"background", "t1", "", script.ErrBackgroundTenant},
		{"getdata", "", "n", script.ErrNamedDataScript},
		{"putData", "t", "n", script.ErrNamedDataScript},
	} {
		if err := s.Put(ctx, tc.c, tc.tenant, tc.name, "x"); !errors.Is(err, tc.want) {
			t.Errorf("put %+v: %v, want %v", tc, err, tc.want)
		}
		if _, _, err := s.GetNamed(ctx, tc.c, tc.tenant, tc.name); !errors.Is(err, tc.want) {
			t.Errorf("get %+v: %v, want %v", tc, err, tc.want)
		}
	}
	if g, _ := s.Generation(ctx); g != 0 {
		t.Errorf("refused puts moved the generation to %d", g)
	}
}

func TestNamedScriptsListedInNameOrder(t *testing.T) {
	ctx := context.Background()
	s := script.New(newKV(t), script.Options{})
	for _, n := range []string{"b", "a/x", "", "c d"} {
		if err := s.Put(ctx, "postrequest", "t", n, "-- "+n); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Put(ctx, "postrequest", "", "z", "-- other tenant"); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, "PostRequest", "t")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sc := range list {
		names = append(names, sc.Name)
		if sc.Source != "-- "+sc.Name {
			t.Errorf("%q: source %q", sc.Name, sc.Source)
		}
	}
	if want := []string{"", "a/x", "b", "c d"}; !slices.Equal(names, want) {
		t.Errorf("names %q, want %q", names, want)
	}
	if src, ok, _ := s.GetNamed(ctx, "postrequest", "t", "a/x"); !ok || src != "-- a/x" {
		t.Errorf("named get: %q %v", src, ok)
	}
}

// TestGenerationMovesOnEveryChange: the engine re-reads scripts when the
// generation moves, so every change must move it, also on a second store
// over the same kv (another gateway).
func TestGenerationMovesOnEveryChange(t *testing.T) {
	ctx := context.Background()
	k := newKV(t)
	a, b := script.New(k, script.Options{}), script.New(k, script.Options{})
	seen := map[uint64]bool{0: true}
	step := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		g, err := b.Generation(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if seen[g] {
			t.Fatalf("%s: generation %d did not move", what, g)
		}
		seen[g] = true
	}
	step("put", a.Put(ctx, "prerequest", "", "", "x"))
	step("put again", a.Put(ctx, "prerequest", "", "", "x"))
	step("rm", a.Remove(ctx, "prerequest", "", ""))
	step("rm missing", a.Remove(ctx, "prerequest", "", ""))
	step("package add", a.AddPackage(ctx, script.Package{Name: "lunajson"}))
	_, err := a.RemovePackage(ctx, script.Package{Name: "lunajson"})
	step("package rm", err)
	step("reload", a.Reload(ctx))
}

func TestPackageAllowlist(t *testing.T) {
	ctx := context.Background()
	s := script.New(newKV(t), script.Options{})
	add := func(spec string, compile bool) {
		t.Helper()
		p, err := script.ParsePackage(spec)
		if err != nil {
			t.Fatal(err)
		}
		p.AllowCompilation = compile
		if err := s.AddPackage(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	list := func() []string {
		t.Helper()
		ps, err := s.Packages(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range ps {
			out = append(out, p.String())
		}
		return out
	}
	add("nats", true)
	add("lunajson", false)
	add("lua-cjson 2.1.0-1", false)
	if got, want := list(), []string{"lua-cjson 2.1.0-1", "lunajson", "nats"}; !slices.Equal(got, want) {
		t.Fatalf("list %q, want %q", got, want)
	}
	// A version replaces any other version.
	add("lunajson 1.2.3-1", false)
	if got := list(); !slices.Contains(got, "lunajson 1.2.3-1") || slices.Contains(got, "lunajson") {
		t.Errorf("after versioned add: %q", got)
	}
	// Removing another version keeps it; without version removes it.
	rm := func(spec string, want bool) {
		t.Helper()
		p, _ := script.ParsePackage(spec)
		removed, err := s.RemovePackage(ctx, p)
		if err != nil || removed != want {
			t.Fatalf("rm %q: removed %v, %v; want %v", spec, removed, err, want)
		}
	}
	rm("lunajson 9.9", false)
	if ok, _ := s.Allowed(ctx, "lunajson"); !ok {
		t.Error("removing another version removed the package")
	}
	rm("lunajson", true)
	rm("never-added", false)
	if ok, _ := s.Allowed(ctx, "lunajson"); ok {
		t.Error("lunajson still allowed")
	}
	if ok, _ := s.Allowed(ctx, "nats"); !ok {
		t.Error("nats not allowed")
	}
	for _, bad := range []string{"", "  ", "a b c"} {
		if _, err := script.ParsePackage(bad); !errors.Is(err, script.ErrInvalidPackage) {
			t.Errorf("parse %q: %v", bad, err)
		}
	}
}
