package configapi

import (
	"encoding/json"
	"errors"
	"regexp"
	"sort"
	"strconv"

	"github.com/coffer-io/coffer/internal/rules"
)

func init() {
	ops["PutConfigRule"] = (*Handler).putRule
	ops["DescribeConfigRules"] = (*Handler).describeRules
	ops["DeleteConfigRule"] = (*Handler).deleteRule
	ops["StartConfigRulesEvaluation"] = (*Handler).startEvaluation
	ops["DescribeComplianceByConfigRule"] = (*Handler).complianceByRule
	ops["GetComplianceDetailsByConfigRule"] = (*Handler).complianceDetails
	ops["DescribeComplianceByResource"] = (*Handler).complianceByResource
	ops["DescribeConfigRuleEvaluationStatus"] = (*Handler).evaluationStatus
	ops["PutConformancePack"] = (*Handler).putPack
	ops["DescribeConformancePacks"] = (*Handler).describePacks
	ops["DeleteConformancePack"] = (*Handler).deletePack
	// Coffer's own: a rule's compliance changes over time.
	ops["GetComplianceHistory"] = (*Handler).complianceHistory
}

var ruleName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`) // AWS: .*\S.* up to 128; Coffer keeps names path-safe

type scopeJSON struct {
	ComplianceResourceTypes []string `json:"ComplianceResourceTypes,omitempty"`
	ComplianceResourceID    string   `json:"ComplianceResourceId,omitempty"`
	TagKey                  string   `json:"TagKey,omitempty"`
	TagValue                string   `json:"TagValue,omitempty"`
}

type sourceJSON struct {
	Owner               string `json:"Owner"`
	SourceIdentifier    string `json:"SourceIdentifier,omitempty"`
	SourceDetails       []any  `json:"SourceDetails,omitempty"`
	CustomPolicyDetails *struct {
		PolicyRuntime          string `json:"PolicyRuntime"`
		PolicyText             string `json:"PolicyText"`
		EnableDebugLogDelivery bool   `json:"EnableDebugLogDelivery,omitempty"`
	} `json:"CustomPolicyDetails,omitempty"`
}

type ruleJSON struct {
	ConfigRuleName            string     `json:"ConfigRuleName"`
	ConfigRuleArn             string     `json:"ConfigRuleArn,omitempty"`
	ConfigRuleID              string     `json:"ConfigRuleId,omitempty"`
	Description               string     `json:"Description,omitempty"`
	Scope                     *scopeJSON `json:"Scope,omitempty"`
	Source                    sourceJSON `json:"Source"`
	InputParameters           string     `json:"InputParameters,omitempty"`
	MaximumExecutionFrequency string     `json:"MaximumExecutionFrequency,omitempty"`
	ConfigRuleState           string     `json:"ConfigRuleState,omitempty"`
	CreatedBy                 string     `json:"CreatedBy,omitempty"`
}

func (h *Handler) putRule(c *call) (any, error) {
	var in struct {
		ConfigRule *ruleJSON
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	cr := in.ConfigRule
	if cr == nil || !ruleName.MatchString(cr.ConfigRuleName) {
		return nil, validation("1 validation error detected: Value at 'configRule.configRuleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9_.-]{1,128}")
	}
	c.resource = cr.ConfigRuleName
	if cr.ConfigRuleState != "" && cr.ConfigRuleState != "ACTIVE" {
		return nil, invalid("The ConfigRuleState " + cr.ConfigRuleState + " cannot be set through PutConfigRule.")
	}
	r := &rules.Rule{Name: cr.ConfigRuleName, Description: cr.Description, Owner: cr.Source.Owner,
		Identifier: cr.Source.SourceIdentifier, RawParams: cr.InputParameters, Frequency: cr.MaximumExecutionFrequency}
	if cr.InputParameters != "" {
		// AWS takes parameters as a JSON object of strings.
		var raw map[string]any
		if err := json.Unmarshal([]byte(cr.InputParameters), &raw); err != nil {
			return nil, invalid("Blank spaces are not acceptable for input parameter: InputParameters, or the value is not a JSON object.")
		}
		r.Params = map[string]string{}
		for k, v := range raw {
			switch x := v.(type) {
			case string:
				r.Params[k] = x
			case bool, float64:
				b, _ := json.Marshal(x)
				r.Params[k] = string(b)
			default:
				return nil, invalid("The value of input parameter " + k + " must be a string.")
			}
		}
	}
	if s := cr.Scope; s != nil {
		if s.TagKey != "" {
			return nil, invalid("Scoping rules by tag is not supported.")
		}
		r.ScopeTypes, r.ScopeID = s.ComplianceResourceTypes, s.ComplianceResourceID
	}
	if r.Owner == rules.OwnerCustom {
		d := cr.Source.CustomPolicyDetails
		if d == nil || d.PolicyRuntime != rules.CELRuntime {
			return nil, invalid("Custom policy rules take PolicyRuntime \"" + rules.CELRuntime + "\" (a CEL expression over the configuration item); Guard is not supported.")
		}
		r.Expression = d.PolicyText
	} else if r.Owner == "CUSTOM_LAMBDA" {
		return nil, invalid("Custom Lambda rules are not supported; write a CUSTOM_POLICY rule in CEL.")
	}
	if old, err := h.Rules.GetRule(c.ctx, c.account, r.Name); err == nil {
		if cr.ConfigRuleArn != "" && cr.ConfigRuleArn != old.ARN || cr.ConfigRuleID != "" && cr.ConfigRuleID != old.ID {
			return nil, invalid("The ConfigRuleArn or ConfigRuleId does not match the rule named " + r.Name + ".")
		}
	}
	_, err := h.Rules.PutRule(c.ctx, c.account, r)
	return nil, err
}

func ruleOut(r *rules.Rule) ruleJSON {
	out := ruleJSON{ConfigRuleName: r.Name, ConfigRuleArn: r.ARN, ConfigRuleID: r.ID, Description: r.Description,
		InputParameters: r.RawParams, MaximumExecutionFrequency: r.Frequency, ConfigRuleState: "ACTIVE", CreatedBy: r.CreatedBy}
	if out.InputParameters == "" {
		out.InputParameters = "{}"
	}
	out.Source.Owner = r.Owner
	if r.Owner == rules.OwnerAWS {
		out.Source.SourceIdentifier = r.Identifier
	} else {
		out.Source.CustomPolicyDetails = &struct {
			PolicyRuntime          string `json:"PolicyRuntime"`
			PolicyText             string `json:"PolicyText"`
			EnableDebugLogDelivery bool   `json:"EnableDebugLogDelivery,omitempty"`
		}{PolicyRuntime: rules.CELRuntime, PolicyText: r.Expression}
		out.Source.SourceDetails = []any{map[string]string{"EventSource": "aws.config", "MessageType": "ConfigurationItemChangeNotification"}}
	}
	out.Scope = &scopeJSON{ComplianceResourceTypes: r.ResourceTypes(), ComplianceResourceID: r.ScopeID}
	return out
}

func noSuchRule(name string) error {
	return &Error{"NoSuchConfigRuleException", "The ConfigRule '" + name + "' provided in the request is invalid. Please check the configRule name."}
}

// rulesNamed returns the named rules (all when names is empty).
func (h *Handler) rulesNamed(c *call, names []string) ([]*rules.Rule, error) {
	all, err := h.Rules.Rules(c.ctx, c.account)
	if err != nil || len(names) == 0 {
		return all, err
	}
	byName := map[string]*rules.Rule{}
	for _, r := range all {
		byName[r.Name] = r
	}
	var out []*rules.Rule
	for _, n := range names {
		r, ok := byName[n]
		if !ok {
			return nil, noSuchRule(n)
		}
		out = append(out, r)
	}
	return out, nil
}

func (h *Handler) describeRules(c *call) (any, error) {
	var in struct{ ConfigRuleNames []string }
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	rs, err := h.rulesNamed(c, in.ConfigRuleNames)
	if err != nil {
		return nil, err
	}
	out := []ruleJSON{}
	for _, r := range rs {
		out = append(out, ruleOut(r))
	}
	return map[string]any{"ConfigRules": out}, nil
}

func (h *Handler) deleteRule(c *call) (any, error) {
	var in struct{ ConfigRuleName string }
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	c.resource = in.ConfigRuleName
	err := h.Rules.DeleteRule(c.ctx, c.account, in.ConfigRuleName)
	if errors.Is(err, rules.ErrNoSuchRule) {
		return nil, noSuchRule(in.ConfigRuleName)
	}
	return nil, err
}

func (h *Handler) startEvaluation(c *call) (any, error) {
	var in struct{ ConfigRuleNames []string }
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if len(in.ConfigRuleNames) == 0 || len(in.ConfigRuleNames) > 25 {
		return nil, validation("1 validation error detected: Value at 'configRuleNames' failed to satisfy constraint: Member must have length between 1 and 25")
	}
	if _, err := h.rulesNamed(c, in.ConfigRuleNames); err != nil {
		return nil, err
	}
	if h.Recorder != nil {
		// Evaluate what is configured now, not what was last recorded.
		h.Recorder.SyncAll()
		h.Recorder.Flush()
	}
	return nil, h.Rules.EvaluateRules(c.ctx, c.account, in.ConfigRuleNames)
}

// aggregate is a rule's or a resource's compliance from its results.
func aggregate(results []rules.Result) (string, int) {
	bad, good := 0, 0
	for _, r := range results {
		switch r.Compliance {
		case rules.NonCompliant:
			bad++
		case rules.Compliant:
			good++
		}
	}
	switch {
	case bad > 0:
		return rules.NonCompliant, bad
	case good > 0:
		return rules.Compliant, 0
	}
	return rules.InsufficientData, 0
}

func complianceJSON(typ string, n int) map[string]any {
	m := map[string]any{"ComplianceType": typ}
	if typ == rules.NonCompliant {
		m["ComplianceContributorCount"] = map[string]any{"CappedCount": min(n, 100), "CapExceeded": n > 100}
	}
	return m
}

func (h *Handler) complianceByRule(c *call) (any, error) {
	var in struct {
		ConfigRuleNames []string
		ComplianceTypes []string
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	rs, err := h.rulesNamed(c, in.ConfigRuleNames)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, r := range rs {
		res, err := h.Rules.Results(c.ctx, c.account, r.Name)
		if err != nil {
			return nil, err
		}
		typ, n := aggregate(res)
		if len(in.ComplianceTypes) > 0 && !containsStr(in.ComplianceTypes, typ) {
			continue
		}
		out = append(out, map[string]any{"ConfigRuleName": r.Name, "Compliance": complianceJSON(typ, n)})
	}
	return map[string]any{"ComplianceByConfigRules": out}, nil
}

func resultOut(r rules.Result) map[string]any {
	m := map[string]any{
		"EvaluationResultIdentifier": map[string]any{
			"EvaluationResultQualifier": map[string]any{"ConfigRuleName": r.Rule, "ResourceType": r.ResourceType, "ResourceId": r.ResourceID, "EvaluationMode": "DETECTIVE"},
			"OrderingTimestamp":         epoch(r.Ordering),
		},
		"ComplianceType":        r.Compliance,
		"ResultRecordedTime":    epoch(r.Recorded),
		"ConfigRuleInvokedTime": epoch(r.Invoked),
	}
	if r.Annotation != "" {
		m["Annotation"] = r.Annotation
	}
	return m
}

func (h *Handler) complianceDetails(c *call) (any, error) {
	var in struct {
		ConfigRuleName  string
		ComplianceTypes []string
		Limit           int
		NextToken       string
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	c.resource = in.ConfigRuleName
	if _, err := h.Rules.GetRule(c.ctx, c.account, in.ConfigRuleName); err != nil {
		if errors.Is(err, rules.ErrNoSuchRule) {
			return nil, noSuchRule(in.ConfigRuleName)
		}
		return nil, err
	}
	res, err := h.Rules.Results(c.ctx, c.account, in.ConfigRuleName)
	if err != nil {
		return nil, err
	}
	var sel []rules.Result
	for _, r := range res {
		if len(in.ComplianceTypes) == 0 || containsStr(in.ComplianceTypes, r.Compliance) {
			sel = append(sel, r)
		}
	}
	return page(sel, in.Limit, in.NextToken, "EvaluationResults", resultOut)
}

func page(sel []rules.Result, limit int, token, key string, f func(rules.Result) map[string]any) (any, error) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	start := 0
	if token != "" {
		n, err := strconv.Atoi(token)
		if err != nil || n < 0 || n > len(sel) {
			return nil, &Error{"InvalidNextTokenException", "The nextToken provided is invalid"}
		}
		start = n
	}
	end := min(start+limit, len(sel))
	items := []any{}
	for _, r := range sel[start:end] {
		items = append(items, f(r))
	}
	out := map[string]any{key: items}
	if end < len(sel) {
		out["NextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

func (h *Handler) complianceByResource(c *call) (any, error) {
	var in struct {
		ResourceType    string
		ResourceId      string
		ComplianceTypes []string
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	rs, err := h.Rules.Rules(c.ctx, c.account)
	if err != nil {
		return nil, err
	}
	byRes := map[[2]string][]rules.Result{}
	for _, r := range rs {
		res, err := h.Rules.Results(c.ctx, c.account, r.Name)
		if err != nil {
			return nil, err
		}
		for _, x := range res {
			if in.ResourceType != "" && x.ResourceType != in.ResourceType || in.ResourceId != "" && x.ResourceID != in.ResourceId {
				continue
			}
			k := [2]string{x.ResourceType, x.ResourceID}
			byRes[k] = append(byRes[k], x)
		}
	}
	keys := make([][2]string, 0, len(byRes))
	for k := range byRes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+keys[i][1] < keys[j][0]+keys[j][1] })
	out := []any{}
	for _, k := range keys {
		typ, n := aggregate(byRes[k])
		if len(in.ComplianceTypes) > 0 && !containsStr(in.ComplianceTypes, typ) {
			continue
		}
		out = append(out, map[string]any{"ResourceType": k[0], "ResourceId": k[1], "Compliance": complianceJSON(typ, n)})
	}
	return map[string]any{"ComplianceByResources": out}, nil
}

func (h *Handler) complianceHistory(c *call) (any, error) {
	var in struct{ ConfigRuleName string }
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	hist, err := h.Rules.History(c.ctx, c.account, in.ConfigRuleName)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, r := range hist {
		out = append(out, resultOut(r))
	}
	return map[string]any{"EvaluationResults": out}, nil
}

var packName = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]{0,255}$`)

