//go:build !linux

package static

// openRootDir is not needed without openat2: every open takes the careful path.
func openRootDir(string) (int, error) { return -1, errNoBeneath }

// openBeneath is openat2's RESOLVE_BENEATH open, which only Linux has.
func openBeneath(int, string) (int, error) { return -1, errNoBeneath }
