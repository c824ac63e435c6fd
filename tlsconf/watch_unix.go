//go:build unix

package tlsconf

import (
	"os"
	"syscall"
)

// fileID returns fi's inode and device.
func fileID(fi os.FileInfo) (ino, dev uint64) {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino), uint64(st.Dev) // their types differ between systems
	}
	return 0, 0
}
