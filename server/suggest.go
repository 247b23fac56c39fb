package server

import (
	"fmt"
	"slices"
	"strings"
)

// DidYouMean returns ` (did you mean "x"?)` for the candidate nearest to
// got, or "" when none is near enough to be a likely typo.
func DidYouMean(got string, candidates []string) string {
	if best := nearest(got, candidates); best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return ""
}

// nearest returns the candidate with the smallest edit distance to got, if
// that distance is at most a third of got's length (at least 2); ties go to
// the earlier candidate.
func nearest(got string, candidates []string) string {
	limit := max(2, len(got)/3)
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(got), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counting an
// adjacent transposition as one edit.
func editDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// settingNames returns the name of every setting, --config included.
func settingNames() []string {
	names := make([]string, 0, len(settings)+1)
	names = append(names, "config")
	for _, s := range settings {
		names = append(names, s.name)
	}
	return names
}

// flagError turns the flag package's parse error into one that names the
// flag and, for an unknown one, suggests the nearest setting.
func flagError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: "); ok {
		name = strings.TrimLeft(name, "-")
		return fmt.Errorf("%w: unknown flag --%s%s", ErrInvalidConfig, oneLine(name), didYouMeanFlag(name))
	}
	return fmt.Errorf("%w: %s", ErrInvalidConfig, oneLine(msg))
}

// didYouMeanFlag is didYouMean over the flag names, spelled as flags.
func didYouMeanFlag(name string) string {
	if best := nearest(name, settingNames()); best != "" {
		return fmt.Sprintf(" (did you mean --%s?)", best)
	}
	return ""
}

// nonSettingEnv are WSE_* variables that are not settings but that a
// server may inherit from the tools that start it (bench/run.sh and the
// idle-memory test); they are ignored.
var nonSettingEnv = map[string]bool{"WSE_FLAGS": true, "WSE_SERVER": true, "WSE_IDLE_CONNS": true}

// checkEnvNames refuses a WSE_* variable of env that names no setting.
func checkEnvNames(env map[string]string) error {
	known := make([]string, 0, len(settings)+1)
	for _, n := range settingNames() {
		known = append(known, envName(n))
	}
	var unknown []string
	for k := range env {
		if strings.HasPrefix(k, EnvPrefix) && !nonSettingEnv[k] && !slices.Contains(known, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	first := unknown[0]
	for _, k := range unknown[1:] {
		first = min(first, k) // report the same one on every run
	}
	hint := ""
	if best := nearest(first, known); best != "" {
		hint = fmt.Sprintf(" (did you mean %s?)", best)
	}
	return fmt.Errorf("%w: unknown environment variable %s%s; every %s* variable must name a setting (wse-server --help)", ErrInvalidConfig, first, hint, EnvPrefix)
}
