//go:build rados

package rados

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/ceph/go-ceph/rados"
)

// The drainers' directory: one object through which the draining gateways
// learn, with one read per pass, who else drains and who holds which shard,
// so that a pass tries only the shards no live gateway holds instead of
// every shard it does not hold (see doc.go, "Draining at scale").
//
// Liveness needs no clocks of the gateways: each draining gateway holds a
// shared cls_lock on the directory with its own cookie and an expiry of
// the drain TTL, renewed every pass; cls_lock's get_info drops expired
// lockers by the OSD's clock before answering, so the lockers it lists are
// the live gateways. Holdings are omap rows "h/<shard>" → the holder's
// cookie, written when a gateway takes or gives up a shard (and repaired by
// their own holder when a pass finds them wrong), never per pass.
const (
	drainersOID  = "cairn.drainers"
	drainersLock = "cairn.drainers"
	rowHolder    = "h/"
)

// drainDir is this gateway's membership of the directory.
type drainDir struct {
	s      *Store
	cookie string // this gateway's locker cookie and holder name
	ttl    time.Duration
}

// drainView is the directory as one pass read it.
type drainView struct {
	live    map[string]bool   // cookies of the gateways whose lock has not expired
	holders map[string][]byte // shard oid → its holder row as stored (wrapped cookie)
}

// holder is the cookie of the recorded holder of oid ("" if none).
func (v *drainView) holder(oid string) string {
	raw := v.holders[oid]
	if len(raw) == 0 {
		return ""
	}
	c, err := unwrap(raw)
	if err != nil {
		return ""
	}
	return string(c)
}

// heldByLive tells whether a live gateway other than me is recorded as
// holding oid: then probing it would only meet EBUSY.
func (v *drainView) heldByLive(oid, me string) bool {
	h := v.holder(oid)
	return h != "" && h != me && v.live[h]
}

// liveSet names the set of live gateways (sorted cookies).
func (v *drainView) liveSet() string {
	return strings.Join(slices.Sorted(maps.Keys(v.live)), ",")
}

// renew takes or extends this gateway's shared lock on the directory (the
// object is created by the first lock).
func (d *drainDir) renew(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := newWriteOp()
	defer op.release()
	// Membership must go on on a full pool: draining is what empties it.
	op.freesSpace()
	op.exec("lock", "lock", encodeLockOp(drainersLock, lockShared, d.cookie, "cairn drainer", d.ttl, true))
	return op.operate(d.s.io, drainersOID)
}

// leave drops this gateway's lock: the others count it out at once.
func (d *drainDir) leave() {
	if _, err := d.s.io.Unlock(drainersOID, drainersLock, d.cookie); err != nil && !isNotFound(err) {
		d.s.log.Warn("rados: leave the drainers", "err", err)
	}
}

// read returns the live gateways and the holdings, in one read operation
// (more only if the holdings exceed a page).
func (d *drainDir) read(ctx context.Context) (*drainView, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in := encodeGetInfoOp(drainersLock)
	op := rados.CreateReadOp()
	defer op.Release()
	info := op.Exec("lock", "get_info", in)
	rows := op.GetOmapValues("", rowHolder, holderPage)
	err := opCause(op.Operate(d.s.io, drainersOID, rados.OperationNoFlag))
	runtime.KeepAlive(in) // librados read it from Go memory during Operate
	if err != nil {
		return nil, fmt.Errorf("rados: read the drainers: %w", err)
	}
	out, err := info.Bytes()
	if err != nil {
		return nil, fmt.Errorf("rados: read the drainers: %w", err)
	}
	cookies, err := decodeLockers(out)
	if err != nil {
		return nil, err
	}
	v := &drainView{live: map[string]bool{}, holders: map[string][]byte{}}
	for _, c := range cookies {
		v.live[c] = true
	}
	last := ""
	for {
		kv, err := rows.Next()
		if err != nil {
			return nil, fmt.Errorf("rados: read the drainers: %w", err)
		}
		if kv == nil {
			break
		}
		v.holders[kv.Key[len(rowHolder):]] = kv.Value
		last = kv.Key
	}
	for more := rows.More(); more; {
		var page []row
		if page, more, err = rangeRows(d.s.io, drainersOID, last, rowHolder, holderPage); err != nil {
			return nil, err
		}
		for _, r := range page {
			v.holders[r.Key[len(rowHolder):]] = r.Value
			last = r.Key
		}
		more = more && len(page) > 0
	}
	return v, nil
}

const holderPage = 4096

