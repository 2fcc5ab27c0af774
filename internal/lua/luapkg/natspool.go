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

type natsEntry struct {
	conn     *nats.Conn
	lastUsed time.Time
}

func newNATSPool(maxConns int, reconnectWait time.Duration, log *slog.Logger) *natsPool {
	return &natsPool{log: log, maxConns: maxConns, reconnectWait: reconnectWait, conns: map[natsKey]*natsEntry{}}
}

var errPoolClosed = errors.New("the gateway is shutting down")

// get returns the pooled connection of k, dialling it (within timeout) if
// there is none or it was closed.
func (p *natsPool) get(k natsKey, timeout time.Duration) (*nats.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, errPoolClosed
	}
	if e, ok := p.conns[k]; ok {
		if !e.conn.IsClosed() {
			e.lastUsed = time.Now()
			return e.conn, nil
		}
		delete(p.conns, k)
	}
	// Dialling under the lock keeps one connection per key; the timeout
	// bounds the wait of concurrent executions.
	opts := []nats.Option{
		nats.Name("cairn-lua"), nats.Timeout(timeout), nats.MaxReconnects(-1),
		nats.ReconnectWait(p.reconnectWait), nats.NoCallbacksAfterClientClose(),
	}
	if k.user != "" || k.pass != "" {
		opts = append(opts, nats.UserInfo(k.user, k.pass))
	}
	conn, err := nats.Connect("nats://"+k.addr, opts...)
	if err != nil {
		return nil, err
	}
	p.evictLocked()
	p.conns[k] = &natsEntry{conn: conn, lastUsed: time.Now()}
	p.log.Debug("lua nats: connected", "server", k.addr)
	return conn, nil
}

// evictLocked closes the least recently used connection when the pool is
// full.
func (p *natsPool) evictLocked() {
	if len(p.conns) < p.maxConns {
		return
	}
	var oldest natsKey
	var at time.Time
	for k, e := range p.conns {
		if at.IsZero() || e.lastUsed.Before(at) {
			oldest, at = k, e.lastUsed
		}
	}
	p.conns[oldest].conn.Close()
	delete(p.conns, oldest)
}

// close closes every pooled connection, flushing what they buffered.
func (p *natsPool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for k, e := range p.conns {
		_ = e.conn.FlushTimeout(time.Second)
		e.conn.Close()
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
