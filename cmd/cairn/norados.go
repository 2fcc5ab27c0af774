//go:build !rados

package main

import "github.com/cairn-s3/cairn/internal/cli"

// extensions: none without build tags (`--store rados` says how to build one).
func extensions() cli.Extensions { return cli.Extensions{} }