func (h *Handler) putPack(c *call) (any, error) {
	var in struct {
		ConformancePackName string
		TemplateBody        string
		TemplateS3Uri       string
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if !packName.MatchString(in.ConformancePackName) {
		return nil, validation("1 validation error detected: Value at 'conformancePackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*")
	}
	c.resource = in.ConformancePackName
	tmpl := in.TemplateBody
	if tmpl == "" {
		tmpl = in.TemplateS3Uri
	}
	p, err := h.Rules.PutPack(c.ctx, c.account, in.ConformancePackName, tmpl)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ConformancePackArn": p.ARN}, nil
}

func (h *Handler) describePacks(c *call) (any, error) {
	var in struct{ ConformancePackNames []string }
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	ps, err := h.Rules.Packs(c.ctx, c.account)
	if err != nil {
		return nil, err
	}
	out := []any{}
	found := map[string]bool{}
	for _, p := range ps {
		if len(in.ConformancePackNames) > 0 && !containsStr(in.ConformancePackNames, p.Name) {
			continue
		}
		found[p.Name] = true
		out = append(out, map[string]any{"ConformancePackName": p.Name, "ConformancePackArn": p.ARN, "ConformancePackId": p.ID,
			"ConformancePackInputParameters": []any{}, "CreatedBy": "coffer"})
	}
	for _, n := range in.ConformancePackNames {
		if !found[n] {
			return nil, &Error{"NoSuchConformancePackException", "One or more conformance packs do not exist: " + n + "."}
		}
	}
	return map[string]any{"ConformancePackDetails": out}, nil
}

func (h *Handler) deletePack(c *call) (any, error) {
	var in struct{ ConformancePackName string }
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	c.resource = in.ConformancePackName
	return nil, h.Rules.DeletePack(c.ctx, c.account, in.ConformancePackName)
}

func (h *Handler) evaluationStatus(c *call) (any, error) {
	var in struct{ ConfigRuleNames []string }
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	rs, err := h.rulesNamed(c, in.ConfigRuleNames)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, r := range rs {
		m := map[string]any{"ConfigRuleName": r.Name, "ConfigRuleArn": r.ARN, "ConfigRuleId": r.ID,
			"FirstActivatedTime": epoch(r.Created), "FirstEvaluationStarted": !r.LastInvoked.IsZero()}
		if !r.LastInvoked.IsZero() {
			m["LastSuccessfulInvocationTime"] = epoch(r.LastInvoked)
			m["LastSuccessfulEvaluationTime"] = epoch(r.LastEvaluated)
		}
		out = append(out, m)
	}
	return map[string]any{"ConfigRulesEvaluationStatus": out}, nil
}
