package static

import "golang.org/x/sys/unix"

// openRootDir opens the root directory once, for openBeneath.
func openRootDir(dir string) (int, error) {
	return unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// openBeneath opens name (relative, slash-separated) below the directory root with
// openat2(RESOLVE_BENEATH): the kernel refuses any resolution that leaves the root
// (".." above it, a symlink leading out, an absolute symlink) with errEscape, and
// follows symlinks that stay inside. errNoBeneath means the kernel has no openat2.
// The file is opened blocking (no poller registration: a regular file never blocks
// on readiness).
func openBeneath(root int, name string) (int, error) {
	how := unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_CLOEXEC | unix.O_NOCTTY,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	}
	for range 2 {
		fd, err := unix.Openat2(root, name, &how)
		switch {
		case err == nil:
			return fd, nil
		case err == unix.EINTR, err == unix.EAGAIN: // EAGAIN: a concurrent rename; retry
			continue
		case err == unix.EXDEV:
			return -1, errEscape
		case err == unix.ENOSYS:
			return -1, errNoBeneath
		}
		return -1, err
	}
	return -1, errEscape // keeps racing: the careful path decides
}
