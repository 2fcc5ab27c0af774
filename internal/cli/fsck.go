package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/spf13/cobra"

	"github.com/cairn-s3/cairn/internal/server"
	"github.com/cairn-s3/cairn/internal/store/local"
)

// newFsckCmd is `cairn admin fsck`. Unlike the other admin subcommands it
// works offline, on the data directory: it is what an operator runs when
// the server refuses to start because its metadata is damaged.
func newFsckCmd(e env) *cobra.Command {
	var dataDir, format string
	var repair bool
	cmd := &cobra.Command{
		Use:   "fsck --data DIR [--repair]",
		Short: "Check a stopped server's data directory for damage, name what it loses, and with --repair make it start again",
		Long: `Check the data directory of a stopped server, offline: the metadata logs
(WAL and MANIFEST) for damage before their tail, every metadata table's
checksums, and the data files against the metadata. The report names the
objects the damage loses and the data files no metadata refers to.

With --repair, a WAL damaged in the middle is cut at the damage, as if the
server had crashed there, and what the cut removes (the rest of the log,
later logs, orphaned data files) is moved to lost+found inside the data
directory, so the server starts again and nothing is deleted. A damaged
MANIFEST or table cannot be repaired: restore from a backup.

Exit status: 0 when the store is healthy (or repaired), 1 when damage remains.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "json" && format != "text" {
				return fmt.Errorf("--format %q: want json or text", format)
			}
			rep, err := local.Fsck(dataDir, local.FsckOptions{Repair: repair})
			if err != nil {
				return err
			}
			if format == "json" {
				err = printFsckJSON(e.stdout, rep)
			} else {
				err = printFsckText(e.stdout, rep)
			}
			if err != nil {
				return err
			}
			if rep.Damaged {
				hint := "run again with --repair"
				if len(rep.Unrepairable) > 0 {
					hint = "it cannot be repaired in place; restore the data directory from a backup"
				}
				return &exitError{code: 1, err: fmt.Errorf("%s is damaged: %s", dataDir, hint)}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&dataDir, "data", e.get(EnvData, server.Default().DataDir), "data directory of the stopped server (env "+EnvData+")")
	fl.BoolVar(&repair, "repair", false, "cut damaged logs and move what is lost to lost+found, so the server starts")
	fl.StringVar(&format, "format", "json", "output format: json or text")
	return cmd
}

func printFsckJSON(w io.Writer, rep *local.FsckReport) error {
	b, err := json.MarshalIndent(rep, "", "    ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// printFsckText prints the report for a reader: damage first, then losses.
func printFsckText(w io.Writer, rep *local.FsckReport) error {
	var errs []error
	p := func(format string, args ...any) {
		_, err := fmt.Fprintf(w, format, args...)
		errs = append(errs, err)
	}
	for _, l := range rep.Logs {
		p("%s %s: %s (%d records, %d bytes)", l.Kind, l.File, l.Status, l.Records, l.Size)
		if l.StopOffset != nil {
			p(", readable up to offset %d: %s", *l.StopOffset, l.StopReason)
		}
		if l.IntactOffset != nil {
			p(", intact records again from offset %d", *l.IntactOffset)
		}
		p("\n")
	}
	for _, t := range rep.Tables {
		p("table %s: %s (%d keys)%s\n", t.File, t.Status, t.Keys, suffix(": ", t.Error))
	}
	for _, o := range rep.LostObjects {
		p("lost %s of %s/%s version %s (%d bytes) at %s offset %d\n", o.Change, o.Bucket, o.Key, o.VersionID, o.Size, o.Log, o.Offset)
	}
	for _, table := range slices.Sorted(maps.Keys(rep.LostOther)) {
		p("lost %d changes of %s\n", rep.LostOther[table], table)
	}
	if rep.UndecodableRecords > 0 {
		p("%d damaged records could not be decoded\n", rep.UndecodableRecords)
	}
	for _, o := range rep.OrphanedDataFiles {
		p("orphaned data file %s (%d bytes)%s%s\n", o.Path, o.Size, suffix(", was ", o.Object), suffix(", moved to ", o.MovedTo))
	}
	if rep.OrphansUnknown != "" {
		p("orphaned data files not checked: %s\n", rep.OrphansUnknown)
	}
	for _, r := range rep.Repairs {
		p("repaired: %s\n", r)
	}
	for _, u := range rep.Unrepairable {
		p("cannot repair: %s\n", u)
	}
	if !rep.Damaged {
		p("%s: no damage left; the server can start\n", rep.DataDir)
	}
	return errors.Join(errs...)
}

func suffix(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}
