package static

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

var (
	errNotFound = errors.New("static: not found")
	// errOutside is a path whose symlinks lead outside the root: 404, and never
	// handed to Next either.
	errOutside = errors.New("static: outside the root")
	// errEscape is openBeneath's answer for a path whose resolution leaves the root
	// directory, or uses an absolute symlink: the careful path decides.
	errEscape = errors.New("static: resolution leaves the root")
	// errNoBeneath means the platform cannot open beneath a directory.
	errNoBeneath = errors.New("static: no openat2")
)

// source opens files by slash-separated names relative to the root ("." is the root
// itself). Names have been checked by cleanPath: no "..", ".", empty segments, NUL or
// backslash.
type source interface {
	// open returns the open file, its info and, for directory sources, the resolved
	// absolute path ("" for fs.FS sources); errNotFound when it does not exist,
	// errOutside when it lies outside the root.
	open(name string) (fs.File, fs.FileInfo, string, error)
}

// dirSource serves a directory of the file system; pathsend can send its files.
//
// A file is opened with one openat2(RESOLVE_BENEATH) below the root directory, opened
// once: the kernel checks that the resolution stays inside the root, and symlinks
// that stay inside are followed. Only what it refuses (a symlink that leaves the
// root, an absolute symlink, a kernel without openat2) takes the careful path:
// filepath.EvalSymlinks, a check that the resolved path is below the root, and an
// open of the resolved path.
type dirSource struct {
	root   string // absolute, symlinks resolved
	rootFd int    // the root directory (O_PATH); -1 without openat2
}

func newDirSource(dir string) (dirSource, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return dirSource{}, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return dirSource{}, err
	}
	info, err := os.Stat(real)
	if err != nil {
		return dirSource{}, err
	}
	if !info.IsDir() {
		return dirSource{}, errors.New(dir + " is not a directory")
	}
	fd, err := openRootDir(real)
	if err != nil {
		fd = -1
	}
	return dirSource{root: real, rootFd: fd}, nil
}

// within reports whether the resolved path p is the root or below it.
func (d dirSource) within(p string) bool {
	if p == d.root {
		return true
	}
	root := d.root
	if !strings.HasSuffix(root, string(filepath.Separator)) {
		root += string(filepath.Separator)
	}
	return strings.HasPrefix(p, root)
}

func (d dirSource) open(name string) (fs.File, fs.FileInfo, string, error) {
	if d.rootFd < 0 {
		return d.openCarefully(name)
	}
	fd, err := openBeneath(d.rootFd, name)
	switch {
	case err == errEscape || err == errNoBeneath:
		return d.openCarefully(name)
	case err != nil:
		return nil, nil, "", errNotFound
	}
	p := d.root + "/" + name
	if name == "." {
		p = d.root
	}
	f := os.NewFile(uintptr(fd), p)
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, "", errNotFound
	}
	return f, info, p, nil
}

// openCarefully opens name after resolving its symlinks in user space and checking
// that the result stays below the root.
func (d dirSource) openCarefully(name string) (fs.File, fs.FileInfo, string, error) {
	real, err := filepath.EvalSymlinks(filepath.Join(d.root, filepath.FromSlash(name)))
	if err != nil {
		return nil, nil, "", errNotFound
	}
	if !d.within(real) {
		return nil, nil, "", errOutside
	}
	f, err := os.Open(real)
	if err != nil {
		return nil, nil, "", errNotFound
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, "", errNotFound
	}
	return f, info, real, nil
}

// fsSource serves an fs.FS (embed.FS, fstest.MapFS, ...); its files are streamed.
type fsSource struct{ fsys fs.FS }

func (s fsSource) open(name string) (fs.File, fs.FileInfo, string, error) {
	if !fs.ValidPath(name) {
		return nil, nil, "", errNotFound
	}
	f, err := s.fsys.Open(name)
	if err != nil {
		return nil, nil, "", errNotFound
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, "", errNotFound
	}
	return f, info, "", nil
}

// cleanPath turns the route path below the prefix ("" or starting with "/") into a
// source name. ok is false for paths that must never be served: a "..", "." or
// (inside the path) empty segment, a NUL or a backslash. dir reports a trailing slash
// (or the bare prefix).
func cleanPath(rest string) (name string, dir bool, ok bool) {
	if strings.ContainsAny(rest, "\x00\\") {
		return "", false, false
	}
	if rest == "" || rest == "/" {
		return ".", rest == "/", true
	}
	if rest[0] != '/' {
		return "", false, false
	}
	name = rest[1:]
	if strings.HasSuffix(name, "/") {
		dir = true
		name = name[:len(name)-1]
	}
	for seg := range strings.SplitSeq(name, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", false, false
		}
	}
	return name, dir, true
}
