package server

import "strings"

// settingGroup is a section of --help and of genconfig's output.
type settingGroup struct {
	name  string // the value of Setting.Group
	title string // the section heading
}

// groups are the --help sections in order. groupOther collects settings
// that no table entry or prefix places; TestEverySettingHasAGroup keeps it
// empty.
var groups = []settingGroup{
	{"listener", "Listener"},
	{"api", "Control API"},
	{"auth", "Authentication"},
	{"subscriptions", "Subscriptions"},
	{"limits", "Limits"},
	{"transport", "Transport"},
	{"presence", "Presence"},
	{"recovery", "Recovery"},
	{"broker", "Broker"},
	{"hooks", "Backend hooks"},
	{"cluster", "Cluster"},
	{"logging", "Logging"},
	{groupOther, "Other"},
}

// groupOther is the fallback group of a setting placed nowhere else.
const groupOther = "other"

// settingGroups places settings whose name does not say their group. A new
// setting may be added here; one that is not falls back to groupPrefixes,
// then to groupOther, and still compiles.
var settingGroups = map[string]string{
	"config":                           "listener",
	"host":                             "listener",
	"dev":                              "listener",
	"port":                             "listener",
	"path":                             "listener",
	"allowed-origins":                  "listener",
	"demo":                             "listener",
	"drain-timeout":                    "listener",
	"events-buffer-size":               "api",
	"events-buffer-bytes":              "api",
	"events-buffer-before-poll":        "api",
	"pprof":                            "api",
	"auth-first-message":               "auth",
	"client-subscriptions":             "subscriptions",
	"client-topics":                    "subscriptions",
	"subscribe-on-connect":             "subscriptions",
	"max-subscriptions-per-connection": "subscriptions",
	"max-connections":                  "limits",
	"max-message-size":                 "limits",
	"max-outbound-queue-bytes":         "limits",
	"max-inbound-queue-size":           "limits",
	"rate-limit-capacity":              "limits",
	"rate-limit-refill":                "limits",
	"socket-send-buffer":               "limits",
	"encryption":                       "transport",
	"write-delay":                      "transport",
	"compression-threshold":            "transport",
	"ping-interval":                    "transport",
	"idle-timeout":                     "transport",
	"peers":                            "cluster",
	"seeds":                            "cluster",
	"tls-ca":                           "cluster",
	"tls-cert":                         "cluster",
	"tls-key":                          "cluster",
}

// groupPrefixes place a setting by the start of its name when
// settingGroups does not name it.
var groupPrefixes = []struct{ prefix, group string }{
	{"api-", "api"},
	{"jwt-", "auth"},
	{"auth-", "auth"},
	{"presence", "presence"},
	{"recovery", "recovery"},
	{"broker", "broker"},
	{"redis-", "broker"},
	{"nats-", "broker"},
	{"hook", "hooks"},
	{"proxy-", "hooks"},
	{"cluster-", "cluster"},
	{"tls-", "cluster"},
	{"log-", "logging"},
	{"max-", "limits"},
}

// groupOf returns the group of the setting name.
func groupOf(name string) string {
	if g, ok := settingGroups[name]; ok {
		return g
	}
	for _, p := range groupPrefixes {
		if strings.HasPrefix(name, p.prefix) {
			return p.group
		}
	}
	return groupOther
}
