package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portico-gw/portico/internal/adminclient"
)

// asMaps turns typed answers into what printList shows, by their JSON.
func asMaps(v any) ([]map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	var out []map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return out, nil
}

func (a *app) printTyped(items any, cols []column) error {
	m, err := asMaps(items)
	if err != nil {
		return err
	}
	return a.printList(m, cols)
}

// secretArg reads a flag's value that is a secret: "-" reads it from
// stdin, so that it shows neither in ps nor in the shell's history.
func secretArg(cmd *cobra.Command, v string) (string, error) {
	if v != "-" {
		return v, nil
	}
	b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), 4096))
	if err != nil {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

var userCols = []column{{"USERNAME", "username"}, {"ROLE", "role"}, {"DISABLED", "disabled"}, {"SOURCE", "source"},
	{"PASSWORD SET", "password_set"}, {"LAST LOGIN", "last_login_at"}}

func (a *app) usersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "List, create, disable and enable users (needs user:read, user:manage)", Args: noArgs, RunE: needSubcommand}
	var search string
	list := &cobra.Command{
		Use: "list", Short: "List users", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			us, err := c.Users(cmd.Context(), search)
			if err != nil {
				return err
			}
			return a.printTyped(us, userCols)
		},
	}
	list.Flags().StringVarP(&search, "query", "q", "", "only users whose username, display name or email contains this")

	var nu adminclient.NewUser
	create := &cobra.Command{
		Use:   "create USERNAME",
		Short: "Create a user with --password (- reads stdin) or --invite (prints a one-time link to set one)",
		Args:  nArgs("USERNAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			nu.Username = args[0]
			pw, err := secretArg(cmd, nu.Password)
			if err != nil {
				return err
			}
			nu.Password = pw
			if nu.Password != "" && nu.Invite {
				return usageErr("give --password or --invite, not both")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			u, err := c.CreateUser(cmd.Context(), nu)
			if err != nil {
				return err
			}
			out, err := asObject(u.User)
			if err != nil {
				return err
			}
			if u.Invite != nil {
				// The console's page for the link, on the server this
				// client talks to: the token is shown this once.
				out["invite_link"] = c.Base + "/invite?" + url.Values{"token": {u.Invite.Token}}.Encode()
				out["invite_expires_at"] = u.Invite.ExpiresAt
			}
			return a.printObject(out)
		},
	}
	f := create.Flags()
	f.StringVar(&nu.Role, "role", "user", "system role: user or super_admin (project roles are given with `members set`)")
	f.StringVar(&nu.DisplayName, "display-name", "", "display name")
	f.StringVar(&nu.Email, "email", "", "email address")
	f.StringVar(&nu.Password, "password", "", "password; - reads it from stdin (flags show in ps)")
	f.BoolVar(&nu.Invite, "invite", false, "make a one-time invitation link (valid 7 days) the user opens to choose a password")

	setDisabled := func(use, short string, disabled bool) *cobra.Command {
		return &cobra.Command{
			Use: use + " USERNAME", Short: short, Args: nArgs("USERNAME"),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := a.client()
				if err != nil {
					return err
				}
				u, err := c.SetUserDisabled(cmd.Context(), args[0], disabled)
				if err != nil {
					return err
				}
				if a.output == "json" || a.output == "yaml" {
					return a.printObject(u)
				}
				fmt.Fprintf(a.out, "%sd %s\n", use, u.Username)
				return nil
			},
		}
	}
	cmd.AddCommand(list, create, setDisabled("disable", "Disable a user: their sessions end and their tokens are refused at once", true),
		setDisabled("enable", "Enable a disabled user again", false))
	return cmd
}

func asObject(v any) (map[string]any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return out, nil
}

var tokenCols = []column{{"ID", "id"}, {"NAME", "name"}, {"SCOPE", "scope"}, {"EXPIRES", "expires_at"}, {"LAST USED", "last_used_at"}, {"CREATED", "created_at"}}

func (a *app) tokensCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tokens", Short: "Your personal access tokens: list, create, revoke", Args: noArgs, RunE: needSubcommand}
	list := &cobra.Command{
		Use: "list", Short: "List your tokens (never their text)", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			ts, err := c.Tokens(cmd.Context())
			if err != nil {
				return err
			}
			return a.printTyped(ts, tokenCols)
		},
	}
	var scope string
	var days int
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Make a token and print it (shown this once): for scripts and `login --token`",
		Args:  nArgs("NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			t, err := c.CreateToken(cmd.Context(), args[0], scope, days)
			if err != nil {
				return err
			}
			if a.output == "json" || a.output == "yaml" {
				return a.printObject(t)
			}
			// The text alone on stdout, so that T=$(portico ctl tokens
			// create …) keeps it; what it is goes to stderr.
			fmt.Fprintln(a.out, t.Token)
			fmt.Fprintf(cmd.ErrOrStderr(), "token %q (scope %s) expires %s; it is shown only this once\n",
				t.Name, t.Scope, t.ExpiresAt.Format("2006-01-02"))
			return nil
		},
	}
	create.Flags().StringVar(&scope, "scope", "read", "read (may only read) or full (may do what you may)")
	create.Flags().IntVar(&days, "expires-in-days", 0, "1 to 366 (default: the server's, 90)")
	revoke := &cobra.Command{
		Use: "revoke ID|NAME", Short: "Revoke one of your tokens: it is refused from its next request on", Args: nArgs("ID|NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			ts, err := c.Tokens(cmd.Context())
			if err != nil {
				return err
			}
			id := args[0]
			for _, t := range ts {
				if t.Name == args[0] {
					id = t.ID
				}
			}
			if err := c.RevokeToken(cmd.Context(), id); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "revoked %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(list, create, revoke)
	return cmd
}

var memberCols = []column{{"USERNAME", "username"}, {"ROLE", "role"}, {"UPDATED", "updated_at"}}

func (a *app) membersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "members", Short: "The project's members (-p): list, set a role, remove", Args: noArgs, RunE: needSubcommand}
	list := &cobra.Command{
		Use: "list", Short: "List the project's members with their roles", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			ms, err := c.Members(cmd.Context(), a.project)
			if err != nil {
				return err
			}
			return a.printTyped(ms, memberCols)
		},
	}
	set := &cobra.Command{
		Use:   "set USERNAME ROLE",
		Short: "Give a user a role in the project (project_admin, api_provider, developer, viewer or a custom role), adding them if need be",
		Args:  nArgs("USERNAME", "ROLE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			m, err := c.SetMember(cmd.Context(), a.project, args[0], args[1])
			if err != nil {
				return err
			}
			if a.output == "json" || a.output == "yaml" {
				return a.printObject(m)
			}
			fmt.Fprintf(a.out, "%s is %s of %s\n", m.Username, m.Role, a.project)
			return nil
		},
	}
	remove := &cobra.Command{
		Use: "remove USERNAME", Short: "Take a user out of the project", Args: nArgs("USERNAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.RemoveMember(cmd.Context(), a.project, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "removed %s from %s\n", args[0], a.project)
			return nil
		},
	}
	cmd.AddCommand(list, set, remove)
	return cmd
}
