package lua

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

// TestBackgroundRunsAndStops: the background script runs every interval
// with the RGW table and no Request, a looping one is cut at its limit,
// and Close stops the loop's goroutine.
func TestBackgroundRunsAndStops(t *testing.T) {
	defer goleak.VerifyNone(t)
	e, s, log := testEngine(t, Config{BackgroundInterval: 5 * time.Millisecond, MaxRuntime: 50 * time.Millisecond})
	s.Put("background", "", `assert(Request == nil and RGW_ABORT_REQUEST == nil) RGW.increment("runs")`)
	e.Start()
	deadline := time.Now().Add(10 * time.Second)
	for e.global.value("runs") < int64(3) {
		if time.Now().After(deadline) {
			t.Fatalf("background did not run 3 times: %s", log.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.Put("background", "", `while true do end`)
	for e.Errors()[Background] == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("looping background script not stopped: %s", log.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
}

// value returns the integer value of k, 0 if absent or not an integer.
func (g *globalTable) value(k string) int64 {
	v, _ := g.get(k)
	n, _ := v.(int64)
	return n
}
