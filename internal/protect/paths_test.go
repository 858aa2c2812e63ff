package protect

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// removalPrimitives are the calls through which code can remove or
// replace an object version, or delete stored data: the metadata store's
// writes, the object service's delete, and the blob store's deletes.
var removalPrimitives = []string{
	"DeleteObject", "DeleteBucket", "PutObject", "CompleteUpload", "UpdateObject",
	"Delete", "RemoveTemp", "remove", "removeNull",
}

// TestRemovalPathsAreListed walks the module's code and finds every call
// of a removal primitive. Each must be a listed Path (so a new way to
// remove data cannot appear without someone deciding how protect guards
// it), and every listed Path must still exist.
func TestRemovalPathsAreListed(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	found := map[Path]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || strings.HasPrefix(rel, "test/") || strings.HasPrefix(rel, "scripts/") ||
				strings.HasSuffix(rel, "metatest") || strings.HasSuffix(rel, "blobtest") || strings.HasSuffix(rel, "iamtest") ||
				strings.HasSuffix(rel, "storetest") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			return err
		}
		dir := filepath.ToSlash(filepath.Dir(rel))
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok || !slices.Contains(removalPrimitives, sel.Sel.Name) {
					return true
				}
				// slices.Delete and maps.DeleteFunc edit values in memory;
				// they remove nothing stored.
				if pkg, ok := sel.X.(*ast.Ident); ok && (pkg.Name == "slices" || pkg.Name == "maps") {
					return true
				}
				found[Path{Caller: dir + "." + fn.Name.Name, Call: sel.Sel.Name}] = true
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	listed := map[Path]bool{}
	for _, p := range Paths {
		listed[Path{Caller: p.Caller, Call: p.Call}] = true
		if p.Guard == "" {
			t.Errorf("path %s → %s says nothing about its guard", p.Caller, p.Call)
		}
	}
	for p := range found {
		if !listed[p] {
			t.Errorf("unlisted removal path: %s calls %s; add it to protect.Paths with how protect guards it", p.Caller, p.Call)
		}
	}
	for p := range listed {
		if !found[p] {
			t.Errorf("protect.Paths lists %s → %s, which no longer exists", p.Caller, p.Call)
		}
	}
}

// TestVersionIndexDeletes: inside the bolt store, keys of the version
// indexes (ver, vid, dat) are deleted only by objBucket.remove, the
// function that asks CheckRemoval first.
func TestVersionIndexDeletes(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "storage", "meta", "bolt")
	fset := token.NewFileSet()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		{
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				ast.Inspect(fn.Body, func(n ast.Node) bool {
					call, ok := n.(*ast.CallExpr)
					if !ok || len(call.Args) == 0 {
						return true
					}
					sel, ok := call.Fun.(*ast.SelectorExpr)
					if !ok || sel.Sel.Name != "del" {
						return true
					}
					arg, ok := call.Args[0].(*ast.SelectorExpr)
					if !ok || !slices.Contains([]string{"ver", "vid", "dat"}, arg.Sel.Name) {
						return true
					}
					calls++
					if fn.Name.Name != "remove" {
						t.Errorf("%s deletes from the %s index outside remove", fset.Position(call.Pos()), arg.Sel.Name)
					}
					return true
				})
			}
		}
	}
	if calls == 0 {
		t.Fatal("found no version index deletes at all; the check is looking in the wrong place")
	}
}
