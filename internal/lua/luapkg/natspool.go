package luapkg

import (
	"errors"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// natsKey names a pooled connection: the server and the credentials.
type natsKey struct {
	addr, user, pass string
}

// natsPool keeps one connection per server and credentials, shared by all
// executions (a nats.Conn is safe for concurrent use): a script that
// connects on every request reuses it instead of dialling. nats.go
// reconnects it when the server restarts, buffering what is published
// meanwhile.
type natsPool struct {
	log           *slog.Logger
	maxConns      int
	reconnectWait time.Duration
	mu            sync.Mutex
	conns         map[natsKey]*natsEntry
	closed        bool
}

// natsEntry is a pooled connection, or one being dialled (ready open).
type natsEntry struct {
	conn     *nats.Conn
	lastUsed time.Time
	ready    chan struct{} // closed once the dial ended
}

func newNATSPool(maxConns int, reconnectWait time.Duration, log *slog.Logger) *natsPool {
	return &natsPool{log: log, maxConns: maxConns, reconnectWait: reconnectWait, conns: map[natsKey]*natsEntry{}}
}

var errPoolClosed = errors.New("the gateway is shutting down")

// get returns the pooled connection of k, dialling it (within timeout) if
// there is none or it was closed. Executions wanting a connection that is
// being dialled wait for that dial (at most timeout) instead of dialling
// again; other servers' connections are not held up.
func (p *natsPool) get(k natsKey, timeout time.Duration) (*nats.Conn, error) {
	deadline := time.Now().Add(timeout)
	for range 3 { // a dial that failed for another execution is retried once or twice
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, errPoolClosed
		}
		e, ok := p.conns[k]
		switch {
		case !ok || e.conn != nil && e.conn.IsClosed():
			e = &natsEntry{ready: make(chan struct{})}
			p.evictLocked()
			p.conns[k] = e
			p.mu.Unlock()
			return p.dial(k, e, time.Until(deadline))
		case e.conn != nil:
			e.lastUsed = time.Now()
			p.mu.Unlock()
			return e.conn, nil
		}
		p.mu.Unlock()
		select { // another execution is dialling
		case <-e.ready:
		case <-time.After(time.Until(deadline)):
			return nil, errors.New("timed out waiting for the connection")
		}
	}
	return nil, errors.New("the server refused the connection")
}

// dial connects e (registered for k) and publishes the result.
func (p *natsPool) dial(k natsKey, e *natsEntry, timeout time.Duration) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name("cairn-lua"), nats.Timeout(max(timeout, time.Millisecond)), nats.MaxReconnects(-1),
		nats.ReconnectWait(p.reconnectWait), nats.NoCallbacksAfterClientClose(),
	}
	if k.user != "" || k.pass != "" {
		opts = append(opts, nats.UserInfo(k.user, k.pass))
	}
	conn, err := nats.Connect("nats://"+k.addr, opts...)
	p.mu.Lock()
	defer p.mu.Unlock()
	defer close(e.ready)
	if err != nil {
		if p.conns[k] == e {
			delete(p.conns, k)
		}
		return nil, err
	}
	if p.closed || p.conns[k] != e { // shut down or evicted meanwhile
		conn.Close()
		return nil, errPoolClosed
	}
	e.conn, e.lastUsed = conn, time.Now()
	p.log.Debug("lua nats: connected", "server", k.addr)
	return conn, nil
}

// evictLocked closes the least recently used connection when the pool is
// full (connections being dialled are not evicted).
func (p *natsPool) evictLocked() {
	if len(p.conns) < p.maxConns {
		return
	}
	var oldest *natsEntry
	var oldestKey natsKey
	for k, e := range p.conns {
		if e.conn != nil && (oldest == nil || e.lastUsed.Before(oldest.lastUsed)) {
			oldest, oldestKey = e, k
		}
	}
	if oldest != nil {
		oldest.conn.Close()
		delete(p.conns, oldestKey)
	}
}

// close closes every pooled connection, flushing what they buffered.
func (p *natsPool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for k, e := range p.conns {
		if e.conn != nil { // a dial under way closes its connection itself
			_ = e.conn.FlushTimeout(time.Second)
			e.conn.Close()
		}
		delete(p.conns, k)
	}
	return nil
}

// size returns the number of pooled connections (for tests).
func (p *natsPool) size() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

func hostPort(host string, port int64) string {
	return net.JoinHostPort(host, strconv.FormatInt(port, 10))
}
