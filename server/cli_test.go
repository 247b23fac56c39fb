package server

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/wse-go/wse/auth"
)

func TestEverySettingHasAGroup(t *testing.T) {
	t.Parallel()
	known := map[string]bool{}
	for _, g := range groups {
		known[g.name] = true
	}
	for _, s := range Settings() {
		switch {
		case s.Group == groupOther:
			t.Errorf("--%s has no group: add it to settingGroups in settings_groups.go", s.Name)
		case !known[s.Group]:
			t.Errorf("--%s is in group %q, which is not in groups", s.Name, s.Group)
		}
	}
}

func TestUsageListsSettingsUnderTheirGroup(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	Usage(&b)
	out := b.String()
	for _, c := range Commands() {
		if !strings.Contains(out, "  "+c.Name+" ") {
			t.Errorf("usage lacks the %s command", c.Name)
		}
	}
	// section maps each flag to the heading above it.
	section := map[string]string{}
	heading := ""
	for _, line := range strings.Split(out, "\n") {
		if title, ok := strings.CutSuffix(line, " flags:"); ok {
			heading = title
		}
		if name, ok := strings.CutPrefix(line, "  --"); ok {
			section[strings.Fields(name)[0]] = heading
		}
	}
	for _, s := range Settings() {
		title := ""
		for _, g := range groups {
			if g.name == s.Group {
				title = g.title
			}
		}
		if section[s.Name] != title {
			t.Errorf("--%s is listed under %q, want %q", s.Name, section[s.Name], title)
		}
	}
}

