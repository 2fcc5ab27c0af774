#!/usr/bin/env bash
# Installs the end-to-end client matrix's clients that Debian does not ship:
# mc and s5cmd, built once from their Go modules into $CAIRN_E2E_BIN_DIR
# (kept across runs on the same machine: a pinned version already built is
# not built again), and the AWS SDK for JavaScript v3 (`npm ci` of the
# pinned lock file in testdata/js). Needs go, node and npm on PATH.
set -euo pipefail
cd "$(dirname "$0")"

bin="${CAIRN_E2E_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/cairn-e2e/bin}"
mkdir -p "$bin"

# Versions that resolve and build with the Go of this repository (1.26).
# mc publishes no semantic versions: the module proxy knows its commits.
mc_module=github.com/minio/mc@v0.0.0-20250313080218-cf909e1063a9
s5cmd_module=github.com/peak/s5cmd/v2@v2.3.0

# built NAME MODULE@VERSION: true when that version is already in $bin.
built() { [ -x "$bin/$1" ] && [ "$(cat "$bin/$1.module" 2>/dev/null)" = "$2" ]; }

if ! built mc "$mc_module"; then
	GOBIN="$bin" go install "$mc_module"
	echo "$mc_module" > "$bin/mc.module"
fi

if ! built s5cmd "$s5cmd_module"; then
	# `go install s5cmd@version` stops at the module's deprecation check,
	# which asks the proxy for the version list it refuses to serve; a
	# throwaway module that requires the exact version builds it.
	tmp="$(mktemp -d)"
	(
		cd "$tmp"
		go mod init cairn-e2e-s5cmd >/dev/null 2>&1
		go get "$s5cmd_module" 2>get.log || { cat get.log >&2; exit 1; }
		GOBIN="$bin" go install "${s5cmd_module%@*}"
	)
	rm -rf "$tmp"
	echo "$s5cmd_module" > "$bin/s5cmd.module"
fi

(cd testdata/js && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

echo "e2e clients: $("$bin/mc" --version | head -1); s5cmd $s5cmd_module; in $bin" >&2
