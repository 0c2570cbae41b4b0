package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/spf13/pflag"

	"github.com/syndication-hub/hub/hubclient"
	"github.com/syndication-hub/hub/server"
)

// toolConfig is what every tool that talks to a hub (push, pull, report)
// is told: which hub, with which key, and how much to log.
type toolConfig struct {
	Hub      string
	Key      string
	LogLevel string
}

func (c *toolConfig) registerFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.Hub, "hub", "http://127.0.0.1:8080", "the hub's base URL (env HUB_URL)")
	fs.StringVar(&c.Key, "key", "", "your key (env HUB_KEY; prefer it: a flag shows in the process list)")
	fs.StringVar(&c.LogLevel, "log-level", "info", "debug, info, warn or error (env HUB_LOG_LEVEL)")
}

// toolEnv is the environment the tools read, through server.ApplyEnv: only the
// connection settings. A switch such as --release or --follow never comes
// from the environment, where it could act without anyone asking.
var toolEnv = map[string]string{
	"HUB_HUB":       "HUB_URL",
	"HUB_KEY":       "HUB_KEY",
	"HUB_LOG_LEVEL": "HUB_LOG_LEVEL",
	// push's only setting from the environment: a size, never an act.
	"HUB_RESUMABLE_THRESHOLD": "HUB_PUSH_RESUMABLE_THRESHOLD",
}

// applyToolEnv fills --hub, --key and --log-level from HUB_URL, HUB_KEY
// and HUB_LOG_LEVEL when they are not given.
func applyToolEnv(fs *pflag.FlagSet, getenv func(string) string) error {
	return server.ApplyEnv(fs, func(name string) string {
		if env, ok := toolEnv[name]; ok {
			return getenv(env)
		}
		return ""
	})
}

// client returns the hub client the flags describe, and a logger that
// writes to logOut.
func (c *toolConfig) client(tool string, logOut io.Writer) (*hubclient.Client, *slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, nil, fmt.Errorf("--log-level %q: %w", c.LogLevel, err)
	}
	log := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: level}))
	cl, err := hubclient.New(c.Hub, c.Key, hubclient.Options{UserAgent: "hub-" + tool + "/" + version})
	if err != nil {
		return nil, nil, err
	}
	return cl, log, nil
}
