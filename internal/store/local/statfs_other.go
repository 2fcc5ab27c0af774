//go:build !unix

package local

import "errors"

// haveStatfs is false where free space is not measured: the reserve is off.
const haveStatfs = false

func statfsFree(string) (free, total uint64, err error) {
	return 0, 0, errors.New("local: free space cannot be measured on this system")
}
