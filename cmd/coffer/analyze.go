package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/coffer-io/coffer/internal/analyze"
	"github.com/coffer-io/coffer/internal/server"
)

type analyzeCmd struct {
	Data string `help:"Data directory to analyze offline, every account (refused while a server holds it). Ignored with --endpoint." default:"./coffer-data" env:"COFFER_DATA" type:"path"`
	JSON bool   `name:"json" help:"Print the report as JSON."`
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
		rep, err = server.AnalyzeDataDir(context.Background(), c.Data)
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
}
