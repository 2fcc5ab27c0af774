package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"
)

// progress draws a one-line progress bar on stderr when stderr is a
// terminal (and not --quiet); otherwise it only counts.
type progress struct {
	w        io.Writer
	on       bool
	total    int64
	done     atomic.Int64
	begin    time.Time
	quit     chan struct{}
	finished sync.WaitGroup
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, quit: make(chan struct{})}
	if f, ok := w.(*os.File); ok && !quiet {
		p.on = term.IsTerminal(int(f.Fd()))
	}
	return p
}

func (p *progress) add(n int64) { p.done.Add(n) }

// start begins drawing; total 0 means unknown.
func (p *progress) start(total int64) {
	p.total, p.begin = total, time.Now()
	if !p.on {
		return
	}
	p.finished.Go(func() {
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				p.draw()
				fmt.Fprintln(p.w)
				return
			case <-t.C:
				p.draw()
			}
		}
	})
}

func (p *progress) draw() {
	done := p.done.Load()
	rate := float64(done) / max(time.Since(p.begin).Seconds(), 1e-3)
	line := fmt.Sprintf("%s  %s/s", formatSize(done), formatSize(int64(rate)))
	if p.total > 0 {
		// Retried and resumed parts can count twice: the bar never
		// passes its total.
		done = min(done, p.total)
		const width = 30
		n := int(done * width / p.total)
		line = fmt.Sprintf("[%s%s] %3d%%  %s / %s  %s/s", strings.Repeat("=", n), strings.Repeat(" ", width-n),
			done*100/p.total, formatSize(done), formatSize(p.total), formatSize(int64(rate)))
	}
	fmt.Fprintf(p.w, "\r%s\033[K", line)
}

func (p *progress) stop() {
	if p.on && !p.begin.IsZero() {
		close(p.quit)
		p.finished.Wait()
	}
}

func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", v, "KMGTP"[i])
}

// parseSize parses "8388608", "8MiB", "8M", "8MB" (all binary units);
// "" is 0.
func parseSize(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	num := strings.TrimRight(s, "KkMmGgTtIiBb")
	suffix := strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(strings.ToUpper(s[len(num):]), "B"), "I"))
	mult := int64(1)
	switch suffix {
	case "":
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	case "T":
		mult = 1 << 40
	default:
		return 0, fmt.Errorf("bad size %q", s)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}
