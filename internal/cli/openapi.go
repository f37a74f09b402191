package cli

import (
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

func (a *app) importCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "import", Short: "Import definitions into a project", Args: noArgs, RunE: needSubcommand}
	var dryRun, mock bool
	openapi := &cobra.Command{
		Use:   "openapi FILE",
		Short: "Create or update a service from an OpenAPI 3.x or Swagger 2.0 document (JSON or YAML; - for stdin)",
		Args:  nArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := readFileArg(cmd, args[0])
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			q := url.Values{}
			if dryRun {
				q.Set("dry_run", "true")
			}
			if mock {
				q.Set("mock", "true")
			}
			var out map[string]any
			err = c.Do(cmd.Context(), adminclientRequest(http.MethodPost, "/projects/"+url.PathEscape(a.project)+"/services/import", q, doc, &out))
			if err != nil {
				return err
			}
			return a.printObject(out)
		},
	}
	openapi.Flags().BoolVar(&dryRun, "dry-run", false, "show what would be created, changed and removed")
	openapi.Flags().BoolVar(&mock, "mock", false, "answer from the document's response examples (mock backends)")
	cmd.AddCommand(openapi)
	return cmd
}

func (a *app) exportCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "export", Short: "Export definitions", Args: noArgs, RunE: needSubcommand}
	var format, version string
	openapi := &cobra.Command{
		Use:   "openapi SERVICE",
		Short: "Print the service's description file (OpenAPI 3.1)",
		Args:  nArgs("SERVICE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			path := a.servicePath(args[0]) + "/openapi"
			if version != "" {
				path = a.servicePath(args[0]) + "/versions/" + url.PathEscape(version) + "/openapi"
			}
			var raw []byte
			req := adminclientRequest(http.MethodGet, path, url.Values{"format": {format}}, nil, nil)
			req.RawOut = &raw
			if err := c.Do(cmd.Context(), req); err != nil {
				return err
			}
			_, err = a.out.Write(raw)
			return err
		},
	}
	openapi.Flags().StringVar(&format, "format", "yaml", "json or yaml")
	openapi.Flags().StringVar(&version, "version", "", "a published version instead of the template")
	cmd.AddCommand(openapi)
	return cmd
}
