package cli

import "testing"

// TestParseBallast covers --ballast-size: sizes, percentages, and 0 (off).
func TestParseBallast(t *testing.T) {
	for _, tc := range []struct {
		in    string
		bytes int64
		pct   float64
	}{
		{"64MiB", 64 << 20, 0},
		{"1G", 1 << 30, 0},
		{"1%", 0, 1},
		{"0.5%", 0, 0.5},
		{"0", -1, 0},
		{"0%", -1, 0},
	} {
		b, p, err := parseBallast(tc.in)
		if err != nil || b != tc.bytes || p != tc.pct {
			t.Errorf("parseBallast(%q) = %d, %v, %v; want %d, %v", tc.in, b, p, err, tc.bytes, tc.pct)
		}
	}
	for _, bad := range []string{"lots", "-1%", "50%", "12XB"} {
		if _, _, err := parseBallast(bad); err == nil {
			t.Errorf("parseBallast(%q): no error", bad)
		}
	}
	fails(t, nil, "--ballast-size", "server", "--ballast-size", "plenty")
}
