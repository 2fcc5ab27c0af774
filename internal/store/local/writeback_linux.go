package local

import "syscall"

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE, which package syscall
// does not name.
const syncFileRangeWrite = 2

// startWriteback asks the kernel to start writing n bytes at off of f to
// the disk without waiting for it (sync_file_range with only
// SYNC_FILE_RANGE_WRITE: no durability promise, which the fsync keeps).
// Files that are not OS files (test filesystems) are left alone, and an
// error only means the fsync does all the work.
func startWriteback(f File, off, n int64) {
	sc, ok := f.(syscall.Conn)
	if !ok {
		return
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = syscall.SyncFileRange(int(fd), off, n, syncFileRangeWrite)
	})
}
