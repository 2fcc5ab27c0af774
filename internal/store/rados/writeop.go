//go:build rados

package rados

/*
#cgo LDFLAGS: -lrados
#include <errno.h>
#include <stdlib.h>
#include <rados/librados.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"github.com/ceph/go-ceph/rados"
)

// errConflict means a guard of a write operation failed (an omap comparison,
// an exclusive create, a version assertion): the caller retries from its reads.
var errConflict = errors.New("rados: guard failed, state changed concurrently")

// writeOp is a librados write operation built step by step. It exists
// because go-ceph's WriteOp lacks rados_write_op_omap_cmp; every C buffer a
// step references lives until release, as librados reads them at operate.
type writeOp struct {
	op    C.rados_write_op_t
	cmem  []unsafe.Pointer
	steps int
	flags C.int // operate's flags: fullTry, or fullForce once freesSpace
}

// On a full pool (its quota) or cluster, librados pauses writes until
// space returns, which a request would wait out to its timeout. With
// FULL_TRY the OSD answers EDQUOT or ENOSPC at once (the S3 layer's 507);
// FULL_FORCE lets through the operations that free space.
const (
	fullTry   = C.LIBRADOS_OPERATION_FULL_TRY
	fullForce = C.LIBRADOS_OPERATION_FULL_FORCE
)

func newWriteOp() *writeOp { return &writeOp{op: C.rados_create_write_op(), flags: fullTry} }

// freesSpace marks an operation that removes data (a delete, a delete
// marker, a garbage row), so that it also runs on a full pool or cluster:
// deleting is how users get out of a full cluster.
func (w *writeOp) freesSpace() { w.flags = fullForce }

// release frees the operation and every buffer its steps referenced.
func (w *writeOp) release() {
	if w.op != nil {
		C.rados_release_write_op(w.op)
		w.op = nil
	}
	for _, p := range w.cmem {
		C.free(p)
	}
	w.cmem = nil
}

// cbytes copies b into C memory owned by w (never a NULL pointer).
func (w *writeOp) cbytes(b []byte) (*C.char, C.size_t) {
	p := C.malloc(C.size_t(len(b) + 1))
	if len(b) > 0 {
		copy(unsafe.Slice((*byte)(p), len(b)), b)
	}
	w.cmem = append(w.cmem, p)
	return (*C.char)(p), C.size_t(len(b))
}

func (w *writeOp) calloc(n, size int) unsafe.Pointer {
	p := C.calloc(C.size_t(max(n, 1)), C.size_t(size))
	w.cmem = append(w.cmem, p)
	return p
}

// create creates the object, failing the operation if it exists when
// exclusive.
func (w *writeOp) create(exclusive bool) {
	flag := C.int(C.LIBRADOS_CREATE_IDEMPOTENT)
	if exclusive {
		flag = C.LIBRADOS_CREATE_EXCLUSIVE
	}
	C.rados_write_op_create(w.op, flag, nil)
	w.steps++
}

// write writes b at offset off of the object (b is copied).
func (w *writeOp) write(b []byte, off int64) {
	p, n := w.cbytes(b)
	C.rados_write_op_write(w.op, p, n, C.uint64_t(off))
	w.steps++
}

func (w *writeOp) remove() {
	C.rados_write_op_remove(w.op)
	w.steps++
}

func (w *writeOp) assertExists() {
	C.rados_write_op_assert_exists(w.op)
	w.steps++
}

// omapEqual guards the operation: the omap row key must hold exactly val
// (a missing row compares as an empty value).
func (w *writeOp) omapEqual(key string, val []byte) {
	k, kl := w.cbytes([]byte(key))
	v, vl := w.cbytes(val)
	prval := (*C.int)(w.calloc(1, C.sizeof_int))
	C.rados_write_op_omap_cmp2(w.op, k, C.LIBRADOS_CMPXATTR_OP_EQ, v, kl, vl, prval)
	w.steps++
}

// omapSet sets rows; values must not be empty (see omapEqual).
func (w *writeOp) omapSet(rows map[string][]byte) {
	if len(rows) == 0 {
		return
	}
	n := len(rows)
	keys := unsafe.Slice((**C.char)(w.calloc(n, int(unsafe.Sizeof((*C.char)(nil))))), n)
	vals := unsafe.Slice((**C.char)(w.calloc(n, int(unsafe.Sizeof((*C.char)(nil))))), n)
	klens := unsafe.Slice((*C.size_t)(w.calloc(n, C.sizeof_size_t)), n)
	vlens := unsafe.Slice((*C.size_t)(w.calloc(n, C.sizeof_size_t)), n)
	i := 0
	for k, v := range rows {
		keys[i], klens[i] = w.cbytes([]byte(k))
		vals[i], vlens[i] = w.cbytes(v)
		i++
	}
	C.rados_write_op_omap_set2(w.op, &keys[0], &vals[0], &klens[0], &vlens[0], C.size_t(n))
	w.steps++
}

func (w *writeOp) omapRm(keys []string) {
	if len(keys) == 0 {
		return
	}
	n := len(keys)
	ks := unsafe.Slice((**C.char)(w.calloc(n, int(unsafe.Sizeof((*C.char)(nil))))), n)
	kl := unsafe.Slice((*C.size_t)(w.calloc(n, C.sizeof_size_t)), n)
	for i, k := range keys {
		ks[i], kl[i] = w.cbytes([]byte(k))
	}
	C.rados_write_op_omap_rm_keys2(w.op, &ks[0], &kl[0], C.size_t(n))
	w.steps++
}

// operate runs the operation on oid atomically. A failed guard returns
// errConflict, a missing object rados.ErrNotFound.
func (w *writeOp) operate(io *rados.IOContext, oid string) error {
	if w.steps == 0 {
		return nil
	}
	coid := C.CString(oid)
	defer C.free(unsafe.Pointer(coid))
	ret := C.rados_write_op_operate2(w.op, C.rados_ioctx_t(io.Pointer()), coid, nil, w.flags)
	return opError(int(ret), oid)
}

func opError(ret int, oid string) error {
	switch {
	case ret >= 0:
		return nil
	case ret == -int(syscall.ECANCELED), ret == -int(syscall.EEXIST), ret == -int(syscall.ERANGE), ret == -int(syscall.EOVERFLOW):
		return fmt.Errorf("%w (%s: %w)", errConflict, oid, syscall.Errno(-ret))
	case ret == -int(syscall.ENOENT):
		return fmt.Errorf("rados: %s: %w", oid, rados.ErrNotFound)
	default:
		return fmt.Errorf("rados: write %s: %w", oid, syscall.Errno(-ret))
	}
}

// exec adds a call of cls method cls.method with input in; a failure of
// the method fails the whole operation with its return code.
func (w *writeOp) exec(cls, method string, in []byte) {
	ccls, cmethod := C.CString(cls), C.CString(method)
	w.cmem = append(w.cmem, unsafe.Pointer(ccls), unsafe.Pointer(cmethod))
	buf, n := w.cbytes(in)
	C.rados_write_op_exec(w.op, ccls, cmethod, buf, n, nil)
	w.steps++
}
