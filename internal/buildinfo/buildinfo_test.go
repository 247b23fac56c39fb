package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestReadPrefersStampedValues(t *testing.T) {
	t.Parallel()
	in := read("v1.2.3", "0123456789abcdef0123", "2026-12-01T00:00:00Z")
	if in.Version != "v1.2.3" || in.Commit != "0123456789abcdef0123" || in.Date != "2026-12-01T00:00:00Z" || in.Modified {
		t.Fatalf("stamped info = %+v", in)
	}
	if in.GoVersion == "" || in.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Fatalf("toolchain fields = %+v", in)
	}
	want := "v1.2.3 (commit 0123456789ab, 2026-12-01T00:00:00Z, " + in.GoVersion + ", " + in.Platform + ")"
	if got := in.String(); got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

func TestReadWithoutStampIsDev(t *testing.T) {
	t.Parallel()
	in := read("", "", "")
	// A test binary records no module version, so the fallback applies.
	if in.Version != devVersion {
		t.Fatalf("Version = %q, want %q", in.Version, devVersion)
	}
	if !strings.HasPrefix(in.String(), devVersion+" (commit ") {
		t.Fatalf("String() = %q", in.String())
	}
}
