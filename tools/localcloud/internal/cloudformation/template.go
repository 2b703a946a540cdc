package cloudformation

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Template is a parsed CloudFormation template. Values stay as decoded JSON
// (map[string]any, []any, string, json.Number, bool) until the evaluator
// resolves their intrinsic functions.
type Template struct {
	FormatVersion string
	Description   string
	Parameters    map[string]*Parameter
	Mappings      map[string]map[string]map[string]any
	Conditions    map[string]any
	Resources     map[string]*Resource
	Outputs       map[string]*Output
}

// Parameter is a template parameter's declaration.
type Parameter struct {
	Type                  string
	Default               *string
	AllowedValues         []string
	AllowedPattern        string
	NoEcho                bool
	Description           string
	MinLength, MaxLength  *int
	MinValue, MaxValue    *float64
	ConstraintDescription string
}

// Resource is a template resource's declaration.
type Resource struct {
	Type                string
	Properties          map[string]any
	DependsOn           []string
	Condition           string
	DeletionPolicy      string
	UpdateReplacePolicy string
}

// Output is a template output's declaration.
type Output struct {
	Description string
	Value       any
	ExportName  any // nil when the output is not exported
	Condition   string
}

var logicalIDPattern = regexp.MustCompile(`^[A-Za-z0-9]+$`)

// ParseTemplate decodes a JSON or YAML template body and checks its structure the way
// CloudFormation's template validation does, answering with the messages
// ValidateTemplate gives.
func ParseTemplate(body string) (*Template, error) {
	trimmed := strings.TrimSpace(body)
	if trimmed == "" {
		return nil, msgf("Template format error: template body is empty")
	}
	var raw map[string]any
	if strings.HasPrefix(trimmed, "{") {
		dec := json.NewDecoder(bytes.NewReader([]byte(trimmed)))
		dec.UseNumber()
		if err := dec.Decode(&raw); err != nil {
			return nil, msgf("Template format error: JSON not well-formed. (%v)", err)
		}
	} else {
		var err error
		if raw, err = decodeYAML(body); err != nil {
			return nil, err
		}
	}
	t := &Template{
		Parameters: map[string]*Parameter{},
		Mappings:   map[string]map[string]map[string]any{},
		Conditions: map[string]any{},
		Resources:  map[string]*Resource{},
		Outputs:    map[string]*Output{},
	}
	known := []string{"AWSTemplateFormatVersion", "Description", "Metadata", "Parameters", "Mappings", "Conditions", "Rules", "Resources", "Outputs", "Transform"}
	for k := range raw {
		if !slices.Contains(known, k) {
			return nil, msgf("Template format error: Invalid template property or properties [%s]", k)
		}
	}
	if _, ok := raw["Transform"]; ok {
		return nil, msgf("Template format error: localcloud does not run transforms (Transform); expand the template first")
	}
	if v, ok := raw["AWSTemplateFormatVersion"]; ok {
		s := scalarString(v)
		if s != "2010-09-09" {
			return nil, msgf("Template format error: Unsupported template version %v", v)
		}
		t.FormatVersion = s
	}
	if v, ok := raw["Description"]; ok {
		s, ok := v.(string)
		if !ok {
			return nil, msgf("Template format error: Description must be a string")
		}
		t.Description = s
	}
	if err := t.parseParameters(raw["Parameters"]); err != nil {
		return nil, err
	}
	if v, ok := raw["Mappings"]; ok {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, msgf("Template format error: Every Mappings member must be an object")
		}
		for name, top := range m {
			tm, ok := top.(map[string]any)
			if !ok {
				return nil, msgf("Template format error: Mapping %s must be an object", name)
			}
			t.Mappings[name] = map[string]map[string]any{}
			for k, second := range tm {
				sm, ok := second.(map[string]any)
				if !ok {
					return nil, msgf("Template format error: Mapping %s key %s must be an object", name, k)
				}
				t.Mappings[name][k] = sm
			}
		}
	}
	if v, ok := raw["Conditions"]; ok {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, msgf("Template format error: Conditions must be an object")
		}
		t.Conditions = m
	}
	res, ok := raw["Resources"].(map[string]any)
	if !ok || len(res) == 0 {
		return nil, msgf("Template format error: At least one Resources member must be defined.")
	}
	for id, v := range res {
		r, err := parseResource(id, v)
		if err != nil {
			return nil, err
		}
		t.Resources[id] = r
	}
	if v, ok := raw["Outputs"]; ok {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, msgf("Template format error: Outputs must be an object")
		}
		for id, ov := range m {
			om, ok := ov.(map[string]any)
			if !ok {
				return nil, msgf("Template format error: Output %s must be an object", id)
			}
			val, ok := om["Value"]
			if !ok {
				return nil, msgf("Template format error: Every Outputs member must contain a Value object, the Outputs member %s does not", id)
			}
			o := &Output{Value: val}
			o.Description, _ = om["Description"].(string)
			o.Condition, _ = om["Condition"].(string)
			if ex, ok := om["Export"].(map[string]any); ok {
				o.ExportName = ex["Name"]
			}
			t.Outputs[id] = o
		}
	}
	return t, t.checkReferences()
}

