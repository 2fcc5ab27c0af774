package server_test

import (
	"strings"
	"testing"

	"github.com/cairn-s3/cairn/internal/server"
)

// TestDebugAddressValidate: the pprof listener binds loopback addresses
// only, unless remote access is allowed explicitly.
func TestDebugAddressValidate(t *testing.T) {
	for _, tt := range []struct {
		addr   string
		remote bool
		want   string // "" for valid
	}{
		{"127.0.0.1:6060", false, ""},
		{"[::1]:6060", false, ""},
		{"localhost:0", false, ""},
		{"127.0.0.2:0", false, ""},
		{"0.0.0.0:6060", false, "not a loopback address"},
		{"[::]:6060", false, "not a loopback address"},
		{":6060", false, "not a loopback address"},
		{"10.1.2.3:6060", false, "not a loopback address"},
		{"debug.example:6060", false, "not a loopback address"},
		{"0.0.0.0:6060", true, ""},
		{"10.1.2.3:6060", true, ""},
		{"127.0.0.1", false, "want host:port"},
	} {
		c := server.Default()
		c.Debug = server.DebugConfig{Address: tt.addr, AllowRemote: tt.remote}
		err := c.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s (remote %v): %v", tt.addr, tt.remote, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s (remote %v): %v, want an error about %q", tt.addr, tt.remote, err, tt.want)
		}
	}
}
