package live

import (
	"errors"
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/notify"
	"github.com/cairn-s3/cairn/internal/s3err"
)

func mustEvent(t *testing.T, name string) notify.EventType {
	t.Helper()
	e, ok := notify.ParseEvent(name)
	if !ok {
		e, ok = accessNames[name]
	}
	if !ok {
		t.Fatalf("unknown event %q", name)
	}
	return e
}

// FuzzParseEvents checks that any events query either parses to a
// non-empty mask or fails with InvalidArgument, never anything else.
func FuzzParseEvents(f *testing.F) {
	for _, s := range []string{"", "s3:ObjectCreated:*", "s3:ObjectCreated:Put,s3:ObjectRemoved:*", " , ", "s3:Nope", "ObjectRemoved:Delete\x00", "s3:ObjectAccessed:*"} {
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		mask, err := ParseEvents([]string{a, b})
		if err != nil {
			if !errors.Is(err, s3err.InvalidArgument) {
				t.Fatalf("ParseEvents(%q, %q) = %v, want InvalidArgument", a, b, err)
			}
			return
		}
		if mask == 0 {
			t.Fatalf("ParseEvents(%q, %q) selects nothing", a, b)
		}
		if strings.TrimSpace(strings.ReplaceAll(a+b, ",", "")) == "" && mask != ^notify.ObjectAccessed {
			t.Fatalf("empty events %q %q do not select every change", a, b)
		}
	})
}
