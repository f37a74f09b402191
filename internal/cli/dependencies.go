package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/portico-gw/portico/internal/spec"
)

func (a *app) dependenciesCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "dependencies SERVICE",
		Short: "Show the service's place in the graph of composite APIs: the APIs its composite routes call (and the groups where they do not run), and the composite routes that call it",
		Long: `Show the service's place in the graph of composite APIs, in two tables:

  USES     the APIs (service/route) the service's composite routes call,
           the routes that call each, the groups where a running version
           calls it, and MISSING IN: the groups the service runs in where
           that API does not run (a publish there is refused)
  USED BY  the composite routes that call the service's routes: running
           ones with their group and version, and those of service
           templates (GROUP "template")

While a running composite calls it, the API cannot be unpublished,
withdrawn, disabled or published without that route; while any does,
the service cannot be deleted. -o json or -o yaml prints the admin API's
answer.`,
		Args: nArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			d, err := c.Dependencies(cmd.Context(), a.project, args[0])
			if err != nil {
				return err
			}
			switch a.output {
			case "json":
				return printJSON(a.out, d)
			case "yaml":
				return printYAML(a.out, d)
			}
			return printDependencies(a.out, &d)
		},
	}
}

// printDependencies writes the two tables of a service's dependencies.
func printDependencies(w io.Writer, d *spec.ServiceDependencies) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	dash := func(s []string) string {
		if len(s) == 0 {
			return "-"
		}
		return strings.Join(s, ",")
	}
	fmt.Fprintln(tw, "USES\tBY\tGROUPS\tMISSING IN")
	for _, u := range d.Uses {
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\n", u.Service, u.Route, dash(u.By), dash(u.Groups), dash(u.MissingIn))
	}
	fmt.Fprintln(tw, "\t\t\t")
	fmt.Fprintln(tw, "USED BY\tCALLS\tGROUP\tVERSION")
	for _, u := range d.UsedBy {
		group, version := u.Group, u.Version
		if u.Template {
			group, version = "template", "-"
		}
		fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\n", u.Service, u.Route, u.UsesRoute, group, version)
	}
	return tw.Flush()
}
