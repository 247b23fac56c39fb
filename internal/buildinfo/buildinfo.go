// Package buildinfo says which build of WSE is running: the version, the
// commit and the Go toolchain, for --version, /health and the
// wse_build_info metric.
//
// A release build stamps the version, commit and date with -ldflags (see
// mk/dist.mk):
//
//	-X github.com/wse-go/wse/internal/buildinfo.version=v0.1.0
//	-X github.com/wse-go/wse/internal/buildinfo.commit=<sha>
//	-X github.com/wse-go/wse/internal/buildinfo.date=<RFC 3339>
//
// Anything not stamped comes from runtime/debug.ReadBuildInfo: the module
// version of `go install …@v0.1.0`, and the VCS revision, time and dirty
// flag that `go build` records in a checkout. Get is safe for concurrent use.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

// Set by -ldflags -X; empty when not stamped.
var (
	version string
	commit  string
	date    string
)

// devVersion is the version of a build that has none: a plain `go build` or
// `go run` in a checkout.
const devVersion = "dev"

// Info describes the running build.
type Info struct {
	// Version is the release ("v0.1.0"), the module version `go install`
	// fetched, or "dev".
	Version string `json:"version"`
	// Commit is the VCS revision, or "" when unknown.
	Commit string `json:"commit,omitempty"`
	// Date is when the commit was made or the release was built (RFC 3339),
	// or "" when unknown.
	Date string `json:"date,omitempty"`
	// Modified reports a build from a checkout with uncommitted changes.
	Modified bool `json:"modified,omitempty"`
	// GoVersion is the toolchain that built the binary ("go1.26.0").
	GoVersion string `json:"go_version"`
	// Platform is GOOS/GOARCH.
	Platform string `json:"platform"`
}

var (
	once sync.Once
	info Info
)

// Get returns the running build's Info.
func Get() Info {
	once.Do(func() { info = read(version, commit, date) })
	return info
}

// read combines the stamped values with what the binary records about its
// build; stamped values win.
func read(stampVersion, stampCommit, stampDate string) Info {
	in := Info{Version: stampVersion, Commit: stampCommit, Date: stampDate,
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if in.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			in.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			in.GoVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if in.Commit == "" {
					in.Commit = s.Value
				}
			case "vcs.time":
				if in.Date == "" {
					in.Date = s.Value
				}
			case "vcs.modified":
				in.Modified = s.Value == "true" && stampCommit == ""
			}
		}
	}
	if in.Version == "" {
		in.Version = devVersion
	}
	return in
}

// ShortCommit returns the first 12 characters of Commit.
func (in Info) ShortCommit() string {
	if len(in.Commit) > 12 {
		return in.Commit[:12]
	}
	return in.Commit
}

// String is the one-line form printed by --version, e.g.
// "v0.1.0 (commit 3f2a9c1b0d4e, 2026-12-01T10:00:00Z, go1.26.0, linux/amd64)".
func (in Info) String() string {
	c := in.ShortCommit()
	if c == "" {
		c = "unknown"
	}
	if in.Modified {
		c += "-dirty"
	}
	s := fmt.Sprintf("%s (commit %s", in.Version, c)
	if in.Date != "" {
		s += ", " + in.Date
	}
	return s + ", " + in.GoVersion + ", " + in.Platform + ")"
}
