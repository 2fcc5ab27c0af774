#!/usr/bin/env bash
# Prints the packages whose build or tests change under a build tag (default
# `rados`): those with files behind the tag, and those that import one of them
# (directly, transitively or from their tests). `make test` vets, checks and
# tests these again with the tag, instead of the whole module twice.
set -euo pipefail
tag=${1:-rados}
go=${GO:-go}

files='{{.ImportPath}} {{.GoFiles}} {{.CgoFiles}} {{.TestGoFiles}} {{.XTestGoFiles}}'
changed=$(comm -13 <($go list -f "$files" ./... | sort) \
	<($go list -tags "$tag" -f "$files" ./... | sort) | cut -d' ' -f1)
[[ -n $changed ]] || exit 0

declare -A hit
for p in $changed; do hit[$p]=1; done
# Dependents: one pass over the transitive imports, one over test imports
# (which are direct only, so a test importing a dependent is caught too).
while read -r p deps; do
	for d in $deps; do [[ -n ${hit[$d]:-} ]] && { hit[$p]=1; break; }; done
done < <($go list -tags "$tag" -f '{{.ImportPath}} {{join .Deps " "}}' ./...)
while read -r p deps; do
	for d in $deps; do [[ -n ${hit[$d]:-} ]] && { hit[$p]=1; break; }; done
done < <($go list -tags "$tag" -f '{{.ImportPath}} {{join .TestImports " "}} {{join .XTestImports " "}}' ./...)
printf '%s\n' "${!hit[@]}" | sort
