package endpoint

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// ErrPoolClosed reports use of a Pool, or of an endpoint obtained from it,
// after Pool.Close.
var ErrPoolClosed = errors.New("endpoint pool closed")

// Idle defaults follow RGW: AMQP connections idle for about 30 s are closed,
// Kafka producers after rgw_kafka_connection_idle (300 s).
const (
	DefaultIdleTimeout      = 30 * time.Second
	DefaultKafkaIdleTimeout = 300 * time.Second
)

// PoolOptions configures a Pool. The zero value is usable.
type PoolOptions struct {
	// IdleTimeout closes endpoints unused for this long; they reopen on
	// the next Send. 0 means DefaultIdleTimeout, or DefaultKafkaIdleTimeout
	// for kafka.
	IdleTimeout time.Duration
	// Logger is passed to the drivers; nil discards.
	Logger *slog.Logger
	// Extensions enables the nats and mqtt schemes (see WithExtensions).
	Extensions bool
}

// Pool shares one Endpoint per distinct Config, so all topics that point at
// the same endpoint with the same arguments share its connections. It closes
// endpoints that stay idle and is safe for concurrent use.
//
// Lock order: Pool.mu before pooled.mu.
type Pool struct {
	opts PoolOptions

	mu      sync.Mutex
	entries map[Config]*pooled
	closed  bool

	stop chan struct{}
	done chan struct{} // closed when the reaper goroutine has exited
}

// NewPool starts a pool and its idle reaper; Close stops both.
func NewPool(opts PoolOptions) *Pool {
	p := &Pool{
		opts:    opts,
		entries: make(map[Config]*pooled),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go p.reap(reapInterval(opts.IdleTimeout))
	return p
}

func reapInterval(idle time.Duration) time.Duration {
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	return min(max(idle/4, 10*time.Millisecond), 5*time.Second)
}

func (p *Pool) idleTimeout(cfg Config) time.Duration {
	switch {
	case p.opts.IdleTimeout > 0:
		return p.opts.IdleTimeout
	case cfg.Scheme() == "kafka":
		return DefaultKafkaIdleTimeout
	default:
		return DefaultIdleTimeout
	}
}

// Push sends m to the endpoint that a topic's push-endpoint URL and its
// "k1=v1&k2=v2" arguments describe, through the shared endpoint for that
// configuration. It is what notify's Pusher needs, taking plain strings so
// that this package stays free of notify.
func (p *Pool) Push(ctx context.Context, pushEndpoint, args string, m Message) error {
	cfg, err := ParseConfig(pushEndpoint, ParseArgs(args))
	if err != nil {
		return err
	}
	ep, err := p.Get(ctx, cfg)
	if err != nil {
		return err
	}
	return ep.Send(ctx, m)
}

// Get returns the shared endpoint for cfg, opening it if needed. The result
// stays valid after an idle close (it reopens on demand) until Pool.Close.
// Calling Close on it does nothing: the pool owns the connection.
func (p *Pool) Get(ctx context.Context, cfg Config) (Endpoint, error) {
	// The reaper may detach the entry between lookup and acquire; the
	// retry then finds or creates a fresh one.
	for range 3 {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, ErrPoolClosed
		}
		e := p.entries[cfg]
		if e == nil {
			e = &pooled{pool: p, cfg: cfg, lastUsed: time.Now()}
			p.entries[cfg] = e
		}
		p.mu.Unlock()

		_, err := e.acquire(ctx, false)
		if errors.Is(err, errDetached) {
			continue
		}
		if err != nil {
			// Do not keep a configuration that cannot even be opened.
			p.mu.Lock()
			if p.entries[cfg] == e {
				delete(p.entries, cfg)
			}
			p.mu.Unlock()
			return nil, err
		}
		return e, nil
	}
	return nil, errDetached
}

func (p *Pool) open(ctx context.Context, cfg Config) (Endpoint, error) {
	opts := []Option{WithLogger(p.opts.Logger)}
	if p.opts.Extensions {
		opts = append(opts, WithExtensions())
	}
	return Open(ctx, cfg, opts...)
}

// Close closes every endpoint and stops the reaper. Sends still in flight
// fail. It returns the endpoints' Close errors joined.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	entries := p.entries
	p.entries = nil
	p.mu.Unlock()
	close(p.stop)
	<-p.done

	var eps []Endpoint
	for _, e := range entries {
		e.mu.Lock()
		e.state = stateClosed
		if e.ep != nil {
			eps = append(eps, e.ep)
			e.ep = nil
		}
		e.mu.Unlock()
	}
	return closeAll(eps)
}

// closeAll closes endpoints in parallel: some wait for in-flight messages
// (Kafka flush, AMQP close handshake) and need not wait for one another.
func closeAll(eps []Endpoint) error {
	errs := make([]error, len(eps))
	var wg sync.WaitGroup
	for i, ep := range eps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = ep.Close()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// reap closes idle endpoints until Close.
func (p *Pool) reap(every time.Duration) {
	defer close(p.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			_ = closeAll(p.detachIdle(now))
		}
	}
}

// detachIdle removes idle entries from the pool and returns their open
// endpoints. A detached entry forwards later Sends to a fresh entry.
func (p *Pool) detachIdle(now time.Time) []Endpoint {
	p.mu.Lock()
	defer p.mu.Unlock()
	var eps []Endpoint
	for cfg, e := range p.entries {
		e.mu.Lock()
		if e.inflight == 0 && now.Sub(e.lastUsed) >= p.idleTimeout(cfg) {
			delete(p.entries, cfg)
			e.state = stateDetached
			if e.ep != nil {
				eps = append(eps, e.ep)
				e.ep = nil
			}
		}
		e.mu.Unlock()
	}
	return eps
}

type entryState int

const (
	stateActive entryState = iota
	stateDetached
	stateClosed
)

// pooled is the Endpoint handed out by a Pool for one Config.
type pooled struct {
	pool *Pool
	cfg  Config

	mu       sync.Mutex
	state    entryState
	ep       Endpoint // nil until opened
	inflight int
	lastUsed time.Time
}

var _ Endpoint = (*pooled)(nil)

// acquire returns the open endpoint, opening it if needed; with hold it
// also counts a Send in flight, which the caller must release.
func (e *pooled) acquire(ctx context.Context, hold bool) (Endpoint, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch e.state {
	case stateClosed:
		return nil, ErrPoolClosed
	case stateDetached:
		return nil, errDetached
	}
	if e.ep == nil {
		// Open does no network I/O, so holding the lock is cheap.
		ep, err := e.pool.open(ctx, e.cfg)
		if err != nil {
			return nil, err
		}
		e.ep = ep
	}
	if hold {
		e.inflight++
	}
	e.lastUsed = time.Now()
	return e.ep, nil
}

var errDetached = errors.New("pooled endpoint detached")

func (e *pooled) release() {
	e.mu.Lock()
	e.inflight--
	e.lastUsed = time.Now()
	e.mu.Unlock()
}

// Send delivers m through the shared endpoint.
func (e *pooled) Send(ctx context.Context, m Message) error {
	ep, err := e.acquire(ctx, true)
	if errors.Is(err, errDetached) {
		// Closed for idleness: continue with the pool's current entry.
		fresh, err := e.pool.Get(ctx, e.cfg)
		if err != nil {
			return err
		}
		return fresh.Send(ctx, m)
	}
	if err != nil {
		return err
	}
	defer e.release()
	return ep.Send(ctx, m)
}

// Close does nothing; Pool.Close closes the shared endpoint.
func (e *pooled) Close() error { return nil }
