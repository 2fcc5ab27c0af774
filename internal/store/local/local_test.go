package local

import (
	"testing"

	"github.com/cairn-s3/cairn/internal/kv"
	"github.com/cairn-s3/cairn/internal/store"
	"github.com/cairn-s3/cairn/internal/store/storetest"
)

func openTest(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Backend { return openTest(t, Options{}) })
}

// TestConformanceAllFiles stores every non-empty body in a data file, so the
// suite covers the file path for small bodies too.
func TestConformanceAllFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	storetest.Run(t, func(t *testing.T) store.Backend { return openTest(t, Options{InlineThreshold: -1}) })
}

func TestHooks(t *testing.T) {
	storetest.RunHooks(t, func(t *testing.T, h store.ChangeHook) (store.Backend, kv.Store) {
		s := openTest(t, Options{Hook: h})
		return s, s.KV()
	})
}

func TestKV(t *testing.T) {
	storetest.RunKV(t, func(t *testing.T) kv.Store {
		s := openTest(t, Options{})
		t.Cleanup(func() { s.Close() })
		return s.KV()
	})
}
