//go:build rados

package radosopen

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/ceph/go-ceph/rados"
)

// peersOID is the object every gateway of a pool watches: a notify on it
// carries the access keys a write changed, and each gateway drops them
// from its cache before acknowledging.
const peersOID = "cairn.peers"

// notifyTimeout bounds how long a write waits for the other gateways to
// acknowledge; one that does not (dead, stalled) loses its watch after
// Ceph's watch timeout and then forgets everything (see run).
const notifyTimeout = time.Second

// rewatchDelay spaces the attempts to re-establish a lost watch.
const rewatchDelay = 500 * time.Millisecond

// radosPeers is cache invalidation between gateways by RADOS watch/notify.
type radosPeers struct {
	io  *rados.IOContext
	log *slog.Logger

	mu     sync.Mutex
	forget func(accessKeys ...string) // nil until Listen

	stop, done chan struct{}
}

// newRadosPeers watches peersOID (created if missing) and handles its
// notifications until close.
func newRadosPeers(io *rados.IOContext, log *slog.Logger) (*radosPeers, error) {
	op := rados.CreateWriteOp()
	op.Create(rados.CreateIdempotent)
	err := op.Operate(io, peersOID, rados.OperationNoFlag)
	op.Release()
	if err != nil {
		return nil, fmt.Errorf("rados: create %s: %w", peersOID, err)
	}
	w, err := io.Watch(peersOID)
	if err != nil {
		return nil, fmt.Errorf("rados: watch %s: %w", peersOID, err)
	}
	p := &radosPeers{io: io, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	go p.run(w)
	return p, nil
}

// Changed tells every gateway (this one too) to forget accessKeys and
// waits, up to notifyTimeout, until they did.
func (p *radosPeers) Changed(_ context.Context, accessKeys []string) {
	data := []byte(strings.Join(accessKeys, "\n")) // keys hold no control characters
	_, timeouts, err := p.io.NotifyWithTimeout(peersOID, data, notifyTimeout)
	if err != nil || len(timeouts) > 0 {
		p.log.Warn("not every gateway acknowledged a cache invalidation", "err", err, "unacknowledged", len(timeouts))
	}
}

// Listen sets the function notifications call.
func (p *radosPeers) Listen(forget func(accessKeys ...string)) {
	p.mu.Lock()
	p.forget = forget
	p.mu.Unlock()
}

func (p *radosPeers) deliver(accessKeys ...string) {
	p.mu.Lock()
	forget := p.forget
	p.mu.Unlock()
	if forget != nil {
		forget(accessKeys...)
	}
}

// run handles notifications. A lost watch may have missed some: it is
// re-established, and then every cached lookup is forgotten.
func (p *radosPeers) run(w *rados.Watcher) {
	defer close(p.done)
	for {
		select {
		case <-p.stop:
			_ = w.Delete()
			return
		case ev := <-w.Events():
			var keys []string
			if len(ev.Data) > 0 {
				keys = strings.Split(string(ev.Data), "\n")
			}
			p.deliver(keys...)
			_ = ev.Ack(nil)
		case err := <-w.Errors():
			p.log.Warn("cache invalidation watch lost; re-establishing", "err", err)
			_ = w.Delete()
			if w = p.rewatch(); w == nil {
				return
			}
			p.deliver() // what was missed meanwhile
		}
	}
}

// rewatch watches peersOID again, retrying until it works or close.
func (p *radosPeers) rewatch() *rados.Watcher {
	for {
		w, err := p.io.Watch(peersOID)
		if err == nil {
			return w
		}
		p.log.Warn("cache invalidation watch failed", "err", err)
		select {
		case <-p.stop:
			return nil
		case <-time.After(rewatchDelay):
		}
	}
}

func (p *radosPeers) close() {
	close(p.stop)
	<-p.done
}
