package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"github.com/portico-gw/portico/internal/adminclient"
	"github.com/portico-gw/portico/internal/manifest"
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
	cmd.AddCommand(openapi, a.importPackageCmd(),
		a.migrateCmd("apisix", "Bring an APISIX standalone apisix.yaml (routes, services, upstreams, plugins) into the project", manifest.FromAPISIX),
		a.migrateCmd("kong", "Bring a Kong decK file (services, routes, upstreams, plugins) into the project", manifest.FromKong))
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
	cmd.AddCommand(openapi, a.exportPackageCmd())
	return cmd
}

func (a *app) exportPackageCmd() *cobra.Command {
	var file, name, description string
	cmd := &cobra.Command{
		Use:   "package -f FILE [--name NAME] [--description TEXT]",
		Short: "Save the project's services and upstreams as a package (zip) for another install",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client()
			if err != nil {
				return err
			}
			var raw []byte
			req := adminclient.Request{Method: http.MethodPost, Path: "/projects/" + url.PathEscape(a.project) + "/export", RawOut: &raw}
			if name != "" || description != "" {
				req.Body = map[string]string{"name": name, "description": description}
			}
			if err := c.Do(cmd.Context(), req); err != nil {
				return err
			}
			if err := os.WriteFile(file, raw, 0o644); err != nil {
				return fmt.Errorf("write %s: %w", file, err)
			}
			fmt.Fprintf(a.out, "wrote %s (%d bytes)\n", file, len(raw))
			return nil
		},
	}
	cmd.Flags().StringVarP(&file, "file", "f", "", "where to write the zip")
	cmd.Flags().StringVar(&name, "name", "", "the package's name: letters, digits, _ - . (default: the project and the day)")
	cmd.Flags().StringVar(&description, "description", "", "what the package is, shown where it is imported")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func (a *app) importPackageCmd() *cobra.Command {
	var mappings, dsMappings []string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "package FILE --upstream SOURCE:TARGET…",
		Short: "Import a package; every upstream its services use must be mapped to one of this project's",
		Args:  nArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			zip, err := readFileArg(cmd, args[0])
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			q := url.Values{"upstream": mappings, "data_source": dsMappings, "dry_run": {fmt.Sprint(dryRun)}}
			var res struct {
				Diff      string   `json:"diff"`
				Warnings  []string `json:"warnings"`
				PackageID string   `json:"package_id"`
			}
			req := adminclient.Request{Method: http.MethodPost, Path: "/projects/" + url.PathEscape(a.project) + "/import",
				Query: q, RawBody: zip, ContentType: "application/zip", Out: &res}
			if err := c.Do(cmd.Context(), req); err != nil {
				return withPackageHint(err)
			}
			if res.Diff == "" {
				res.Diff = "no changes\n"
			}
			fmt.Fprint(a.out, res.Diff)
			for _, w := range res.Warnings {
				fmt.Fprintln(a.out, "warning:", w)
			}
			if res.PackageID != "" {
				fmt.Fprintf(a.out, "package %s published\n", res.PackageID)
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&mappings, "upstream", nil, "SOURCE:TARGET: the package's upstream SOURCE is this project's TARGET (repeatable)")
	cmd.Flags().StringArrayVar(&dsMappings, "data-source", nil, "SOURCE:TARGET: the package's data source SOURCE is this project's TARGET (repeatable)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only show what would change")
	return cmd
}