func TestUnknownNamesSuggestTheNearestSetting(t *testing.T) {
	t.Parallel()
	typo := writeFile(t, "host: 127.0.0.1\n\n# a comment\npresense: true\n")
	tests := []struct {
		name    string
		args    []string
		environ []string
		want    string
	}{
		{"flag", []string{"--presense"}, nil, `unknown flag --presense (did you mean --presence?)`},
		{"flag with value", []string{"--max-conections=5"}, nil, `(did you mean --max-connections?)`},
		{"flag far from any", []string{"--zzzzzzzz"}, nil, `unknown flag --zzzzzzzz`},
		{"env", nil, []string{"WSE_PRESENSE=true"}, `WSE_PRESENSE (did you mean WSE_PRESENCE?)`},
		{"env far from any", nil, []string{"WSE_QQQQQQQQQQ=1"}, `unknown environment variable WSE_QQQQQQQQQQ`},
		{"file key with line", []string{"--config", typo}, nil, `line 4: unknown key "presense" (did you mean "presence"?)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadEnviron(tc.args, tc.environ)
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadEnviron(%q, %q) = %v, want ErrInvalidConfig containing %q", tc.args, tc.environ, err, tc.want)
			}
			if strings.Contains(err.Error(), "did you mean") != strings.Contains(tc.want, "did you mean") {
				t.Fatalf("suggestion in %q does not match %q", err, tc.want)
			}
		})
	}
}

func TestLoadEnvironIgnoresNonSettingsOutsideThePrefix(t *testing.T) {
	t.Parallel()
	cfg, err := LoadEnviron(nil, []string{"PATH=/bin", "WSE_PORT=6000", "WSE_FLAGS=--x", "NOEQUALS"})
	if err != nil || cfg.Port != 6000 {
		t.Fatalf("LoadEnviron = %+v, %v", cfg.Port, err)
	}
}

func TestErrorsNameWhereTheValueCameFrom(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "host: 127.0.0.1\nport: 70000\n")
	pingFile := writeFile(t, "ping-interval: 45s\n")
	broken := writeFile(t, "host: a\nport: 5007\n  path: /x\n")
	seqInMap := writeFile(t, "host: a\nport: 5007\n- x\n")
	unclosed := writeFile(t, "host: [1\nport: 3\n")
	tab := writeFile(t, "host: a\n\tport: 5\n")
	tests := []struct {
		name    string
		args    []string
		environ []string
		want    string
	}{
		{"flag range", []string{"--port", "70000"}, nil, `--port: "70000": must be between 0 and 65535 (from flag --port)`},
		{"env range", nil, []string{"WSE_PORT=70000"}, `(from env WSE_PORT)`},
		{"file range", []string{"--config", file}, nil, `(from file ` + file + ` line 2)`},
		{"cross check from env", nil, []string{"WSE_PING_INTERVAL=45s"}, `--ping-interval: 45s must be below 40s (the Python client's watchdog) (from env WSE_PING_INTERVAL)`},
		{"cross check from file", []string{"--config", pingFile}, nil, `line 1)`},
		{"YAML syntax", []string{"--config", broken}, nil, broken + ` line 3: mapping values are not allowed`},
		{"YAML sequence in a mapping", []string{"--config", seqInMap}, nil, seqInMap + ` line 3: did not find expected key`},
		{"YAML unclosed flow sequence", []string{"--config", unclosed}, nil, unclosed + ` line 2: did not find expected ',' or ']'`},
		{"YAML tab", []string{"--config", tab}, nil, tab + ` line 2: found a tab character`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadEnviron(tc.args, tc.environ)
			if !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadEnviron = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestGenConfigLoadsAsTheDefaults(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := WriteConfigTemplate(&b); err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings() {
		if s.Name != "config" && !strings.Contains(b.String(), "\n"+s.Name+": ") {
			t.Errorf("genconfig lacks %s", s.Name)
		}
	}
	path := writeFile(t, b.String())
	cfg, err := CheckConfig(path)
	if err != nil {
		t.Fatalf("CheckConfig(genconfig output) = %v", err)
	}
	want := DefaultConfig()
	want.ConfigFile = path
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("genconfig output loads as\n%+v\nnot the defaults\n%+v", cfg, want)
	}
}

func TestYAMLScalarRoundTrips(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"127.0.0.1:5008", "*", "chat:*", "a, b", "#x", "-", "yes", "", "10s", "a b", `q"uote`} {
		path := writeFile(t, "jwt-issuer: "+yamlScalar(v)+"\n")
		cfg, err := CheckConfig(path)
		if err != nil || cfg.JWTIssuer != v {
			t.Errorf("%q written as %s reads back as %q, %v", v, yamlScalar(v), cfg.JWTIssuer, err)
		}
	}
}

func TestGenTokenMintsATokenTheServerAccepts(t *testing.T) {
	t.Parallel()
	secret := strings.Repeat("s", 32)
	environ := []string{"WSE_JWT_SECRET=" + secret, "WSE_JWT_ISSUER=my-app"}
	tok, err := GenToken([]string{"--user", "alice", "--ttl=2h", "--claims", `{"role":"admin"}`, "--jwt-audience", "my-api"}, environ)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewVerifier(auth.Config{Secret: []byte(secret), Issuer: "my-app", Audience: "my-api"})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := v.Verify(tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if claims.Subject != "alice" || claims.Raw["role"] != "admin" {
		t.Fatalf("claims = %+v", claims)
	}

	for _, tc := range []struct {
		args    []string
		environ []string
		want    error
	}{
		{[]string{"--ttl", "1h"}, environ, ErrUsage},
		{[]string{"--user", "a", "--ttl", "soon"}, environ, ErrUsage},
		{[]string{"--user", "a", "--claims", "[1]"}, environ, ErrUsage},
		{[]string{"--user"}, environ, ErrUsage},
		{[]string{"--user", "a"}, nil, ErrInvalidConfig},
		{[]string{"--user", "a", "--usr", "b"}, environ, ErrInvalidConfig},
	} {
		if _, err := GenToken(tc.args, tc.environ); !errors.Is(err, tc.want) {
			t.Errorf("GenToken(%q) = %v, want %v", tc.args, err, tc.want)
		}
	}
}

func TestEditDistanceAndNearest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "abc", 0}, {"presense", "presence", 1}, {"prot", "port", 1},
		{"kitten", "sitting", 3}, {"", "abc", 3},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if got := nearest("hots", []string{"host", "port"}); got != "host" {
		t.Errorf("nearest(hots) = %q", got)
	}
	if got := nearest("x", []string{"host", "port"}); got != "" {
		t.Errorf("nearest(x) = %q, want none", got)
	}
}
