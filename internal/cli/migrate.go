package cli

import (
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/portico-gw/portico/internal/adminclient"
	"github.com/portico-gw/portico/internal/manifest"
)

// migrateCmd is `import apisix FILE` / `import kong FILE`: the other
// gateway's file is converted here, every part that did not carry over is
// reported, and the result is synced like `ctl sync` (without prune).
func (a *app) migrateCmd(kind, short string, convert func([]byte, string) (manifest.Migration, error)) *cobra.Command {
	var dryRun bool
	cmd := &cobra.Command{
		Use:   kind + " FILE",
		Short: short,
		Args:  nArgs("FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := readFileArg(cmd, args[0])
			if err != nil {
				return err
			}
			mig, err := convert(b, a.project)
			if err != nil {
				return err
			}
			doc, err := manifest.Marshal(&mig.Document)
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var res struct {
				Diff    string `json:"diff"`
				Applied bool   `json:"applied"`
			}
			q := url.Values{"dry_run": {fmt.Sprint(dryRun)}}
			req := adminclient.Request{Method: http.MethodPut, Path: a.configPathOf(), Query: q, RawBody: doc, ContentType: "application/yaml", Out: &res}
			if err := c.Do(cmd.Context(), req); err != nil {
				return err
			}
			if res.Diff == "" {
				res.Diff = "no changes\n"
			}
			fmt.Fprint(a.out, res.Diff)
			if len(mig.Notes) > 0 {
				fmt.Fprintf(a.out, "\n%d thing(s) did not carry over as they were:\n", len(mig.Notes))
				for _, n := range mig.Notes {
					fmt.Fprintln(a.out, "  -", n)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only show what would change")
	return cmd
}
