// Package cli is `portico ctl`: the admin API from a terminal or a CI
// pipeline. It talks to the admin API only (through adminclient) and keeps
// the login token in the user's config directory, readable by the user
// alone.
package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portico-gw/portico/internal/adminclient"
)

// Exit codes of `portico ctl` (documented in the README).
const (
	ExitOK         = 0
	ExitFailure    = 1
	ExitUsage      = 2
	ExitDifference = 3 // diff found a difference
)

// ExitError carries the process exit code of a failed command.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

func usageErr(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// ExitCode maps an error of Command to the process exit code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "required flag", "invalid argument", "flag needs an argument"} {
		if strings.Contains(msg, p) {
			return ExitUsage
		}
	}
	return ExitFailure
}

// settings are what `login` keeps for the next commands.
type settings struct {
	Server string `json:"server"`
	Token  string `json:"token"`
}

// app is the state one invocation shares between its subcommands.
type app struct {
	configPath string
	server     string
	project    string
	output     string
	out        io.Writer
}

// Command returns `ctl` and its subcommands.
func Command() *cobra.Command {
	a := &app{}
	cmd := &cobra.Command{
		Use:   "ctl",
		Short: "Drive a Portico control plane from the command line (admin API)",
		Long: `portico ctl talks to the admin API of a Portico server.
Exit codes: 0 done, 1 error, 2 usage, 3 diff found a difference.`,
		Args: noArgs,
		RunE: needSubcommand,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			a.out = cmd.OutOrStdout()
			switch a.output {
			case "", "table", "json", "yaml":
			default:
				return usageErr("--output must be table, json or yaml")
			}
			return nil
		},
	}
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageErr("%v", err) })
	pf := cmd.PersistentFlags()
	pf.StringVar(&a.server, "server", os.Getenv("PORTICO_SERVER"), "admin address, e.g. http://localhost:9180 (env PORTICO_SERVER; default: the one of the last login)")
	pf.StringVarP(&a.project, "project", "p", envOr("PORTICO_PROJECT", "default"), "project (env PORTICO_PROJECT)")
	pf.StringVarP(&a.output, "output", "o", "", "output: table, json or yaml (default: table for lists, yaml for one object)")
	pf.StringVar(&a.configPath, "config", os.Getenv("PORTICO_CONFIG"), "where login keeps the token (env PORTICO_CONFIG; default: the user config dir)")
	cmd.AddCommand(a.loginCmd(), a.listCmd(), a.getCmd(), a.publishCmd(), a.unpublishCmd(), a.syncVersionCmd(), a.rollbackCmd(),
		a.lifecycleCmd(), a.canaryCmd(), a.importCmd(), a.exportCmd(), a.dumpCmd(), a.diffCmd(), a.syncCmd(),
		a.usersCmd(), a.tokensCmd(), a.membersCmd(), a.packagesCmd())
	cmd.AddCommand(a.marketCmds()...)
	cmd.AddCommand(a.diffVersionCmd(), a.restoreVersionCmd(), a.dependenciesCmd())
	return cmd
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (a *app) settingsPath() (string, error) {
	if a.configPath != "" {
		return a.configPath, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the config directory (set --config): %w", err)
	}
	return filepath.Join(dir, "portico", "ctl.json"), nil
}

func (a *app) load() (settings, error) {
	var s settings
	p, err := a.settingsPath()
	if err != nil {
		return s, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("read %s: %w", p, err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("read %s: %w", p, err)
	}
	return s, nil
}

// save writes the settings readable by the user alone: the token is a
// credential.
func (a *app) save(s settings) error {
	p, err := a.settingsPath()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(p), err)
	}
	b, _ := json.MarshalIndent(s, "", "  ")
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// client is an admin client logged in as the last login (or
// PORTICO_TOKEN).
func (a *app) client() (*adminclient.Client, error) {
	s, err := a.load()
	if err != nil {
		return nil, err
	}
	server := a.server
	if server == "" {
		server = s.Server
	}
	if server == "" {
		server = "http://localhost:9180"
	}
	token := os.Getenv("PORTICO_TOKEN")
	if token == "" && (a.server == "" || a.server == s.Server) {
		token = s.Token
	}
	if token == "" {
		return nil, fmt.Errorf("not logged in to %s: run `portico ctl login` (or set PORTICO_TOKEN)", server)
	}
	return adminclient.New(server, token), nil
}

func (a *app) loginCmd() *cobra.Command {
	var username, password, token string
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in and keep the token for the next commands: a personal access token (--token, PORTICO_TOKEN), or a username and password (--password, PORTICO_PASSWORD or stdin)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			server := a.server
			if server == "" {
				// Logging in again goes to the server of the last login.
				if s, err := a.load(); err == nil {
					server = s.Server
				}
			}
			if server == "" {
				server = "http://localhost:9180"
			}
			named := cmd.Flags().Changed("username") || password != ""
			if token != "" && named {
				return usageErr("give --token, or --username and --password, not both")
			}
			// PORTICO_TOKEN counts only when no user was named: a script
			// that exports it for every command may still log in by name.
			if token == "" && !named {
				token = os.Getenv("PORTICO_TOKEN")
			}
			if token != "" {
				return a.loginWithToken(cmd, server, token)
			}
			if password == "" {
				password = os.Getenv("PORTICO_PASSWORD")
			}
			if password == "" {
				b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 4096))
				if err != nil {
					return err
				}
				password = strings.TrimSpace(string(b))
			}
			if password == "" {
				return usageErr("no password: give --password, PORTICO_PASSWORD or pipe it on stdin (or log in with --token)")
			}
			c := adminclient.New(server, "")
			tok, err := c.Login(cmd.Context(), username, password)
			if err != nil {
				return err
			}
			if err := a.save(settings{Server: server, Token: tok}); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "logged in to %s as %s\n", server, username)
			return nil
		},
	}
	cmd.Flags().StringVarP(&username, "username", "u", "admin", "user name")
	cmd.Flags().StringVar(&password, "password", "", "password (prefer PORTICO_PASSWORD or stdin: flags show in ps)")
	cmd.Flags().StringVar(&token, "token", "", "a personal access token (pat_…; - reads it from stdin; or PORTICO_TOKEN), kept instead of a login's")
	return cmd
}

// loginWithToken checks a personal access token with GET /me and keeps it
// as a password login's token is kept: the next commands send it.
func (a *app) loginWithToken(cmd *cobra.Command, server, token string) error {
	token, err := secretArg(cmd, token)
	if err != nil {
		return err
	}
	if token == "" {
		return usageErr("--token -: nothing on stdin")
	}
	me, err := adminclient.New(server, token).Me(cmd.Context())
	if err != nil {
		return fmt.Errorf("log in with a token: %w", err)
	}
	if err := a.save(settings{Server: server, Token: token}); err != nil {
		return err
	}
	fmt.Fprintf(a.out, "logged in to %s as %s with a token of scope %s\n", server, me.Username, me.Scope)
	return nil
}

// noArgs and nArgs are cobra argument checks whose errors exit 2.
func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("unexpected argument %q", args[0])
	}
	return nil
}

func nArgs(names ...string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != len(names) {
			return usageErr("want %d argument(s): %s", len(names), strings.Join(names, " "))
		}
		return nil
	}
}

// needSubcommand is the RunE of a command that only groups others: called
// alone or with an unknown subcommand, it is a usage error (exit 2).
func needSubcommand(cmd *cobra.Command, _ []string) error {
	return usageErr("%s needs a subcommand; see %s --help", cmd.CommandPath(), cmd.CommandPath())
}
