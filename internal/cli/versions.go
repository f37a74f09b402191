package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/portico-gw/portico/internal/adminclient"
	"github.com/portico-gw/portico/internal/spec"
)

func (a *app) diffVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "diff-version SERVICE FROM [TO]",
		Short: "Show what changes field by field from one version of a service to another, or to the template (TO left out or \"template\"; FROM may be \"template\" too); exits 3 when something differs",
		Long: `Show what changes field by field from version FROM of SERVICE to version TO,
or to the service template when TO is left out or "template". Routes are
matched by name, plugins by name and upstream nodes by host:port; ids,
timestamps and the lifecycle state are left out. One line per change:

  + PATH: VALUE          added
  - PATH: VALUE          removed
  ~ PATH: FROM → TO      changed

-o json or -o yaml prints the admin API's answer. Exits 3 when something
differs, like diff.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 || len(args) > 3 {
				return usageErr("want 2 or 3 arguments: SERVICE FROM [TO]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			to := ""
			if len(args) == 3 {
				to = args[2]
			}
			d, err := c.DiffService(cmd.Context(), a.project, args[0], args[1], to)
			if err != nil {
				return err
			}
			switch a.output {
			case "json":
				err = printJSON(a.out, d)
			case "yaml":
				err = printYAML(a.out, d)
			default:
				err = printChanges(a.out, d.Changes)
			}
			if err != nil {
				return err
			}
			if len(d.Changes) > 0 {
				return &ExitError{Code: ExitDifference, Err: fmt.Errorf("%s %s → %s: %d difference(s)", args[0], d.From, d.To, len(d.Changes))}
			}
			return nil
		},
	}
}

func (a *app) restoreVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "restore-version SERVICE VERSION",
		Short: "Edit from a version: make the service template what VERSION holds (routes matched by name); nothing runs differently until the next publish",
		Args:  nArgs("SERVICE", "VERSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			s, err := c.RestoreVersion(cmd.Context(), a.project, args[0], args[1])
			if err != nil {
				return err
			}
			if a.output == "" {
				fmt.Fprintf(a.out, "the template of %s is now what version %s holds (%d route(s)); publish it to run it\n", s.Name, args[1], len(s.Routes))
				return nil
			}
			return a.printObject(s)
		},
	}
}

// maxShown bounds a value on a change's line: an added route with its
// OpenAPI operation is the whole route; -o json shows it whole.
const maxShown = 200

// printChanges writes one line per change: + added, - removed, ~ changed.
func printChanges(w io.Writer, changes []spec.FieldChange) error {
	if len(changes) == 0 {
		_, err := fmt.Fprintln(w, "no differences")
		return err
	}
	for _, c := range changes {
		var err error
		switch c.Op {
		case spec.ChangeAdded:
			_, err = fmt.Fprintf(w, "+ %s: %s\n", c.Path, shown(c.To))
		case spec.ChangeRemoved:
			_, err = fmt.Fprintf(w, "- %s: %s\n", c.Path, shown(c.From))
		default:
			_, err = fmt.Fprintf(w, "~ %s: %s → %s\n", c.Path, shown(c.From), shown(c.To))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// shown is a value as compact JSON, cut at maxShown bytes.
func shown(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) <= maxShown {
		return s
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// previewSync asks for a sync's dry run and prints what it would change
// in the target group: one line per change, or the answer with -o.
func (a *app) previewSync(cmd *cobra.Command, service string, body any) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	var out struct {
		Group   string             `json:"group"`
		Version string             `json:"version"`
		Changes []spec.FieldChange `json:"changes"`
	}
	var raw map[string]any
	if err := c.Do(cmd.Context(), adminclient.Request{Method: "POST", Path: a.servicePath(service) + "/sync",
		Query: url.Values{"dry_run": {"true"}}, Body: body, Out: &raw}); err != nil {
		return err
	}
	if a.output != "" {
		return a.printObject(raw)
	}
	b, _ := json.Marshal(raw)
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("read the dry run's answer: %w", err)
	}
	fmt.Fprintf(a.out, "dry run: %s would run version %s in %s; nothing was changed\n", service, out.Version, out.Group)
	return printChanges(a.out, out.Changes)
}
