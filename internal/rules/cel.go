package rules

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/google/cel-go/cel"

	"github.com/coffer-io/coffer/internal/configrec"
)

// Custom rules are CEL expressions over the configuration item, true for
// a compliant resource. The item is the variable "item", shaped as AWS
// Config's item with "configuration" and every supplementary
// configuration value decoded from their JSON strings, e.g.
//
//	item.supplementaryConfiguration.BucketVersioningConfiguration.status == "Enabled"
//
// CEL programs cannot loop unboundedly or call out; a cost limit bounds
// each evaluation.

// CELRuntime is the PolicyRuntime of a custom rule written in CEL.
const CELRuntime = "cel"

const celCostLimit = 100000

var (
	celEnvOnce sync.Once
	celEnv     *cel.Env
	celEnvErr  error
	celCache   sync.Map // expression → cel.Program
)

func env() (*cel.Env, error) {
	celEnvOnce.Do(func() {
		celEnv, celEnvErr = cel.NewEnv(cel.Variable("item", cel.MapType(cel.StringType, cel.DynType)))
	})
	return celEnv, celEnvErr
}

// CompileCEL checks a custom rule's expression.
func CompileCEL(expr string) (cel.Program, error) {
	if p, ok := celCache.Load(expr); ok {
		return p.(cel.Program), nil
	}
	e, err := env()
	if err != nil {
		return nil, err
	}
	ast, iss := e.Compile(expr)
	if iss != nil && iss.Err() != nil {
		return nil, iss.Err()
	}
	if t := ast.OutputType(); t != cel.BoolType && t != cel.DynType {
		return nil, fmt.Errorf("the expression must be a boolean, not %s", t)
	}
	prg, err := e.Program(ast, cel.CostLimit(celCostLimit))
	if err != nil {
		return nil, err
	}
	celCache.Store(expr, prg)
	return prg, nil
}

// itemValue renders an item for CEL.
func itemValue(it *configrec.Item) map[string]any {
	raw, _ := json.Marshal(it)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	var conf any
	if json.Unmarshal([]byte(it.Configuration), &conf) == nil {
		m["configuration"] = conf
	}
	sup := map[string]any{}
	for k, v := range it.SupplementaryConfiguration {
		var x any
		if json.Unmarshal([]byte(v), &x) != nil {
			x = v
		}
		if s, ok := x.(string); ok && k == configrec.SupACL {
			// AWS Config encodes the ACL twice.
			var y any
			if json.Unmarshal([]byte(s), &y) == nil {
				x = y
			}
		}
		sup[k] = x
	}
	m["supplementaryConfiguration"] = sup
	if m["tags"] == nil {
		m["tags"] = map[string]any{}
	}
	return m
}

// evalCEL evaluates a custom rule; an expression that fails on an item
// (a missing field, a wrong type) makes the resource NON_COMPLIANT with
// the reason, so a broken rule cannot pass silently.
func evalCEL(expr string, it *configrec.Item) (string, string) {
	prg, err := CompileCEL(expr)
	if err != nil {
		return NonCompliant, "The rule's expression does not compile."
	}
	out, _, err := prg.Eval(map[string]any{"item": itemValue(it)})
	if err != nil {
		return NonCompliant, "The rule's expression failed: " + err.Error()
	}
	b, ok := out.Value().(bool)
	if !ok {
		return NonCompliant, "The rule's expression did not return a boolean."
	}
	if b {
		return Compliant, ""
	}
	return NonCompliant, "The configuration does not satisfy the rule's expression."
}
