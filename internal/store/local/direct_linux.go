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
	return &directFile{f: f, buffers: buffers, bufs: [2]*[]byte{buffers.get()}}, nil
}

// directFile buffers writes into aligned buffers and writes each one when
// it is full, so that every direct write is aligned in memory, offset and
// length. A full buffer is written on its own goroutine while the next one
// fills: a direct write waits for the device, and without the overlap the
// request stops reading its body for that long (8 streams of 16 MiB: the
// device sat idle between one stream's writes). At most one write is in
// flight per file, so the file's bytes reach the disk in order and a write
// holds at most two buffers. The unaligned tail is written through the page
// cache (O_DIRECT is cleared first), by Sync, which every data file gets
// before it is used.
type directFile struct {
	f       *os.File
	buffers *directBuffers
	bufs    [2]*[]byte
	cur     int        // index of the buffer being filled
	n       int        // bytes buffered in it
	written chan error // the in-flight write's result; nil if none
	err     error
}

func (d *directFile) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	written := 0
	for len(p) > 0 {
		buf := *d.bufs[d.cur]
		m := copy(buf[d.n:], p)
		d.n += m
		p = p[m:]
		written += m
		if d.n == len(buf) {
			if err := d.submit(buf); err != nil {
				d.err = err
				return written, err
			}
		}
	}
	return written, nil
}

// submit starts the write of a full buffer, after the previous one
// finished, and switches to the other buffer.
func (d *directFile) submit(buf []byte) error {
	if err := d.wait(); err != nil {
		return err
	}
	d.written = make(chan error, 1)
	go func(done chan<- error) { done <- d.writeFull(buf) }(d.written)
	d.cur ^= 1
	if d.bufs[d.cur] == nil {
		d.bufs[d.cur] = d.buffers.get()
	}
	d.n = 0
	return nil
}

// wait returns the result of the write in flight, if any, once it is done.
func (d *directFile) wait() error {
	if d.written == nil {
		return nil
	}
	err := <-d.written
	d.written = nil
	return err
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
	if err := d.wait(); err != nil {
		d.err = err
		return err
	}
	if d.n > 0 {
		if err := d.clearDirect(); err != nil {
			d.err = err
			return err
		}
		if _, err := d.f.Write((*d.bufs[d.cur])[:d.n]); err != nil {
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
	werr := d.wait() // the buffer must not be reused while the kernel reads it
	for i, b := range d.bufs {
		if b != nil {
			d.buffers.put(b)
			d.bufs[i] = nil
		}
	}
	if err := d.f.Close(); err != nil {
		return err
	}
	if d.err == nil && werr != nil {
		return werr
	}
	return nil
}
