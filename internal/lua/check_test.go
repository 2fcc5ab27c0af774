package lua

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	for _, ok := range []string{
		"",
		"RGWDebugLog(Request.RGWOp)",
		"local x = 7 // 2 ; local y = 1 << 4 ; return utf8.char(72)",
		"if Request.HTTP.StorageClass == nil then Request.HTTP.StorageClass = 'COLD' end",
		"local nats = require 'nats'\nlocal c = nats.connect({host='127.0.0.1'})\nc:connect()\nc:publish('s', 'p')",
	} {
		if err := Check(ok); err != nil {
			t.Errorf("Check(%q): %v", ok, err)
		}
	}
	for _, tc := range []struct{ src, want string }{
		{"local x = = 1", "script:1:"},
		{"if x then", "script:1:"},
		{"print('a')\nfor i = 1 do end", "script:2:"},
		{"goto nowhere", "nowhere"},
	} {
		err := Check(tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Check(%q) = %v, want an error mentioning %q", tc.src, err, tc.want)
		}
	}
}
