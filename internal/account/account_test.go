package account_test

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"testing"

	"github.com/cairn-s3/cairn/internal/account"
	"github.com/cairn-s3/cairn/internal/auth"
	"github.com/cairn-s3/cairn/internal/store/local"
)

func newService(t *testing.T) *account.Service {
	t.Helper()
	return account.New(newKV(t), account.Options{})
}

var (
	accessKeyRE = regexp.MustCompile(`^[A-Z0-9]{20}$`)
	secretKeyRE = regexp.MustCompile(`^[A-Za-z0-9]{40}$`)
)

func TestCreateGeneratesKeys(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	u, err := s.Create(ctx, account.CreateSpec{ID: "alice", DisplayName: "Alice", Key: &account.KeySpec{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Keys) != 1 {
		t.Fatalf("got %d keys, want 1", len(u.Keys))
	}
	k := u.Keys[0]
	if !accessKeyRE.MatchString(k.AccessKey) || !secretKeyRE.MatchString(k.SecretKey) {
		t.Errorf("generated key %q/%q not in radosgw-admin format", k.AccessKey, k.SecretKey)
	}
	if u.MaxBuckets != account.DefaultMaxBuckets {
		t.Errorf("max buckets: got %d, want %d", u.MaxBuckets, account.DefaultMaxBuckets)
	}
	uid, secret, err := s.Lookup(ctx, k.AccessKey)
	if err != nil || uid != "alice" || secret != k.SecretKey {
		t.Errorf("Lookup = %q, %q, %v; want alice, %q, nil", uid, secret, err, k.SecretKey)
	}
	got, err := s.Info(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if got.DisplayName != "Alice" || len(got.Keys) != 1 || got.Created.IsZero() {
		t.Errorf("Info = %+v", got)
	}
}

func TestCreateErrors(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	if _, err := s.Create(ctx, account.CreateSpec{ID: "bob", DisplayName: "Bob", Email: "bob@example.com",
		Key: &account.KeySpec{AccessKey: "BOBKEY", SecretKey: "bobsecret"}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		spec account.CreateSpec
		want error
	}{
		{"existing uid", account.CreateSpec{ID: "bob", DisplayName: "x"}, account.ErrUserExists},
		{"taken access key", account.CreateSpec{ID: "carol", DisplayName: "x", Key: &account.KeySpec{AccessKey: "BOBKEY"}}, account.ErrKeyExists},
		{"taken email", account.CreateSpec{ID: "carol", DisplayName: "x", Email: "BOB@example.com"}, account.ErrEmailExists},
		{"empty uid", account.CreateSpec{DisplayName: "x"}, account.ErrInvalidUserID},
		{"empty tenant", account.CreateSpec{ID: "$u", DisplayName: "x"}, account.ErrInvalidUserID},
		{"bad tenant", account.CreateSpec{ID: "t-1$u", DisplayName: "x"}, account.ErrInvalidUserID},
		{"two tenants", account.CreateSpec{ID: "t$u$v", DisplayName: "x"}, account.ErrInvalidUserID},
		{"empty uid in tenant", account.CreateSpec{ID: "t$", DisplayName: "x"}, account.ErrInvalidUserID},
		{"space in uid", account.CreateSpec{ID: "a b", DisplayName: "x"}, account.ErrInvalidUserID},
		{"no display name", account.CreateSpec{ID: "carol"}, account.ErrInvalidRequest},
		{"bad access key", account.CreateSpec{ID: "carol", DisplayName: "x", Key: &account.KeySpec{AccessKey: "a b"}}, account.ErrInvalidKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Create(ctx, tt.spec); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	// Nothing half-created by the failures.
	ids, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{"bob"}) {
		t.Errorf("List = %v, want [bob]", ids)
	}
}

func TestKeysAndRemove(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	if _, err := s.Create(ctx, account.CreateSpec{ID: "u1", DisplayName: "U1", Key: &account.KeySpec{AccessKey: "K1", SecretKey: "s1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, account.CreateSpec{ID: "u2", DisplayName: "U2"}); err != nil {
		t.Fatal(err)
	}
	// Warm the cache, then check writes invalidate it.
	if _, _, err := s.Lookup(ctx, "K1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.KeyCreate(ctx, "u2", account.KeySpec{AccessKey: "K1"}); !errors.Is(err, account.ErrKeyExists) {
		t.Errorf("KeyCreate of another user's key: got %v, want ErrKeyExists", err)
	}
	u, err := s.KeyCreate(ctx, "u1", account.KeySpec{AccessKey: "K1", SecretKey: "s1-new"})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Keys) != 1 || u.Keys[0].SecretKey != "s1-new" {
		t.Errorf("re-creating a key should replace its secret: %+v", u.Keys)
	}
	if _, sk, _ := s.Lookup(ctx, "K1"); sk != "s1-new" {
		t.Errorf("Lookup after secret change: got %q, want s1-new", sk)
	}
	u, err = s.KeyCreate(ctx, "u1", account.KeySpec{})
	if err != nil {
		t.Fatal(err)
	}
	if len(u.Keys) != 2 {
		t.Fatalf("got %d keys, want 2", len(u.Keys))
	}
	k2 := u.Keys[1].AccessKey
	if got, err := s.InfoByAccessKey(ctx, k2); err != nil || got.ID != "u1" {
		t.Errorf("InfoByAccessKey = %v, %v", got.ID, err)
	}

	if _, err := s.KeyRemove(ctx, "u2", "K1"); !errors.Is(err, account.ErrNoSuchKey) {
		t.Errorf("KeyRemove of another user's key: got %v, want ErrNoSuchKey", err)
	}
	if _, err := s.KeyRemove(ctx, "u1", "K1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Lookup(ctx, "K1"); !errors.Is(err, auth.ErrUnknownAccessKey) {
		t.Errorf("Lookup of removed key: got %v, want ErrUnknownAccessKey", err)
	}

	if err := s.Remove(ctx, "u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Info(ctx, "u1"); !errors.Is(err, account.ErrNoSuchUser) {
		t.Errorf("Info after Remove: got %v", err)
	}
	if _, _, err := s.Lookup(ctx, k2); !errors.Is(err, auth.ErrUnknownAccessKey) {
		t.Errorf("Lookup of removed user's key: got %v", err)
	}
	if err := s.Remove(ctx, "u1"); !errors.Is(err, account.ErrNoSuchUser) {
		t.Errorf("second Remove: got %v", err)
	}
	// The key is free for someone else now.
	if _, err := s.KeyCreate(ctx, "u2", account.KeySpec{AccessKey: "K1"}); err != nil {
		t.Errorf("reusing a removed key: %v", err)
	}
}

func TestSuspendAndModify(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	if _, err := s.Create(ctx, account.CreateSpec{ID: "u", DisplayName: "U", Key: &account.KeySpec{AccessKey: "AK", SecretKey: "SK"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Lookup(ctx, "AK"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Suspend(ctx, "u", true); err != nil {
		t.Fatal(err)
	}
	_, _, err := s.Lookup(ctx, "AK")
	if !errors.Is(err, account.ErrSuspended) || !errors.Is(err, auth.ErrUnknownAccessKey) {
		t.Errorf("Lookup of suspended user: got %v, want ErrSuspended and ErrUnknownAccessKey", err)
	}
	if _, err := s.Suspend(ctx, "u", false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Lookup(ctx, "AK"); err != nil {
		t.Errorf("Lookup after unsuspend: %v", err)
	}

	name, mb := "New Name", 5
	caps, err := account.ParseCaps("users=read,write; buckets=read")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Modify(ctx, "u", account.Modification{DisplayName: &name, MaxBuckets: &mb, Caps: &caps})
	if err != nil {
		t.Fatal(err)
	}
	if u.DisplayName != name || u.MaxBuckets != 5 || !u.HasCap("users", "write") || !u.HasCap("buckets", "read") || u.HasCap("buckets", "write") {
		t.Errorf("Modify = %+v", u)
	}
	if _, err := s.Modify(ctx, "nobody", account.Modification{DisplayName: &name}); !errors.Is(err, account.ErrNoSuchUser) {
		t.Errorf("Modify of unknown user: got %v", err)
	}
}

func TestParseCaps(t *testing.T) {
	tests := []struct {
		in   string
		want []account.Cap
		err  bool
	}{
		{"", nil, false},
		{"users=*", []account.Cap{{"users", "*"}}, false},
		{"usage=read;users=write", []account.Cap{{"usage", "read"}, {"users", "write"}}, false},
		{"users=read,write", []account.Cap{{"users", "*"}}, false},
		{"users", nil, true},
		{"users=all", nil, true},
	}
	for _, tt := range tests {
		got, err := account.ParseCaps(tt.in)
		if (err != nil) != tt.err || !slices.Equal(got, tt.want) {
			t.Errorf("ParseCaps(%q) = %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestUnknownKey(t *testing.T) {
	s := newService(t)
	if _, _, err := s.Lookup(context.Background(), "NOPE"); !errors.Is(err, auth.ErrUnknownAccessKey) {
		t.Errorf("got %v, want ErrUnknownAccessKey", err)
	}
}

func TestPersistsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := local.Open(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := account.New(st.KV(), account.Options{})
	if _, err := s.Create(ctx, account.CreateSpec{ID: "p", DisplayName: "P", Key: &account.KeySpec{AccessKey: "PK", SecretKey: "PS"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = local.Open(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	uid, sk, err := account.New(st.KV(), account.Options{}).Lookup(ctx, "PK")
	if err != nil || uid != "p" || sk != "PS" {
		t.Errorf("after reopen: Lookup = %q, %q, %v", uid, sk, err)
	}
}

// A tenant is a namespace of uids: the same uid lives in the default tenant
// and in tenant t1 as two users with their own keys.
func TestTenantUsers(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	for _, id := range []string{"bob", "t1$bob"} {
		if _, err := s.Create(ctx, account.CreateSpec{ID: id, DisplayName: id, Key: &account.KeySpec{AccessKey: "AK-" + id, SecretKey: "sk"}}); err != nil {
			t.Fatalf("Create(%q): %v", id, err)
		}
	}
	for _, id := range []string{"bob", "t1$bob"} {
		uid, _, err := s.Lookup(ctx, "AK-"+id)
		if err != nil || uid != id {
			t.Errorf("Lookup(AK-%s) = %q, %v", id, uid, err)
		}
		if u, err := s.Info(ctx, id); err != nil || u.ID != id {
			t.Errorf("Info(%q) = %+v, %v", id, u, err)
		}
	}
}
