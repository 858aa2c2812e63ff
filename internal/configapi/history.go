package configapi

import (
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"github.com/coffer-io/coffer/internal/configrec"
)

func init() {
	ops["GetResourceConfigHistory"] = (*Handler).history
	ops["ListDiscoveredResources"] = (*Handler).listDiscovered
	ops["BatchGetResourceConfig"] = (*Handler).batchGet
}

func supportedType(t string) bool {
	return t == configrec.TypeBucket || t == configrec.TypeAccountPAB
}

// itemOut renders a record as the API's configuration item, with the
// change's author and operation as the Coffer members changedBy and
// changeOperation (AWS clients ignore members they do not know).
func itemOut(r *configrec.Record) map[string]any {
	raw, _ := json.Marshal(r.Item)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	m["configurationItemCaptureTime"] = epoch(r.CaptureTime)
	if !r.CreationTime.IsZero() {
		m["resourceCreationTime"] = epoch(r.CreationTime)
	}
	if r.Item.Tags == nil {
		m["tags"] = map[string]string{}
	}
	if r.ChangedBy != "" {
		m["changedBy"] = r.ChangedBy
	}
	if r.Operation != "" {
		m["changeOperation"] = r.Operation
	}
	return m
}

func parseEpoch(v *float64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return time.UnixMilli(int64(*v * 1000)).UTC()
}

func (h *Handler) history(c *call) (any, error) {
	var in struct {
		ResourceType       string   `json:"resourceType"`
		ResourceID         string   `json:"resourceId"`
		LaterTime          *float64 `json:"laterTime"`
		EarlierTime        *float64 `json:"earlierTime"`
		ChronologicalOrder string   `json:"chronologicalOrder"`
		Limit              int      `json:"limit"`
		NextToken          string   `json:"nextToken"`
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if !supportedType(in.ResourceType) {
		return nil, validation("1 validation error detected: Value '" + in.ResourceType + "' at 'resourceType' failed to satisfy constraint: Member must satisfy enum value set")
	}
	if in.Limit < 0 || in.Limit > 100 {
		return nil, validation("1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100")
	}
	if in.Limit == 0 {
		in.Limit = 10
	}
	k := configrec.ResourceKey{Account: c.account, Type: in.ResourceType, ID: in.ResourceID}
	c.resource = in.ResourceID
	earlier, later := parseEpoch(in.EarlierTime), parseEpoch(in.LaterTime)
	if !earlier.IsZero() && !later.IsZero() && later.Before(earlier) {
		return nil, invalid("The laterTime must be later than the earlierTime.")
	}
	all, err := h.Store.History(c.ctx, k, time.Time{}, time.Time{})
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, &Error{"ResourceNotDiscoveredException", "Resource " + in.ResourceID + " of resourceType:" + in.ResourceType + " is unknown or has not been discovered"}
	}
	var recs []configrec.Record
	for _, r := range all {
		if configrec.InRange(r.CaptureTime, earlier, later) {
			recs = append(recs, r)
		}
	}
	if in.ChronologicalOrder != "Forward" {
		for i, j := 0, len(recs)-1; i < j; i, j = i+1, j-1 {
			recs[i], recs[j] = recs[j], recs[i]
		}
	}
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(recs) {
			return nil, &Error{"InvalidNextTokenException", "The nextToken provided is invalid"}
		}
		start = n
	}
	items := []any{}
	end := min(start+in.Limit, len(recs))
	for i := start; i < end; i++ {
		items = append(items, itemOut(&recs[i]))
	}
	out := map[string]any{"configurationItems": items}
	if end < len(recs) {
		out["nextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

func (h *Handler) listDiscovered(c *call) (any, error) {
	var in struct {
		ResourceType            string   `json:"resourceType"`
		ResourceIDs             []string `json:"resourceIds"`
		ResourceName            string   `json:"resourceName"`
		Limit                   int      `json:"limit"`
		IncludeDeletedResources bool     `json:"includeDeletedResources"`
		NextToken               string   `json:"nextToken"`
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if !supportedType(in.ResourceType) {
		return nil, validation("1 validation error detected: Value '" + in.ResourceType + "' at 'resourceType' failed to satisfy constraint: Member must satisfy enum value set")
	}
	if in.Limit <= 0 || in.Limit > 100 {
		in.Limit = 100
	}
	keys, err := h.Store.Resources(c.ctx, c.account, in.ResourceType)
	if err != nil {
		return nil, err
	}
	var ids []map[string]any
	for _, k := range keys {
		if len(in.ResourceIDs) > 0 && !containsStr(in.ResourceIDs, k.ID) {
			continue
		}
		last, err := h.Store.Latest(c.ctx, k)
		if err != nil {
			return nil, err
		}
		if last == nil || in.ResourceName != "" && last.Item.ResourceName != in.ResourceName {
			continue
		}
		m := map[string]any{"resourceType": k.Type, "resourceId": k.ID}
		if last.Item.ResourceName != "" {
			m["resourceName"] = last.Item.ResourceName
		}
		if last.Item.Status == configrec.StatusDeleted {
			if !in.IncludeDeletedResources {
				continue
			}
			m["resourceDeletionTime"] = epoch(last.CaptureTime)
		}
		ids = append(ids, m)
	}
	sort.SliceStable(ids, func(i, j int) bool { return ids[i]["resourceId"].(string) < ids[j]["resourceId"].(string) })
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 || n > len(ids) {
			return nil, &Error{"InvalidNextTokenException", "The nextToken provided is invalid"}
		}
		start = n
	}
	end := min(start+in.Limit, len(ids))
	out := map[string]any{"resourceIdentifiers": append([]map[string]any{}, ids[start:end]...)}
	if end < len(ids) {
		out["nextToken"] = strconv.Itoa(end)
	}
	return out, nil
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (h *Handler) batchGet(c *call) (any, error) {
	var in struct {
		ResourceKeys []struct {
			ResourceType string `json:"resourceType"`
			ResourceID   string `json:"resourceId"`
		} `json:"resourceKeys"`
	}
	if err := decode(c.body, &in); err != nil {
		return nil, err
	}
	if len(in.ResourceKeys) == 0 || len(in.ResourceKeys) > 100 {
		return nil, validation("1 validation error detected: Value at 'resourceKeys' failed to satisfy constraint: Member must have length between 1 and 100")
	}
	items, unprocessed := []any{}, []any{}
	for _, k := range in.ResourceKeys {
		if !supportedType(k.ResourceType) {
			return nil, validation("1 validation error detected: Value '" + k.ResourceType + "' at 'resourceKeys.member.resourceType' failed to satisfy constraint: Member must satisfy enum value set")
		}
		last, err := h.Store.Latest(c.ctx, configrec.ResourceKey{Account: c.account, Type: k.ResourceType, ID: k.ResourceID})
		if err != nil {
			return nil, err
		}
		if last == nil || last.Item.Status == configrec.StatusDeleted {
			continue // AWS leaves out resources it does not have
		}
		items = append(items, itemOut(last))
	}
	return map[string]any{"baseConfigurationItems": items, "unprocessedResourceKeys": unprocessed}, nil
}
