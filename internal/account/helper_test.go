package account_test

import (
	"testing"

	"github.com/cairn-s3/cairn/internal/kv"
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
