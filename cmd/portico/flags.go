package main

import (
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/pflag"
)

// Environment prefixes: `server` flags read PORTICO_*, the stand-alone
// gateway PORTICO_GATEWAY_* (its --token must not be taken for the CLI's
// PORTICO_TOKEN) and the demo backend its own PORTICO_DEMO_* so its --addr
// does not collide with the server's.
const (
	envPrefix        = "PORTICO_"
	gatewayEnvPrefix = "PORTICO_GATEWAY_"
	demoEnvPrefix    = "PORTICO_DEMO_"
)

// envName is the environment variable of a flag: --admin-addr → PORTICO_ADMIN_ADDR.
func envName(prefix, flag string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// applyEnv sets every flag not given on the command line from its
// environment variable, so flags win over the environment, which wins over
// defaults. A repeatable flag takes a comma-separated value.
func applyEnv(fs *pflag.FlagSet, prefix string) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		v, ok := os.LookupEnv(envName(prefix, f.Name))
		if !ok {
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = fmt.Errorf("%s=%q: %w", envName(prefix, f.Name), v, e)
		}
	})
	return err
}

// annotateEnv appends the variable name to each flag's usage text.
func annotateEnv(fs *pflag.FlagSet, prefix string) {
	fs.VisitAll(func(f *pflag.Flag) {
		f.Usage += " (env " + envName(prefix, f.Name) + ")"
	})
}

func newLogger(level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	o := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, o)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
