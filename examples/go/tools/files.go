package main

// Reading files confined to a configured root: relative paths only, no "..", and the resolved
// path (symlinks followed) must still be inside the resolved root.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// maxFileBytes bounds what one read returns to the model.
const maxFileBytes = 1 << 20

func readUnderRoot(root, path string) (string, error) {
	if root == "" {
		return "", errors.New("no root configured (set the plugin's `root` config key)")
	}
	if path == "" {
		return "", errors.New("path is empty")
	}
	if filepath.IsAbs(path) {
		return "", fmt.Errorf("path %q is absolute; give a path relative to the root", path)
	}
	for _, part := range strings.Split(filepath.ToSlash(path), "/") {
		if part == ".." {
			return "", fmt.Errorf("path %q escapes the root (..)", path)
		}
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return "", fmt.Errorf("root %q: %v", root, err)
	}
	realPath, err := filepath.EvalSymlinks(filepath.Join(realRoot, path))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("no file %q under the root", path)
		}
		return "", fmt.Errorf("path %q: %v", path, err)
	}
	if realPath != realRoot && !strings.HasPrefix(realPath, realRoot+string(filepath.Separator)) {
		return "", fmt.Errorf("path %q escapes the root (through a symlink)", path)
	}
	info, err := os.Stat(realPath)
	if err != nil {
		return "", fmt.Errorf("path %q: %v", path, err)
	}
	if !info.Mode().IsRegular() {
		return "", fmt.Errorf("path %q is not a regular file", path)
	}
	if info.Size() > maxFileBytes {
		return "", fmt.Errorf("file %q is larger than %d bytes", path, maxFileBytes)
	}
	data, err := os.ReadFile(realPath)
	if err != nil {
		return "", fmt.Errorf("path %q: %v", path, err)
	}
	return string(data), nil
}
