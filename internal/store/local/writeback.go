package local

import "io"

// writebackChunk is how many bytes of a data file are written before the
// kernel is asked to start writing them to the disk. A large body is then
// mostly on the disk by the time it has been received, and its one fsync
// waits for the last chunk only instead of the whole file: the disk works
// while the network and the hashes do, and a request's latency no longer
// adds the time to write the whole body after receiving it.
const writebackChunk = 4 << 20

// Files written with direct I/O (direct.go) bypass the page cache and need
// none of this.
//
// writeback is a data file being written; every writebackChunk bytes it
// starts the write-out of what came before (startWriteback, where the
// platform and the file allow it; the fsync at the end is what makes the
// file durable either way).
type writeback struct {
	f       io.Writer
	file    File
	off     int64 // bytes written
	started int64 // bytes whose write-out has been started
}

func (w *writeback) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.off += int64(n)
	if w.off-w.started >= writebackChunk {
		startWriteback(w.file, w.started, w.off-w.started)
		w.started = w.off
	}
	return n, err
}
