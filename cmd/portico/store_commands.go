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

// storeFlags are the flags naming a control plane's store, as `portico
// server` takes them (and from the same environment variables).
func storeFlags(f *pflag.FlagSet, l *store.Location) {
	f.StringVar(&l.Dir, "data-dir", "./portico-data", "directory of the embedded store")
	f.StringVar(&l.URL, "store", "", "store URL: postgres://user@host:5432/db for PostgreSQL; empty: the embedded SQLite store in --data-dir")
}

func migrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Bring a control plane's store schema up to date, or show its migrations (before a rolling upgrade)",
	}
	var l store.Location
	up := &cobra.Command{
		Use:   "up",
		Short: "Apply the migrations the store lacks (as a starting server would, under the same lock)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), envPrefix); err != nil {
				return err
			}
			st, err := store.Open(cmd.Context(), l, nil)
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := st.SchemaVersion(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: schema at version %d\n", l, v)
			return nil
		},
	}
	status := &cobra.Command{
		Use:   "status",
		Short: "List the migrations and which the store has, applying none",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), envPrefix); err != nil {
				return err
			}
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
		},
	}
	for _, c := range []*cobra.Command{up, status} {
		storeFlags(c.Flags(), &l)
		annotateEnv(c.Flags(), envPrefix)
	}
	cmd.AddCommand(up, status)
	return cmd
}

func backupCmd() *cobra.Command {
	var (
		l   store.Location
		out string
	)
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Write a control plane's whole state (SQLite or PostgreSQL) to a file, while it runs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), envPrefix); err != nil {
				return err
			}
			st, err := store.Open(cmd.Context(), l, nil)
			if err != nil {
				return err
			}
			defer st.Close()
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
		},
	}
	storeFlags(cmd.Flags(), &l)
	cmd.Flags().StringVarP(&out, "out", "o", "portico-backup.jsonl.gz", "the backup file; - for standard output")
	annotateEnv(cmd.Flags(), envPrefix)
	return cmd
}

func restoreCmd() *cobra.Command {
	var (
		l  store.Location
		in string
	)
	cmd := &cobra.Command{
		Use:   "restore",
		Short: "Fill a new store (a new data directory or database, before any server starts on it) from a backup",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyEnv(cmd.Flags(), envPrefix); err != nil {
				return err
			}
			var r io.Reader = cmd.InOrStdin()
			if in != "-" {
				f, err := os.Open(in)
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			st, err := store.Open(cmd.Context(), l, nil)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := st.Restore(cmd.Context(), r); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "%s restored from %s\n", l, in)
			return nil
		},
	}
	storeFlags(cmd.Flags(), &l)
	cmd.Flags().StringVarP(&in, "in", "i", "portico-backup.jsonl.gz", "the backup file; - for standard input")
	annotateEnv(cmd.Flags(), envPrefix)
	return cmd
}
