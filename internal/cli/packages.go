package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/portico-gw/portico/internal/adminclient"
	"github.com/portico-gw/portico/internal/spec"
)

var packageCols = []column{{"ID", "id"}, {"NAME", "name"}, {"STATE", "state"}, {"SOURCE", "source_project"},
	{"SERVICES", "services"}, {"BY", "updated_by"}, {"UPDATED", "updated_at"}, {"REASON", "reason"}}

// packagesCmd lists, shows, retries and deletes the packages imported
// into the project (needs package:import).
func (a *app) packagesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "packages", Short: "List, show, retry and delete the packages imported into the project (needs package:import)", Args: noArgs, RunE: needSubcommand}
	var state string
	list := &cobra.Command{
		Use: "list", Short: "List the packages imported into the project, newest first, with their state and why a failed one was refused", Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			ps, err := c.Packages(cmd.Context(), a.project, state)
			if err != nil {
				return err
			}
			return a.printTyped(ps, packageCols)
		},
	}
	list.Flags().StringVar(&state, "state", "", "only packages in this state: pending, published or failed")
	get := &cobra.Command{
		Use: "get ID", Short: "Show an imported package: state, reason, field errors, what is unmapped, the mapping and what it changed", Args: nArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			p, err := c.Package(cmd.Context(), a.project, args[0])
			if err != nil {
				return err
			}
			return a.printObject(p)
		},
	}
	del := &cobra.Command{
		Use: "delete ID", Short: "Delete a package's record and its stored zip (what a published one changed stays)", Args: nArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			if err := c.DeletePackage(cmd.Context(), a.project, args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.out, "deleted package %s\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(list, get, a.retryPackageCmd(), del)
	return cmd
}

func (a *app) retryPackageCmd() *cobra.Command {
	var ups, dss []string
	cmd := &cobra.Command{
		Use:   "retry ID [--upstream SOURCE:TARGET…] [--data-source SOURCE:TARGET…]",
		Short: "Apply a pending or failed package again; the mapping given replaces the last attempt's (none: the last attempt's again)",
		Args:  nArgs("ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var mapping *spec.PackageMapping
			if len(ups) > 0 || len(dss) > 0 {
				mapping = &spec.PackageMapping{}
				var err error
				if mapping.Upstreams, err = pairs("--upstream", ups); err != nil {
					return err
				}
				if mapping.DataSources, err = pairs("--data-source", dss); err != nil {
					return err
				}
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			p, err := c.RetryPackage(cmd.Context(), a.project, args[0], mapping)
			if err != nil {
				return err
			}
			if a.output != "" {
				return a.printObject(p)
			}
			fmt.Fprintf(a.out, "package %s (%s) is %s\n", p.ID, p.Name, p.State)
			if p.Result != nil {
				diff := p.Result.Diff
				if diff == "" {
					diff = "no changes\n"
				}
				fmt.Fprint(a.out, diff)
				for _, w := range p.Result.Warnings {
					fmt.Fprintln(a.out, "warning:", w)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&ups, "upstream", nil, "SOURCE:TARGET: the package's upstream SOURCE is this project's TARGET (repeatable)")
	cmd.Flags().StringArrayVar(&dss, "data-source", nil, "SOURCE:TARGET: the package's data source SOURCE is this project's TARGET (repeatable)")
	return cmd
}

// pairs reads SOURCE:TARGET flag values into a map.
func pairs(flag string, vs []string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range vs {
		src, dst, ok := strings.Cut(v, ":")
		if !ok || src == "" || dst == "" {
			return nil, usageErr("%s must be SOURCE:TARGET, not %q", flag, v)
		}
		out[src] = dst
	}
	return out, nil
}

// withPackageHint adds to an import's or a retry's refusal the package
// it recorded failed and how to retry it.
func withPackageHint(err error) error {
	id := adminclient.RefusedPackage(err)
	if id == "" {
		return err
	}
	return fmt.Errorf("%w\npackage %s is recorded in the project; see it with `portico ctl packages get %s` and retry with `portico ctl packages retry %s --upstream SOURCE:TARGET…`", err, id, id, id)
}
