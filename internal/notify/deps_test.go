package notify_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection keeps notify a domain package (no adapters, no
// concrete store, no endpoint drivers: the server wires those) and the
// topic API an adapter that does not reach into the server.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/cairn-s3/cairn/internal/"
	forbidden := map[string][]string{
		"notify": {"s3api", "snsapi", "server", "cli", "store/local", "notify/endpoint"},
		"snsapi": {"server", "cli", "store/local", "notify/endpoint"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		for _, d := range strings.Fields(string(out)) {
			for _, b := range bad {
				if d == mod+b || strings.HasPrefix(d, mod+b+"/") {
					t.Errorf("%s imports %s", pkg, d)
				}
			}
		}
	}
}
