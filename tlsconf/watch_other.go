//go:build !unix

package tlsconf

import "os"

// fileID has no inode to offer here: time and size alone detect changes.
func fileID(os.FileInfo) (ino, dev uint64) { return 0, 0 }