func (t *Template) parseParameters(v any) error {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return msgf("Template format error: Parameters must be an object")
	}
	for name, pv := range m {
		pm, ok := pv.(map[string]any)
		if !ok {
			return msgf("Template format error: Parameter %s must be an object", name)
		}
		p := &Parameter{}
		p.Type, _ = pm["Type"].(string)
		if p.Type == "" {
			return msgf("Template format error: Every Parameters object must contain a Type member.")
		}
		if !validParamType(p.Type) {
			return msgf("Template format error: Unrecognized parameter type: %s", p.Type)
		}
		if d, ok := pm["Default"]; ok {
			s := scalarString(d)
			p.Default = &s
		}
		if av, ok := pm["AllowedValues"].([]any); ok {
			for _, a := range av {
				p.AllowedValues = append(p.AllowedValues, scalarString(a))
			}
		}
		p.AllowedPattern, _ = pm["AllowedPattern"].(string)
		if p.AllowedPattern != "" {
			if _, err := regexp.Compile(p.AllowedPattern); err != nil {
				return msgf("Template format error: Parameter %s AllowedPattern: %v", name, err)
			}
		}
		p.NoEcho = truthy(pm["NoEcho"])
		p.Description, _ = pm["Description"].(string)
		p.ConstraintDescription, _ = pm["ConstraintDescription"].(string)
		p.MinLength = intField(pm["MinLength"])
		p.MaxLength = intField(pm["MaxLength"])
		p.MinValue = floatField(pm["MinValue"])
		p.MaxValue = floatField(pm["MaxValue"])
		t.Parameters[name] = p
	}
	return nil
}

func validParamType(typ string) bool {
	switch typ {
	case "String", "Number", "List<Number>", "CommaDelimitedList":
		return true
	}
	return strings.HasPrefix(typ, "AWS::") || strings.HasPrefix(typ, "List<AWS::")
}

