package cloudformation

import (
	"encoding/json"
	"slices"
	"sort"
	"time"
)

// ChangeSet is a proposed change to a stack; it persists as JSON.
type ChangeSet struct {
	ID              string
	Name            string
	Type            string // CREATE or UPDATE
	Status          string
	StatusReason    string
	ExecutionStatus string
	Description     string
	TemplateBody    string
	Params          map[string]string
	Capabilities    []string
	Tags            []Tag
	Changes         []ResourceChange
	Created         time.Time
}

// ResourceChange is one resource's change, as DescribeChangeSet reports it.
type ResourceChange struct {
	Action      string // Add, Modify, Remove
	LogicalID   string
	PhysicalID  string
	Type        string
	Replacement string // True, False, Conditional; empty for Add and Remove
	Scope       []string
	Details     []ChangeDetail
	// PolicyAction says what happens to the old resource of a Remove or a
	// replacement: Delete or Retain, ReplaceAndDelete or ReplaceAndRetain.
	PolicyAction string
}

// ChangeDetail is one property's change.
type ChangeDetail struct {
	Name                string
	RequiresRecreation  string // Never, Conditionally, Always
	AttributeChangeType string // Add, Remove, Modify
	Evaluation          string // Static, Dynamic
	ChangeSource        string // DirectModification, ResourceReference, ParameterReference, ResourceAttribute
	CausingEntity       string
	// Before and After are the property's values as JSON, as AWS reports
	// them with IncludePropertyValues; After is empty when unknown.
	Before, After string
}

// plan works out what applying d's template to its stack changes, without
// changing anything. prevTmpl is the stack's current template (nil for a new
// stack). Callers hold b.mu; d must be planning.
func (d *deployment) plan(prevTmpl *Template) ([]ResourceChange, error) {
	st := d.st
	if prevTmpl == nil && st.TemplateBody != "" {
		prevTmpl, _ = ParseTemplate(st.TemplateBody)
	}
	var changes []ResourceChange
	active := map[string]bool{}
	for _, id := range d.active {
		active[id] = true
		tr := d.tmpl.Resources[id]
		old := st.Resources[id]
		if old == nil {
			d.pending[id] = true
			changes = append(changes, ResourceChange{Action: "Add", LogicalID: id, Type: tr.Type, Scope: []string{}})
			continue
		}
		if old.Type != tr.Type {
			d.pending[id] = true
			changes = append(changes, ResourceChange{Action: "Modify", LogicalID: id, PhysicalID: old.PhysicalID, Type: tr.Type, Replacement: "True", Scope: []string{"Properties"}})
			continue
		}
		props, err := d.evalProps(id)
		if err != nil {
			return nil, err
		}
		keys := changedKeys(old.Props, props)
		for k, v := range props {
			if hasUnknown(v) && !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			continue
		}
		sort.Strings(keys)
		_, per := d.b.cfg.Schemas.replacement(tr.Type, keys)
		replacement := "False"
		var details []ChangeDetail
		for _, k := range keys {
			nv, inNew := props[k]
			_, inOld := old.Props[k]
			det := ChangeDetail{Name: k, RequiresRecreation: per[k], AttributeChangeType: "Modify", Evaluation: "Static", ChangeSource: "DirectModification",
				Before: jsonValue(old.Props[k]), After: jsonValue(nv)}
			switch {
			case !inOld:
				det.AttributeChangeType = "Add"
			case !inNew:
				det.AttributeChangeType = "Remove"
			}
			var prevRaw any
			if prevTmpl != nil {
				if pr := prevTmpl.Resources[id]; pr != nil {
					prevRaw = pr.Properties[k]
				}
			}
			raw := tr.Properties[k]
			if hasUnknown(nv) {
				det.Evaluation = "Dynamic"
				det.ChangeSource = "ResourceReference"
				det.CausingEntity = d.causingResource(raw)
			} else if prevTmpl != nil && inOld && inNew && equalValues(prevRaw, raw) {
				// The template text is the same: a parameter or a referenced
				// resource changed the value.
				det.ChangeSource, det.CausingEntity = d.causingEntity(raw)
			}
			switch det.RequiresRecreation {
			case "Always":
				if det.Evaluation == "Dynamic" {
					if replacement == "False" {
						replacement = "Conditional"
					}
				} else {
					replacement = "True"
				}
			case "Conditionally":
				if replacement == "False" {
					replacement = "Conditional"
				}
			}
			details = append(details, det)
		}
		policy := ""
		if replacement == "True" {
			d.pending[id] = true
			policy = "ReplaceAndDelete"
			if tr.UpdateReplacePolicy == "Retain" {
				policy = "ReplaceAndRetain"
			}
		}
		changes = append(changes, ResourceChange{Action: "Modify", LogicalID: id, PhysicalID: old.PhysicalID, Type: tr.Type, Replacement: replacement, Scope: []string{"Properties"}, Details: details, PolicyAction: policy})
	}
	var removed []string
	for id := range st.Resources {
		if !active[id] {
			removed = append(removed, id)
		}
	}
	sort.Strings(removed)
	for _, id := range removed {
		r := st.Resources[id]
		policy := "Delete"
		if r.DeletionPolicy == "Retain" {
			policy = "Retain"
		}
		changes = append(changes, ResourceChange{Action: "Remove", LogicalID: id, PhysicalID: r.PhysicalID, Type: r.Type, Scope: []string{}, PolicyAction: policy})
	}
	return changes, nil
}

// jsonValue renders a property value as DescribeChangeSet's BeforeValue and
// AfterValue do: strings as they are, the rest as JSON; unknown and absent
// values are empty.
func jsonValue(v any) string {
	if v == nil || hasUnknown(v) {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// causingResource names the pending resource (or its attribute) a raw value
// refers to, for a dynamic change.
func (d *deployment) causingResource(raw any) string {
	refs, _ := references(raw)
	for _, ref := range refs {
		if d.pending[ref] {
			return ref
		}
	}
	if len(refs) > 0 {
		return refs[0]
	}
	return ""
}

// causingEntity says what changed an unchanged template value: a parameter
// or a resource it refers to.
func (d *deployment) causingEntity(raw any) (string, string) {
	refs, _ := references(raw)
	for _, ref := range refs {
		if _, ok := d.tmpl.Parameters[ref]; ok {
			return "ParameterReference", ref
		}
	}
	for _, ref := range refs {
		if _, ok := d.tmpl.Resources[ref]; ok {
			return "ResourceReference", ref
		}
	}
	return "DirectModification", ""
}

// outputsChange reports whether the template's outputs would differ from the
// stack's current ones. Callers hold b.mu; d must be planning.
func (d *deployment) outputsChange() bool {
	outs, err := d.outputs()
	if err != nil {
		return true
	}
	if len(outs) != len(d.st.Outputs) {
		return true
	}
	for i, o := range outs {
		if o != d.st.Outputs[i] {
			return true
		}
	}
	for _, o := range d.tmpl.Outputs {
		if v, err := d.ev.evalUnknownAware(o.Value); err != nil || hasUnknown(v) {
			return true
		}
	}
	return false
}
