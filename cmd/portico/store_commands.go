package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/portico-gw/portico/internal/store"
)

// storeCommand is a command on a control plane's store, named by the
// flags `portico server` takes (and the same environment variables):
// --data-dir, --store. With open, run gets the store opened (its schema
// brought up to date); otherwise only its location. flags adds the
// command's own.
func storeCommand(use, short string, open bool, flags func(*pflag.FlagSet),
	run func(cmd *cobra.Command, l store.Location, st *store.SQL) error) *cobra.Command {
	var l store.Location
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), envPrefix); err != nil {
				return err
			}
			if !open {
				return run(cmd, l, nil)
			}
			st, err := store.Open(cmd.Context(), l, nil)
			if err != nil {
				return err
			}
			defer st.Close()
			return run(cmd, l, st)
		},
	}
	f := cmd.Flags()
	f.StringVar(&l.Dir, "data-dir", "./portico-data", "directory of the embedded store")
	f.StringVar(&l.URL, "store", "", "store URL: postgres://user@host:5432/db for PostgreSQL; empty: the embedded SQLite store in --data-dir")
	if flags != nil {
		flags(f)
	}
	annotateEnv(f, envPrefix)
	return cmd
}

func migrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Bring a control plane's store schema up to date, or show its migrations (before a rolling upgrade)",
	}
	up := storeCommand("up", "Apply the migrations the store lacks (as a starting server would, under the same lock)", true, nil,
		func(cmd *cobra.Command, l store.Location, st *store.SQL) error {
			v, err := st.SchemaVersion(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: schema at version %d\n", l, v)
			return nil
		})
	status := storeCommand("status", "List the migrations and which the store has, applying none", false, nil,
		func(cmd *cobra.Command, l store.Location, _ *store.SQL) error {
			ms, err := store.Migrations(cmd.Context(), l)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "VERSION\tMIGRATION\tAPPLIED")
			pending := 0
			for _, m := range ms {
				at := "pending"
				if m.Applied {
					at = m.AppliedAt.UTC().Format("2006-01-02 15:04:05Z")
				} else {
					pending++
				}
				fmt.Fprintf(w, "%d\t%s\t%s\n", m.Version, m.Name, at)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d pending\n", pending)
			return nil
		})
	cmd.AddCommand(up, status)
	return cmd
}

func backupCmd() *cobra.Command {
	var out string
	return storeCommand("backup", "Write a control plane's whole state (SQLite or PostgreSQL) to a file, while it runs", true,
		func(f *pflag.FlagSet) {
			f.StringVarP(&out, "out", "o", "portico-backup.jsonl.gz", "the backup file; - for standard output")
		},
		func(cmd *cobra.Command, l store.Location, st *store.SQL) error {
			if out == "-" {
				return st.Backup(cmd.Context(), cmd.OutOrStdout())
			}
			// Written beside, then renamed: a failed backup never leaves a
			// file that looks whole.
			tmp, err := os.CreateTemp(filepath.Dir(out), ".portico-backup-*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			if err := st.Backup(cmd.Context(), tmp); err != nil {
				_ = tmp.Close()
				return err
			}
			if err := tmp.Sync(); err != nil {
				_ = tmp.Close()
				return err
			}
			if err := tmp.Close(); err != nil {
				return err
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "backup of %s written to %s\n", l, out)
			return nil
		})
}

func restoreCmd() *cobra.Command {
	var in string
	return storeCommand("restore", "Fill a new store (a new data directory or database, before any server starts on it) from a backup", true,
		func(f *pflag.FlagSet) {
			f.StringVarP(&in, "in", "i", "portico-backup.jsonl.gz", "the backup file; - for standard input")
		},
		func(cmd *cobra.Command, l store.Location, st *store.SQL) error {
			var r io.Reader = cmd.InOrStdin()
			if in != "-" {
				f, err := os.Open(in)
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			if err := st.Restore(cmd.Context(), r); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s restored from %s\n", l, in)
			return nil
		})
}