func parseResource(id string, v any) (*Resource, error) {
	if !logicalIDPattern.MatchString(id) {
		return nil, msgf("Template format error: Resource name %s is non alphanumeric.", id)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, msgf("Template format error: [/Resources/%s] resource definition is malformed", id)
	}
	r := &Resource{}
	for k := range m {
		switch k {
		case "Type", "Properties", "DependsOn", "Condition", "DeletionPolicy", "UpdateReplacePolicy", "Metadata", "CreationPolicy", "UpdatePolicy":
		default:
			return nil, msgf("Template format error: Unrecognized resource attribute %s in resource %s", k, id)
		}
	}
	r.Type, _ = m["Type"].(string)
	if r.Type == "" {
		return nil, msgf("Template format error: [/Resources/%s] Every Resources object must contain a Type member.", id)
	}
	if p, ok := m["Properties"]; ok {
		pm, ok := p.(map[string]any)
		if !ok {
			return nil, msgf("Template format error: [/Resources/%s/Properties] Properties must be an object", id)
		}
		r.Properties = pm
	}
	switch d := m["DependsOn"].(type) {
	case nil:
	case string:
		r.DependsOn = []string{d}
	case []any:
		for _, e := range d {
			s, ok := e.(string)
			if !ok {
				return nil, msgf("Template format error: [/Resources/%s/DependsOn] DependsOn must be a string or a list of strings", id)
			}
			r.DependsOn = append(r.DependsOn, s)
		}
	default:
		return nil, msgf("Template format error: [/Resources/%s/DependsOn] DependsOn must be a string or a list of strings", id)
	}
	r.Condition, _ = m["Condition"].(string)
	r.DeletionPolicy, _ = m["DeletionPolicy"].(string)
	r.UpdateReplacePolicy, _ = m["UpdateReplacePolicy"].(string)
	for _, pol := range []string{r.DeletionPolicy, r.UpdateReplacePolicy} {
		switch pol {
		case "", "Delete", "Retain", "RetainExceptOnCreate", "Snapshot":
		default:
			return nil, msgf("Template format error: Unrecognized DeletionPolicy %s for resource %s", pol, id)
		}
	}
	return r, nil
}

// checkReferences rejects references to things the template does not
// declare and dependency cycles, as template validation does.
func (t *Template) checkReferences() error {
	for id, r := range t.Resources {
		if r.Condition != "" {
			if _, ok := t.Conditions[r.Condition]; !ok {
				return msgf("Template format error: Unresolved dependencies [%s]. Cannot reference resources in the Conditions block of the template", r.Condition)
			}
		}
		for _, d := range r.DependsOn {
			if _, ok := t.Resources[d]; !ok {
				return msgf("Template format error: Unresolved resource dependencies [%s] in the Resources block of the template", d)
			}
		}
		refs, err := references(r.Properties)
		if err != nil {
			return msgf("Template error: resource %s: %w", id, err)
		}
		for _, ref := range refs {
			if _, ok := t.Resources[ref]; ok {
				continue
			}
			if _, ok := t.Parameters[ref]; ok {
				continue
			}
			if isPseudo(ref) {
				continue
			}
			return msgf("Template format error: Unresolved resource dependencies [%s] in the Resources block of the template", ref)
		}
	}
	for id, o := range t.Outputs {
		refs, err := references(o.Value)
		if err != nil {
			return msgf("Template error: output %s: %w", id, err)
		}
		for _, ref := range refs {
			if _, ok := t.Resources[ref]; !ok && t.Parameters[ref] == nil && !isPseudo(ref) {
				return msgf("Template format error: Unresolved resource dependencies [%s] in the Outputs block of the template", ref)
			}
		}
	}
	if _, err := t.order(); err != nil {
		return err
	}
	return nil
}

