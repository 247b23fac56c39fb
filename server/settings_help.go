package server

import (
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/wse-go/wse/internal/buildinfo"
)

// Command is a wse-server subcommand, as listed by --help.
type Command struct {
	// Name is the word given after wse-server.
	Name string
	// Args describes its arguments.
	Args string
	// Summary is the one-line description.
	Summary string
}

// Commands returns the subcommands in --help order; with none, wse-server
// runs the server.
func Commands() []Command {
	return []Command{
		{"version", "", "print the version, commit and Go version"},
		{"genconfig", "", "print a commented YAML file with every setting and its default"},
		{"checkconfig", "FILE", "check a YAML configuration file and exit 0 (valid) or 2"},
		{"gentoken", "--user ID [--ttl 1h] [--claims JSON] [flags]", "print a JWT signed with the configured --jwt-secret"},
		{"client", "<command> [args]", "a command-line client for trying a server, the same as wse-cli (wse-server client --help)"},
	}
}

// helpColumn is the width of the flag column of --help.
const helpColumn = 36

// Usage writes the --help text: the commands, then every setting grouped by
// concern with its environment variable and default.
func Usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("wse-server: the WSE real-time WebSocket server with a JSON control API.\n\n")
	b.WriteString("Usage:\n  wse-server [flags]            run the server\n  wse-server <command> [args]\n\nCommands:\n")
	for _, c := range Commands() {
		use := strings.TrimSpace(c.Name + " " + c.Args)
		if len(use) >= helpColumn {
			fmt.Fprintf(&b, "  %s\n  %-*s %s\n", use, helpColumn, "", c.Summary)
		} else {
			fmt.Fprintf(&b, "  %-*s %s\n", helpColumn, use, c.Summary)
		}
	}
	b.WriteString("\nEvery flag is also an environment variable (shown) and a key of the YAML\n")
	b.WriteString("--config file. Precedence: flag > env > file > default. Sizes take B, KB,\n")
	b.WriteString("MB, GB, KiB, MiB or GiB; durations take Go syntax (90s, 5m) or plain\n")
	b.WriteString("seconds; lists are comma-separated.\n")
	all := Settings()
	for _, g := range groups {
		var rows []Setting
		for _, s := range all {
			if s.Group == g.name {
				rows = append(rows, s)
			}
		}
		if len(rows) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n%s flags:\n", g.title)
		for _, s := range rows {
			flag := "--" + s.Name
			if s.Kind != "bool" {
				flag += " " + s.Kind
			}
			if len(flag) >= helpColumn {
				fmt.Fprintf(&b, "  %s\n  %-*s %s\n  %-*s env %s", flag, helpColumn, "", s.Usage, helpColumn, "", s.Env)
			} else {
				fmt.Fprintf(&b, "  %-*s %s\n  %-*s env %s", helpColumn, flag, s.Usage, helpColumn, "", s.Env)
			}
			if s.Default != "" {
				fmt.Fprintf(&b, ", default %s", s.Default)
			}
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(&b, "\nHelp flags:\n  %-*s this text\n  %-*s print the version and exit\n", helpColumn, "-h, --help", helpColumn, "--version")
	_, _ = io.WriteString(w, b.String())
}

// plainYAML matches values that YAML reads back as the same plain text.
var plainYAML = regexp.MustCompile(`^[A-Za-z0-9_./][A-Za-z0-9_./:|-]*$`)

// yamlScalar writes v so that a YAML parser reads back exactly v.
func yamlScalar(v string) string {
	if plainYAML.MatchString(v) {
		return v
	}
	return strconv.Quote(v)
}

// WriteConfigTemplate writes a YAML configuration file that sets every
// setting to its default, each under a comment with its description, kind
// and environment variable, grouped as in --help. `wse-server genconfig`
// prints it; the file loads as DefaultConfig.
func WriteConfigTemplate(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# wse-server configuration, written by `wse-server genconfig` (%s).\n", buildinfo.Get().Version)
	b.WriteString("# Every key is a flag name and holds its default: edit what you need and\n")
	b.WriteString("# delete the rest. Use it with `wse-server --config FILE`; check it with\n")
	b.WriteString("# `wse-server checkconfig FILE`. Flags and WSE_* variables override it.\n")
	all := Settings()
	for _, g := range groups {
		first := true
		for _, s := range all {
			if s.Group != g.name || s.Name == "config" {
				continue
			}
			if first {
				fmt.Fprintf(&b, "\n## %s\n", g.title)
				first = false
			}
			fmt.Fprintf(&b, "\n# %s\n# %s; env %s\n", s.Usage, s.Kind, s.Env)
			switch {
			case s.Kind == "list" && s.Default == "":
				fmt.Fprintf(&b, "%s: []\n", s.Name)
			case s.Default == "":
				fmt.Fprintf(&b, "%s: \"\"\n", s.Name)
			default:
				fmt.Fprintf(&b, "%s: %s\n", s.Name, yamlScalar(s.Default))
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
