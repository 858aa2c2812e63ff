package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/coffer-io/coffer/internal/analyze"
	"github.com/coffer-io/coffer/internal/server"
)

type analyzeCmd struct {
	Data       string `help:"Data directory to analyze offline, every account (refused while a server holds it). Ignored with --endpoint." default:"./coffer-data" env:"COFFER_DATA" type:"path"`
	JSON       bool   `name:"json" help:"Print the report as JSON."`
	UnusedDays int    `name:"unused-days" help:"Report IAM roles, access keys and permissions not used for this many days (offline analysis; a server uses 90)." default:"90"`
	// UnusedWindow overrides --unused-days with any duration (tests).
	UnusedWindow time.Duration `name:"unused-window" hidden:""`
	remoteFlags
}

func (c *analyzeCmd) Run() error {
	var rep *analyze.Report
	var err error
	if c.Endpoint != "" {
		// Through a running server: the caller's own account.
		var raw []byte
		raw, err = c.call(http.MethodGet, "/_coffer/admin/v1/analysis", nil)
		if err == nil {
			rep = new(analyze.Report)
			err = json.Unmarshal(raw, rep)
		}
	} else {
		if c.UnusedDays < 1 || c.UnusedDays > 365 {
			return fmt.Errorf("--unused-days must be between 1 and 365")
		}
		window := time.Duration(c.UnusedDays) * 24 * time.Hour
		if c.UnusedWindow > 0 {
			window = c.UnusedWindow
		}
		rep, err = server.AnalyzeDataDir(context.Background(), c.Data, window)
	}
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(os.Stdout, rep)
	return nil
}

// printReport writes the analysis for people.
func printReport(w io.Writer, rep *analyze.Report) {
	fmt.Fprintf(w, "%d buckets analyzed, %d access findings, %d policy warnings\n", rep.Buckets, len(rep.Findings), len(rep.Warnings))
	for _, f := range rep.Findings {
		who := "everyone (public)"
		if f.Kind == "cross-account" {
			who = "accounts " + strings.Join(f.Accounts, ", ")
		}
		fmt.Fprintf(w, "\n%s: reachable by %s\n  through %s\n  actions %s\n", f.Bucket, who, strings.Join(f.Statements, ", "), strings.Join(f.Actions, ", "))
	}
	for _, wr := range rep.Warnings {
		fmt.Fprintf(w, "\n%s %s: %s\n", wr.Bucket, wr.Statement, wr.Problem)
		if wr.Suggestion != "" {
			fmt.Fprintf(w, "  consider: %s\n", wr.Suggestion)
		}
	}
	printUnused(w, rep)
}

// printUnused writes the unused-access findings.
func printUnused(w io.Writer, rep *analyze.Report) {
	if rep.UnusedWindow == "" {
		return
	}
	fmt.Fprintf(w, "\n%d unused access findings (not used within %s)\n", len(rep.Unused), rep.UnusedWindow)
	for _, f := range rep.Unused {
		last := "never used"
		if f.LastAccessed != nil {
			last = "last used " + f.LastAccessed.Format(time.RFC3339)
		}
		switch f.Type {
		case analyze.UnusedIAMRole:
			fmt.Fprintf(w, "\n%s: unused role (%s)\n", f.Principal, last)
		case analyze.UnusedIAMUserAccessKey:
			fmt.Fprintf(w, "\n%s: unused access key %s (%s)\n", f.Principal, f.AccessKeyID, last)
		default:
			fmt.Fprintf(w, "\n%s: unused %s permissions (%s)\n  actions %s\n", f.Principal, f.Service, last, strings.Join(f.Actions, ", "))
		}
	}
}
