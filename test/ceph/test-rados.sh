#!/usr/bin/env bash
# `make test`'s RADOS part: vets, checks and tests with the `rados` build tag
# the packages that change under it, the tests against a throwaway cluster
# (cluster.sh) started for this run and stopped after it.
#
# Without Ceph's packages this fails, saying what to install; outside CI,
# RADOS=0 leaves the part out on purpose (under CI=true it always runs).
set -euo pipefail
cd "$(dirname "$0")/../.."
go=${GO:-go}
# The rados tag is cgo only (go-ceph); an inherited CGO_ENABLED=0 would hide it.
export CGO_ENABLED=1
staticcheck=${STATICCHECK:-$go run honnef.co/go/tools/cmd/staticcheck@v0.8.2}

if [[ ${RADOS:-1} == 0 ]]; then
	if [[ ${CI:-} == true ]]; then
		echo "test-rados: RADOS=0 is refused under CI: the RADOS tests must run" >&2
		exit 1
	fi
	echo "test-rados: RADOS=0: NOT running the RADOS store's tests" >&2
	exit 0
fi
if [[ ! -e /usr/include/rados/librados.h ]]; then
	echo "test-rados: librados' headers are missing, the RADOS build and its tests cannot run:
    apt-get install -y ceph-mon ceph-mgr ceph-osd ceph-common librados-dev
(or \`make test RADOS=0\` to leave them out, outside CI)" >&2
	exit 1
fi

mapfile -t pkgs < <(GO=$go test/ceph/tagged-packages.sh rados)
if ((${#pkgs[@]} == 0)); then
	echo "test-rados: no package changes under the rados tag" >&2
	exit 1
fi
$go vet -tags rados "${pkgs[@]}"
$staticcheck -tags rados "${pkgs[@]}"

dir=$(mktemp -d "${TMPDIR:-/tmp}/cairn-ceph.XXXXXX")
trap 'test/ceph/cluster.sh stop "$dir" >/dev/null' EXIT
test/ceph/cluster.sh start "$dir"
CAIRN_CEPH_CONF=$dir/ceph.conf $go test -count=1 -timeout 45m -tags rados "${pkgs[@]}"
