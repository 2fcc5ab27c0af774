package lua

import (
	"errors"

	rt "github.com/arnodel/golua/runtime"
)

// checkChunkName is the name compile errors give the script ("script:3:...").
const checkChunkName = "script"

// Check compiles source without running it, as `radosgw-admin script put`
// verifies a script before storing it, and returns the Lua error message
// (e.g. "script:1:7: expected ... near ...") of a syntax or compile error.
func Check(source string) error {
	r := rt.New(nil)
	if _, _, err := r.CompileLuaChunk(checkChunkName, []byte(source)); err != nil {
		return errors.New(err.Error())
	}
	return checkNoCloseVariables(checkChunkName, source)
}
