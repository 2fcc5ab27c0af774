package s3api

import (
	"fmt"
	"net/http"
	"os"
	"syscall"
	"testing"

	"github.com/cairn-s3/cairn/internal/store"
)

// TestStorageFullErrors checks that a full disk, whether the store's reserve
// refused the write or a write met ENOSPC or a quota, answers 507
// XMinioStorageFull, which SDKs do not retry, rather than a 500.
func TestStorageFullErrors(t *testing.T) {
	for _, err := range []error{
		store.ErrStorageFull,
		fmt.Errorf("local: write: %w", &os.PathError{Op: "write", Path: "tmp/1", Err: syscall.ENOSPC}),
		fmt.Errorf("local: sync: %w", &os.PathError{Op: "sync", Path: "tmp/1", Err: syscall.EDQUOT}),
	} {
		e := toS3(err)
		if e.Code != "XMinioStorageFull" || e.Status != http.StatusInsufficientStorage {
			t.Errorf("toS3(%v) = %s %d, want XMinioStorageFull 507", err, e.Code, e.Status)
		}
	}
}
