package local

import "io"

// hashPipe feeds a body's hash on its own goroutine, so that a write
// receives its next buffer from the network (verifying its chunk
// signatures) while the previous one is hashed for the ETag: MD5 is the
// largest CPU cost of a large PUT and cannot be split, but it need not
// wait for the network or hold the network up, so one large PUT uses two
// cores and a request's latency is no longer the sum of both.
//
// A buffer handed to send must not change until the hash has it: the
// caller alternates two buffers and calls reuse before refilling one
// (hashes complete in order, so at most two are in flight).
type hashPipe struct {
	h       io.Writer
	todo    chan []byte
	hashed  chan struct{}
	done    chan struct{}
	pending int // buffers sent and not yet known to be hashed
}

func newHashPipe(h io.Writer) *hashPipe {
	p := &hashPipe{
		h:      h,
		todo:   make(chan []byte, 2),
		hashed: make(chan struct{}, 3),
		done:   make(chan struct{}),
	}
	go p.run()
	return p
}

func (p *hashPipe) run() {
	defer close(p.done)
	for b := range p.todo {
		p.h.Write(b) // a hash.Hash never fails
		p.hashed <- struct{}{}
	}
}

// send queues b to be hashed after everything sent before it.
func (p *hashPipe) send(b []byte) {
	p.pending++
	p.todo <- b
}

// reuse waits until at most one buffer is in flight: with two buffers
// alternating, the one about to be refilled has been hashed.
func (p *hashPipe) reuse() {
	for p.pending >= 2 {
		<-p.hashed
		p.pending--
	}
}

// close waits for everything sent to be hashed; the hash is then complete.
func (p *hashPipe) close() {
	close(p.todo)
	<-p.done
}
