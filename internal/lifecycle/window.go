package lifecycle

import (
	"fmt"
	"time"
)

// Window is the time of day, UTC, when the scheduled walk runs (RGW's
// rgw_lifecycle_work_time). The zero Window is all day.
type Window struct {
	Start, End time.Duration // since midnight; End < Start wraps past midnight
	set        bool
}

// ParseWindow reads "HH:MM-HH:MM"; "" is all day.
func ParseWindow(s string) (Window, error) {
	if s == "" {
		return Window{}, nil
	}
	var h1, m1, h2, m2 int
	if n, err := fmt.Sscanf(s, "%d:%d-%d:%d", &h1, &m1, &h2, &m2); err != nil || n != 4 ||
		h1 < 0 || h1 > 24 || h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59 {
		return Window{}, fmt.Errorf("lifecycle: work window %q: want HH:MM-HH:MM", s)
	}
	w := Window{Start: time.Duration(h1)*time.Hour + time.Duration(m1)*time.Minute,
		End: time.Duration(h2)*time.Hour + time.Duration(m2)*time.Minute, set: true}
	if w.Start == w.End {
		return Window{}, nil // all day
	}
	return w, nil
}

// Contains reports whether t falls in the window.
func (w Window) Contains(t time.Time) bool {
	if !w.set {
		return true
	}
	t = t.UTC()
	d := t.Sub(t.Truncate(24 * time.Hour))
	if w.Start < w.End {
		return d >= w.Start && d < w.End
	}
	return d >= w.Start || d < w.End
}

// String formats the window as ParseWindow reads it.
func (w Window) String() string {
	if !w.set {
		return ""
	}
	f := func(d time.Duration) string { return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60) }
	return f(w.Start) + "-" + f(w.End)
}
