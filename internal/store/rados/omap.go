//go:build rados

package rados

import (
	"errors"
	"fmt"

	"github.com/ceph/go-ceph/rados"
)

// Stored omap values carry a one-byte tag, so that none is empty: an omap
// comparison sees a missing row as an empty value, which then means
// "absent" without ambiguity.
const valueTag = 'v'

func wrap(v []byte) []byte { return append([]byte{valueTag}, v...) }

func unwrap(v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] != valueTag {
		return nil, fmt.Errorf("rados: corrupt omap value %q", v)
	}
	return append([]byte(nil), v[1:]...), nil
}

// getRows reads rows of oid by name; missing rows (and a missing object)
// are absent from the result. Values are returned as stored (wrapped).
func getRows(io *rados.IOContext, oid string, keys ...string) (map[string][]byte, error) {
	rows, _, err := getRowsOf(io, oid, keys...)
	return rows, err
}

// getRowsOf is getRows telling whether the object exists.
func getRowsOf(io *rados.IOContext, oid string, keys ...string) (rows map[string][]byte, exists bool, err error) {
	op := rados.CreateReadOp()
	defer op.Release()
	step := op.GetOmapValuesByKeys(keys)
	if err := opCause(op.Operate(io, oid, rados.OperationNoFlag)); err != nil {
		if isNotFound(err) {
			return map[string][]byte{}, false, nil
		}
		return nil, false, fmt.Errorf("rados: read %s: %w", oid, err)
	}
	out := map[string][]byte{}
	for {
		kv, err := step.Next()
		if err != nil {
			return nil, false, fmt.Errorf("rados: read %s: %w", oid, err)
		}
		if kv == nil {
			return out, true, nil
		}
		out[kv.Key] = kv.Value
	}
}

// getRow is getRows for one row: its stored value, or nil if absent.
func getRow(io *rados.IOContext, oid, key string) ([]byte, error) {
	rows, err := getRows(io, oid, key)
	if err != nil {
		return nil, err
	}
	return rows[key], nil
}

// row is one omap row as stored.
type row struct {
	Key   string
	Value []byte
}

// rangeRows reads up to max rows of oid with prefix, after startAfter.
func rangeRows(io *rados.IOContext, oid, startAfter, prefix string, max int) ([]row, bool, error) {
	op := rados.CreateReadOp()
	defer op.Release()
	step := op.GetOmapValues(startAfter, prefix, uint64(max))
	if err := opCause(op.Operate(io, oid, rados.OperationNoFlag)); err != nil {
		if isNotFound(err) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("rados: list %s: %w", oid, err)
	}
	var out []row
	for {
		kv, err := step.Next()
		if err != nil {
			return nil, false, fmt.Errorf("rados: list %s: %w", oid, err)
		}
		if kv == nil {
			break
		}
		out = append(out, row{Key: kv.Key, Value: kv.Value})
	}
	return out, step.More(), nil
}

// cursor walks the rows of one object with a prefix in key order, a page
// at a time, so that memory does not grow with the object's omap.
type cursor struct {
	io     *rados.IOContext
	oid    string
	prefix string
	after  string
	page   []row
	min    string // rows before it are skipped
	more   bool
	done   bool
}

const cursorPage = 256

func newCursor(io *rados.IOContext, oid, prefix, after string) *cursor {
	if after < prefix {
		after = "" // the OSD starts at the prefix; a row equal to it is included
	}
	return &cursor{io: io, oid: oid, prefix: prefix, after: after, more: true}
}

// peek returns the next row without consuming it; ok false at the end.
func (c *cursor) peek() (row, bool, error) {
	for {
		for len(c.page) == 0 {
			if c.done || !c.more {
				return row{}, false, nil
			}
			rows, more, err := rangeRows(c.io, c.oid, c.after, c.prefix, cursorPage)
			if err != nil {
				return row{}, false, err
			}
			c.page, c.more = rows, more && len(rows) > 0
			if len(rows) == 0 {
				c.done = true
			}
		}
		if c.page[0].Key >= c.min {
			return c.page[0], true, nil
		}
		c.next()
	}
}

func (c *cursor) next() {
	if len(c.page) > 0 {
		c.after = c.page[0].Key
		c.page = c.page[1:]
	}
}

// seek skips to the rows after key (no effect when already past it).
func (c *cursor) seek(after string) {
	if after <= c.after {
		return
	}
	for len(c.page) > 0 && c.page[0].Key <= after {
		c.page = c.page[1:]
	}
	c.after = after
	if len(c.page) == 0 {
		c.more = !c.done
	}
}

// merged walks several cursors as one ordered sequence (rows of distinct
// objects never share a name: a key lives in one shard).
type merged []*cursor

func (m merged) peek() (row, int, bool, error) {
	return m.peekBy(func(r row) string { return r.Key })
}

// peekBy is peek ordering rows by name(row) (cursors of distinct prefixes).
func (m merged) peekBy(name func(row) string) (row, int, bool, error) {
	best, bi := row{}, -1
	for i, c := range m {
		r, ok, err := c.peek()
		if err != nil {
			return row{}, -1, false, err
		}
		if ok && (bi < 0 || name(r) < name(best)) {
			best, bi = r, i
		}
	}
	return best, bi, bi >= 0, nil
}

func (m merged) seek(after string) {
	for _, c := range m {
		c.seek(after)
	}
}

// opCause returns the librados error of a go-ceph read operation: its
// OperationError has no Unwrap, which would hide the errno (ENOENT,
// ETIMEDOUT) from errors.Is and from the S3 error mapping.
func opCause(err error) error {
	if oe, ok := errors.AsType[rados.OperationError](err); ok && oe.OpError != nil {
		return oe.OpError
	}
	return err
}

func isNotFound(err error) bool { return errors.Is(err, rados.ErrNotFound) }
