package lua

import (
	"fmt"

	"github.com/arnodel/golua/code"
	"github.com/arnodel/golua/scanner"
	"github.com/arnodel/golua/token"
)

// golua runs the __close metamethods of a coroutine's to-be-closed
// variables when the coroutine ends: if one of them hits the script's
// limit while the coroutine is being closed, golua panics outside any
// recover and the gateway process dies; if the coroutine was stopped by a
// limit, they run with no limit at all and hold the request forever.
// RGW runs Lua 5.3, which has no to-be-closed variables, so scripts that
// declare one (`local x <close> = v`) are refused when compiled.

// checkNoCloseVariables returns an error naming the line of a to-be-closed
// variable in src, if there is one. Other syntax errors are left to the
// compiler.
func checkNoCloseVariables(name, src string) error {
	s := scanner.New(name, []byte(src))
	tok := s.Scan()
	for tok.Type != token.EOF && tok.Type != token.INVALID && tok.Type != token.UNFINISHED {
		if tok.Type != token.KwLocal {
			tok = s.Scan()
			continue
		}
		// local name [<attrib>] {, name [<attrib>]}
		for tok = s.Scan(); tok.Type == token.IDENT; tok = s.Scan() {
			if tok = s.Scan(); tok.Type == token.SgLess {
				attr := s.Scan()
				if attr.Type == token.IDENT && string(attr.Lit) == "close" {
					return fmt.Errorf("%s:%d: to-be-closed variables (<close>) are not supported (RGW runs Lua 5.3)", name, attr.Line)
				}
				s.Scan() // '>'
				tok = s.Scan()
			}
			if tok.Type != token.SgComma {
				break
			}
		}
	}
	return nil
}

// The generic for's fourth value is to-be-closed too in Lua 5.4 (Lua 5.3
// ignores it), and may come from any call (`for k in f() do`), so it
// cannot be refused when compiled. dropClosePushes makes a compiled unit
// ignore it as Lua 5.3 does: every push onto golua's close stack becomes
// a truncation to a height the stack never reaches, an instruction that
// does nothing. With <close> refused, those pushes are the generic for's.
func dropClosePushes(unit *code.Unit) {
	noop := code.ClTrunc(^uint16(0))
	for i, op := range unit.Code {
		if !op.HasType1() && op.TypePfx() == code.Type5Pfx && op.GetJ() == code.OpClStack && op.GetF() {
			unit.Code[i] = noop
		}
	}
}
