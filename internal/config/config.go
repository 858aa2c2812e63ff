// Package config loads Coffer's configuration file and merges it with
// flags and COFFER_* environment variables. Precedence, highest first:
// command-line flags, environment variables, the configuration file,
// built-in defaults. Unknown keys in the file are fatal, so a misspelt
// security setting can never be silently ignored.
package config

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/alecthomas/kong"
)

// File is a parsed configuration file: flag names (as on the command line,
// without dashes) to values.
type File struct {
	Path   string
	Values map[string]any
}

// Load reads a TOML configuration file.
func Load(path string) (*File, error) {
	var m map[string]any
	md, err := toml.DecodeFile(path, &m)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	_ = md
	return &File{Path: path, Values: m}, nil
}

// FindPath returns the --config value from args, or COFFER_CONFIG.
func FindPath(args []string) string {
	for i, a := range args {
		if a == "--config" && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, "--config="); ok {
			return v
		}
	}
	return os.Getenv("COFFER_CONFIG")
}

// Resolver returns a kong resolver that supplies values from the file to
// flags not set on the command line or through their environment
// variables. Validate fails on keys that name no flag of the selected
// command.
func (f *File) Resolver() kong.Resolver { return &resolver{f: f} }

type resolver struct{ f *File }

func (r *resolver) Validate(app *kong.Application) error { return nil }

func (r *resolver) Resolve(ctx *kong.Context, parent *kong.Path, flag *kong.Flag) (any, error) {
	if err := r.checkKeys(ctx); err != nil {
		return nil, err
	}
	for _, e := range flag.Envs {
		if _, ok := os.LookupEnv(e); ok {
			return nil, nil
		}
	}
	v, ok := r.f.Values[flag.Name]
	if !ok {
		return nil, nil
	}
	if list, ok := v.([]any); ok {
		parts := make([]string, len(list))
		for i, x := range list {
			parts[i] = fmt.Sprint(x)
		}
		return strings.Join(parts, ","), nil
	}
	return v, nil
}

// checkKeys rejects keys that are not flags of the selected command.
func (r *resolver) checkKeys(ctx *kong.Context) error {
	known := map[string]bool{}
	for _, fl := range ctx.Flags() {
		known[fl.Name] = true
	}
	var unknown []string
	for k := range r.f.Values {
		if !known[k] || k == "config" || k == "help" {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("config %s: unknown keys: %s", r.f.Path, strings.Join(unknown, ", "))
	}
	return nil
}
