package local

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

var errDirectUnsupported = errors.New("direct I/O not supported")

// CreateDirect opens name with O_DIRECT. Filesystems without direct I/O
// (tmpfs on older kernels, some FUSE and network filesystems) refuse the
// open with EINVAL, after creating the file, which is removed again.
func (osFS) CreateDirect(name string, buffers *directBuffers) (File, error) {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_DIRECT, 0o644)
	if errors.Is(err, syscall.EINVAL) {
		_ = os.Remove(name)
		return nil, errDirectUnsupported
	}
	if err != nil {
		return nil, err
	}
	return &directFile{f: f, buffers: buffers, bufp: buffers.get()}, nil
}

// directFile buffers writes into an aligned buffer and writes it whenever it
// is full, so that every direct write is aligned in memory, offset and
// length. The unaligned tail is written through the page cache (O_DIRECT is
// cleared first), by Sync, which every data file gets before it is used.
type directFile struct {
	f       *os.File
	buffers *directBuffers
	bufp    *[]byte
	n       int // bytes buffered
	err     error
}

func (d *directFile) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	buf := *d.bufp
	written := 0
	for len(p) > 0 {
		m := copy(buf[d.n:], p)
		d.n += m
		p = p[m:]
		written += m
		if d.n == len(buf) {
			if err := d.writeFull(buf); err != nil {
				d.err = err
				return written, err
			}
			d.n = 0
		}
	}
	return written, nil
}

// writeFull writes a full, aligned buffer. A filesystem that accepted the
// open but refuses the aligned write (a device with larger sectors) gets
// the rest of the file, and every later file, through the page cache.
func (d *directFile) writeFull(buf []byte) error {
	_, err := d.f.Write(buf)
	if errors.Is(err, syscall.EINVAL) && !d.buffers.unsupported.Load() {
		d.buffers.unsupported.Store(true)
		if err := d.clearDirect(); err != nil {
			return err
		}
		_, err = d.f.Write(buf)
	}
	return err
}

// clearDirect turns O_DIRECT off, for the tail and after a refused write.
func (d *directFile) clearDirect() error {
	rc, err := d.f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) {
		flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_GETFL, 0)
		if e != 0 {
			ferr = e
			return
		}
		if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, fd, syscall.F_SETFL, flags&^syscall.O_DIRECT); e != 0 {
			ferr = e
		}
	}); err != nil {
		return err
	}
	if ferr != nil {
		return fmt.Errorf("clear O_DIRECT on %s: %w", d.f.Name(), ferr)
	}
	return nil
}

// Sync writes the buffered tail and makes the file durable.
func (d *directFile) Sync() error {
	if d.err != nil {
		return d.err
	}
	if d.n > 0 {
		if err := d.clearDirect(); err != nil {
			d.err = err
			return err
		}
		if _, err := d.f.Write((*d.bufp)[:d.n]); err != nil {
			d.err = err
			return err
		}
		d.n = 0
	}
	return d.f.Sync()
}

func (d *directFile) ReadAt(p []byte, off int64) (int, error) { return d.f.ReadAt(p, off) }

// Close releases the buffer; bytes not yet synced are dropped, as only a
// file that failed is closed unsynced (and then removed).
func (d *directFile) Close() error {
	if d.bufp != nil {
		d.buffers.put(d.bufp)
		d.bufp = nil
	}
	return d.f.Close()
}
