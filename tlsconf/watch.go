package tlsconf

import (
	"os"
	"time"
)

// fileSig is what the watch compares between polls: the certificate and key files'
// modification times, sizes and identities (inode and device where the system has
// them: a file replaced by rename, or a Kubernetes secret's symlink swap, changes its
// inode even when its time and size do not). A missing file is marked missing.
type fileSig struct {
	cert, key fileStat
}

type fileStat struct {
	mtime    time.Time
	size     int64
	ino, dev uint64
	missing  bool
}

func (m *Manager) statFiles() fileSig {
	sig := fileSig{cert: statFile(m.cfg.CertFile)}
	if m.cfg.KeyFile != "" {
		sig.key = statFile(m.cfg.KeyFile)
	}
	return sig
}

func statFile(path string) fileStat {
	fi, err := os.Stat(path) // follows symlinks: the target is what gets loaded
	if err != nil {
		return fileStat{missing: true}
	}
	ino, dev := fileID(fi)
	return fileStat{mtime: fi.ModTime(), size: fi.Size(), ino: ino, dev: dev}
}
