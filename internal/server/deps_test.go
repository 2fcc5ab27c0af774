package server_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection checks the import rules of style.md for the packages
// around the composition root: domain packages never import adapters,
// adapters never import the server or the CLI, and only the server opens
// the concrete store.
func TestImportDirection(t *testing.T) {
	const mod = "github.com/cairn-s3/cairn/internal/"
	forbidden := map[string][]string{
		"account":  {"adminapi", "s3api", "server", "cli", "store/local"},
		"adminapi": {"server", "cli", "store/local", "s3api", "snsapi", "notify/endpoint"},
		// Bucket notifications: the domain knows no driver or adapter, the
		// drivers know no S3, and only the server joins them.
		"notify":          {"server", "cli", "store/local", "s3api", "snsapi", "adminapi", "notify/endpoint"},
		"queue":           {"server", "cli", "store/local", "s3api", "snsapi", "adminapi", "notify/endpoint"},
		"notify/endpoint": {"server", "cli", "store", "s3api", "snsapi", "adminapi", "queue"},
		"snsapi":          {"server", "cli", "store/local", "adminapi", "notify/endpoint"},
		"live":            {"server", "cli", "store/local", "s3api", "snsapi", "adminapi", "notify/endpoint"},
		"pubsub":          {"server", "cli", "store/local", "s3api", "snsapi", "psapi", "adminapi", "notify/endpoint"},
		"psapi":           {"server", "cli", "store/local", "snsapi", "adminapi", "notify/endpoint"},
		// Tenancy rules and the Ceph status reader are leaves; Lua knows no
		// S3 adapter (the adapter calls it through a small interface) and the
		// script store no VM.
		"tenant":     {"server", "cli", "store", "s3api", "snsapi", "psapi", "adminapi", "account", "notify", "lua"},
		"cephstatus": {"server", "cli", "store", "s3api", "adminapi", "lua"},
		"lua":        {"server", "cli", "store", "s3api", "snsapi", "psapi", "adminapi", "notify"},
		"script":     {"server", "cli", "store/local", "s3api", "adminapi", "lua"},
		// Lifecycle is domain: the server runs it, s3api reads its rules.
		"lifecycle": {"server", "cli", "store/local", "store/rados", "s3api", "snsapi", "psapi", "adminapi", "notify"},
		// The operation table's row shape is a leaf both adapters share.
		"optable": {"server", "cli", "store", "s3api", "snsapi", "psapi", "adminapi", "auth", "account", "notify", "s3err"},
		// The console reaches the store only through the S3 handler it is
		// given: no store, no other adapter, no authorization of its own.
		"console": {"server", "cli", "account", "store", "kv", "s3api", "snsapi", "psapi", "adminapi", "auth", "notify", "queue", "pubsub", "optable", "live"},
	}
	for pkg, bad := range forbidden {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		for _, b := range bad {
			for _, d := range deps {
				if d == mod+b || strings.HasPrefix(d, mod+b+"/") {
					t.Errorf("%s imports %s", pkg, d)
				}
			}
		}
	}
}

// TestOnlyServerImportsConsole: the console is an adapter the composition
// root wires; no other package may import it.
func TestOnlyServerImportsConsole(t *testing.T) {
	const mod = "github.com/cairn-s3/cairn/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] == mod+"internal/server" {
			continue
		}
		for _, imp := range fields[1:] {
			if imp == mod+"internal/console" {
				t.Errorf("%s imports %s; only internal/server may", fields[0], imp)
			}
		}
	}
}