// claim records this gateway as oid's holder, guarded by the row still
// holding old (as read): a concurrent change of the row wins, and the
// next pass looks again.
func (d *drainDir) claim(oid string, old []byte) error {
	op := newWriteOp()
	defer op.release()
	op.freesSpace()
	op.omapEqual(rowHolder+oid, old)
	op.omapSet(map[string][]byte{rowHolder + oid: wrap([]byte(d.cookie))})
	return ignoreConflict(op.operate(d.s.io, drainersOID))
}

// disclaim removes oid's holder row if it still holds row (the caller's
// own, or a dead gateway's one read before).
func (d *drainDir) disclaim(oid string, row []byte) error {
	op := newWriteOp()
	defer op.release()
	op.freesSpace()
	op.omapEqual(rowHolder+oid, row)
	op.omapRm([]string{rowHolder + oid})
	return ignoreConflict(op.operate(d.s.io, drainersOID))
}

func ignoreConflict(err error) error {
	if errors.Is(err, errConflict) {
		return nil
	}
	return err
}

// encodeGetInfoOp is Ceph's encoding of cls_lock_get_info_op (version 1):
// the lock's name.
func encodeGetInfoOp(name string) []byte {
	body := append(binary.LittleEndian.AppendUint32(nil, uint32(len(name))), name...)
	out := binary.LittleEndian.AppendUint32([]byte{1, 1}, uint32(len(body)))
	return append(out, body...)
}

// decodeLockers returns the cookies of a cls_lock_get_info_reply's
// lockers: a versioned struct holding a map of locker_id_t (versioned:
// entity_name_t, cookie) to locker_info_t (versioned; skipped whole).
func decodeLockers(b []byte) ([]string, error) {
	d := &cephDecoder{b: b}
	reply := d.versioned()
	n := reply.u32()
	var cookies []string
	for i := uint32(0); i < n && reply.err == nil; i++ {
		id := reply.versioned()
		id.skip(1 + 8) // entity_name_t: type, number
		cookies = append(cookies, id.str())
		if id.err != nil {
			return nil, id.err
		}
		reply.versioned() // locker_info_t
	}
	if d.err != nil || reply.err != nil {
		return nil, fmt.Errorf("rados: decode the drainers' lockers: %w", errors.Join(d.err, reply.err))
	}
	return cookies, nil
}

// cephDecoder reads Ceph's little-endian encoding, remembering the first
// error (a short buffer) so that callers check once.
type cephDecoder struct {
	b   []byte
	err error
}

func (d *cephDecoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = syscall.EBADMSG
		d.b = nil
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *cephDecoder) skip(n int) { d.take(n) }

func (d *cephDecoder) u32() uint32 {
	if b := d.take(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (d *cephDecoder) str() string { return string(d.take(int(d.u32()))) }

// versioned consumes an ENCODE_START struct (version, compat, length) and
// returns a decoder over its body, so that fields a newer encoder appends
// are skipped.
func (d *cephDecoder) versioned() *cephDecoder {
	d.skip(2)
	body := d.take(int(d.u32()))
	return &cephDecoder{b: body, err: d.err}
}

// nudgeDrainers has every draining gateway run a pass now (they watch the
// directory): when a bucket's shards become drained, or a gateway hands
// shards over, waiting for their next pass would delay those shards'
// events by up to TTL/3. Nudges coalesce: one goroutine sends them while
// more are wanted.
func (s *Store) nudgeDrainers() {
	d := &s.drains
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nudging++
	if d.nudging > 1 {
		return
	}
	d.notifiers.Add(1)
	go func() {
		defer d.notifiers.Done()
		for {
			d.mu.Lock()
			n := d.nudging
			d.mu.Unlock()
			if _, _, err := s.io.NotifyWithTimeout(drainersOID, nil, notifyTimeout); err != nil && !isNotFound(err) {
				s.log.Debug("rados: nudge the drainers", "err", err)
			}
			d.mu.Lock()
			d.nudging -= n
			if d.nudging == 0 {
				d.mu.Unlock()
				return
			}
			d.mu.Unlock()
		}
	}()
}

// watchDrainers pokes this gateway's drain loop on every nudge until ctx
// ends; without the watch, passes keep their pace.
func (s *Store) watchDrainers(ctx context.Context) (stop func()) {
	w, err := s.io.Watch(drainersOID)
	if err != nil {
		s.log.Warn("rados: watch the drainers", "err", err)
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ackEach(ctx, w, s.drains.poke); err != nil {
			s.log.Warn("rados: drainers' watch lost", "err", err)
		}
	}()
	return func() { <-done }
}
