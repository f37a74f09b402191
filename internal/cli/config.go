package cli

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/portico-gw/portico/internal/adminclient"
	"github.com/portico-gw/portico/internal/manifest"
)

func (a *app) configPathOf() string { return "/projects/" + url.PathEscape(a.project) + "/config" }

func (a *app) dumpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "dump",
		Short: "Print the project's declarative configuration (YAML, stable order: commit it to git)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			q := url.Values{}
			if a.output == "json" {
				q.Set("format", "json")
			}
			var raw []byte
			if err := c.Do(cmd.Context(), adminclient.Request{Method: http.MethodGet, Path: a.configPathOf(), Query: q, RawOut: &raw}); err != nil {
				return err
			}
			_, err = a.out.Write(raw)
			return err
		},
	}
}

// applyConfig sends FILE to PUT …/config and prints the plan.
func (a *app) applyConfig(cmd *cobra.Command, file string, dryRun, prune bool) (manifest.Plan, error) {
	var res struct {
		manifest.Plan
		Diff    string `json:"diff"`
		Applied bool   `json:"applied"`
	}
	doc, err := readFileArg(cmd, file)
	if err != nil {
		return res.Plan, err
	}
	c, err := a.client()
	if err != nil {
		return res.Plan, err
	}
	q := url.Values{"dry_run": {fmt.Sprint(dryRun)}, "prune": {fmt.Sprint(prune)}}
	req := adminclient.Request{Method: http.MethodPut, Path: a.configPathOf(), Query: q, RawBody: doc, ContentType: "application/yaml", Out: &res}
	if err := c.Do(cmd.Context(), req); err != nil {
		return res.Plan, err
	}
	switch {
	case a.output == "json" || a.output == "yaml":
		return res.Plan, a.printObject(res)
	case res.Plan.Empty():
		fmt.Fprintln(a.out, "no changes")
	default:
		fmt.Fprint(a.out, res.Diff)
		if res.Applied {
			fmt.Fprintf(a.out, "applied %d change(s)\n", len(res.Changes))
		}
	}
	return res.Plan, nil
}

func (a *app) diffCmd() *cobra.Command {
	var prune bool
	cmd := &cobra.Command{
		Use:   "diff FILE",
		Short: "Show what sync FILE would change; exits 3 when there is a difference (for CI pipelines)",
		Args:  nArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, err := a.applyConfig(cmd, args[0], true, prune)
			if err != nil {
				return err
			}
			if !plan.Empty() {
				return &ExitError{Code: ExitDifference, Err: fmt.Errorf("%d difference(s)", len(plan.Changes))}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&prune, "prune", false, "count what the file does not name as removed")
	return cmd
}

func (a *app) syncCmd() *cobra.Command {
	var prune, dryRun bool
	cmd := &cobra.Command{
		Use:   "sync FILE",
		Short: "Make the project what FILE says, in one transaction",
		Args:  nArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := a.applyConfig(cmd, args[0], dryRun, prune)
			return err
		},
	}
	cmd.Flags().BoolVar(&prune, "prune", false, "remove services and upstreams the file does not name")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only show the plan")
	return cmd
}
