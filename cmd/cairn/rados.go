//go:build rados

package main

import (
	"github.com/cairn-s3/cairn/internal/cli"
	"github.com/cairn-s3/cairn/internal/server/radosopen"
)

// extensions gives `cairn server --store rados` its store.
func extensions() cli.Extensions { return cli.Extensions{RadosStore: radosopen.Open} }
