package e2e

import "testing"

// jsDir holds the pinned AWS SDK for JavaScript v3 (package-lock.json);
// .ci/run installs its node_modules with `npm ci`.
const jsDir = "testdata/js"

// TestJSSDKMatrix drives the binary with the AWS SDK for JavaScript v3
// under the machine's Node, with its default settings: once letting the
// SDK pick its checksum (CRC32) and once asking for CRC64NVME on every
// upload. lib-storage's Upload sends the file over 100 MiB in parts;
// GetObject checks the response checksum; the ListObjectsV2 paginator,
// s3-request-presigner's URLs (fetched with net/http), DeleteObjects.
func TestJSSDKMatrix(t *testing.T) {
	t.Parallel()
	node := tool{t: t, path: requireBin(t, "node", "apt-get install nodejs"), dir: jsDir}
	requireRuns(t, "run `npm ci` in test/e2e/"+jsDir, node, "--input-type=module", "-e",
		`import "@aws-sdk/client-s3"; import "@aws-sdk/lib-storage"; import "@aws-sdk/s3-request-presigner";`)
	srv := startMatrixServer(t)
	tree := makeSourceTree(t)
	for _, algorithm := range []string{"default", "CRC64NVME"} {
		t.Run(algorithm, func(t *testing.T) {
			t.Parallel()
			js := node
			js.t = t
			js.args = []string{"s3_matrix.mjs"}
			sdkMatrix(t, srv, js, tree, "js-matrix-"+map[string]string{"default": "crc32", "CRC64NVME": "crc64nvme"}[algorithm], algorithm)
		})
	}
}
