//go:build !linux

package local

import "errors"

var errDirectUnsupported = errors.New("direct I/O not supported")