// deps lists the resources r depends on: DependsOn and every Ref, GetAtt and
// Sub reference to another resource.
func (t *Template) deps(id string) []string {
	r := t.Resources[id]
	refs, _ := references(r.Properties)
	set := map[string]bool{}
	for _, d := range r.DependsOn {
		set[d] = true
	}
	for _, ref := range refs {
		if _, ok := t.Resources[ref]; ok && ref != id {
			set[ref] = true
		}
	}
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// order is a topological order of the resources (dependencies first); a
// cycle is an error naming its members.
func (t *Template) order() ([]string, error) {
	ids := make([]string, 0, len(t.Resources))
	for id := range t.Resources {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	state := map[string]int{} // 1 visiting, 2 done
	var out []string
	var visit func(id string, path []string) error
	visit = func(id string, path []string) error {
		switch state[id] {
		case 1:
			return msgf("Template format error: Circular dependency between resources: [%s]", strings.Join(append(path, id), ", "))
		case 2:
			return nil
		}
		state[id] = 1
		for _, d := range t.deps(id) {
			if err := visit(d, append(path, id)); err != nil {
				return err
			}
		}
		state[id] = 2
		out = append(out, id)
		return nil
	}
	for _, id := range ids {
		if err := visit(id, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// references lists the names a value refers to through Ref, Fn::GetAtt and
// Fn::Sub (logical ids, parameter names and pseudo parameters).
func references(v any) ([]string, error) {
	var out []string
	var walk func(v any) error
	walk = func(v any) error {
		switch c := v.(type) {
		case map[string]any:
			if len(c) == 1 {
				for k, a := range c {
					switch k {
					case "Ref":
						s, ok := a.(string)
						if !ok {
							return msgf("Ref must name a resource or parameter")
						}
						out = append(out, s)
						return nil
					case "Fn::GetAtt":
						id, _, err := getAttArgs(a)
						if err != nil {
							return err
						}
						out = append(out, id)
						return nil
					case "Fn::Sub":
						str, vars, err := subArgs(a)
						if err != nil {
							return err
						}
						for _, name := range subNames(str) {
							if _, ok := vars[name]; ok {
								continue
							}
							id, _, _ := strings.Cut(name, ".")
							out = append(out, id)
						}
						for _, vv := range vars {
							if err := walk(vv); err != nil {
								return err
							}
						}
						return nil
					}
				}
			}
			for _, e := range c {
				if err := walk(e); err != nil {
					return err
				}
			}
		case []any:
			for _, e := range c {
				if err := walk(e); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := walk(v)
	return out, err
}

func getAttArgs(a any) (id, attr string, err error) {
	switch c := a.(type) {
	case string:
		id, attr, ok := strings.Cut(c, ".")
		if !ok {
			return "", "", msgf("Template error: Fn::GetAtt %q must be LogicalId.Attribute", c)
		}
		return id, attr, nil
	case []any:
		if len(c) == 2 {
			id, ok1 := c[0].(string)
			attr, ok2 := c[1].(string)
			if ok1 && ok2 {
				return id, attr, nil
			}
		}
	}
	return "", "", msgf("Template error: every Fn::GetAtt object requires two non-empty parameters")
}

func subArgs(a any) (string, map[string]any, error) {
	switch c := a.(type) {
	case string:
		return c, nil, nil
	case []any:
		if len(c) == 2 {
			s, ok1 := c[0].(string)
			vars, ok2 := c[1].(map[string]any)
			if ok1 && ok2 {
				return s, vars, nil
			}
		}
	}
	return "", nil, msgf("Template error: Fn::Sub takes a string or [string, {variables}]")
}

// subNames lists the ${Name} placeholders of a Fn::Sub string; ${!Literal}
// is an escape, not a placeholder.
func subNames(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return out
		}
		j := strings.Index(s[i:], "}")
		if j < 0 {
			return out
		}
		name := s[i+2 : i+j]
		if !strings.HasPrefix(name, "!") {
			out = append(out, strings.TrimSpace(name))
		}
		s = s[i+j+1:]
	}
}

// scalarString renders a template scalar the way CloudFormation turns it
// into a parameter or string value.
func scalarString(v any) string {
	switch c := v.(type) {
	case string:
		return c
	case json.Number:
		return c.String()
	case bool:
		return strconv.FormatBool(c)
	case float64:
		return strconv.FormatFloat(c, 'f', -1, 64)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func truthy(v any) bool {
	switch c := v.(type) {
	case bool:
		return c
	case string:
		return strings.EqualFold(c, "true")
	}
	return false
}

func intField(v any) *int {
	if v == nil {
		return nil
	}
	n, err := strconv.Atoi(scalarString(v))
	if err != nil {
		return nil
	}
	return &n
}

func floatField(v any) *float64 {
	if v == nil {
		return nil
	}
	f, err := strconv.ParseFloat(scalarString(v), 64)
	if err != nil {
		return nil
	}
	return &f
}
