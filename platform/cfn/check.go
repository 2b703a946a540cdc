package cfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// pseudoParameters are the names Ref accepts besides parameters and resources.
var pseudoParameters = []string{
	"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
	"AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
}

// doc is a rendered template read back as plain data, the way CloudFormation
// and the schema checks see it.
type doc struct {
	Parameters map[string]any `json:"Parameters"`
	Conditions map[string]any `json:"Conditions"`
	Resources  map[string]struct {
		Type       string          `json:"Type"`
		Condition  string          `json:"Condition"`
		DependsOn  json.RawMessage `json:"DependsOn"`
		Properties any             `json:"Properties"`
	} `json:"Resources"`
	Outputs map[string]any `json:"Outputs"`
}

// reference is one use of a name by a Ref, a Fn::GetAtt or a Fn::Sub.
type reference struct {
	from      string // resource or output that uses it
	name      string
	attribute string // for GetAtt and ${Name.Attr}
}

var subVariable = regexp.MustCompile(`\$\{([^!}][^}]*)\}`)

// references lists the references inside v, a value of resource from.
func references(from string, v any) []reference {
	var out []reference
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case []any:
			for _, e := range t {
				walk(e)
			}
		case map[string]any:
			if len(t) == 1 {
				if r, ok := t["Ref"].(string); ok {
					out = append(out, reference{from: from, name: r})
					return
				}
				if ga, ok := t["Fn::GetAtt"].([]any); ok && len(ga) == 2 {
					res, _ := ga[0].(string)
					attr, _ := ga[1].(string)
					out = append(out, reference{from: from, name: res, attribute: attr})
					return
				}
				if sub, ok := t["Fn::Sub"]; ok {
					s, vars := sub, map[string]any(nil)
					if l, ok := sub.([]any); ok && len(l) == 2 {
						s = l[0]
						vars, _ = l[1].(map[string]any)
						walk(l[1])
					}
					str, _ := s.(string)
					for _, m := range subVariable.FindAllStringSubmatch(str, -1) {
						name, attr, _ := strings.Cut(m[1], ".")
						if _, local := vars[m[1]]; local {
							continue
						}
						out = append(out, reference{from: from, name: name, attribute: attr})
					}
					return
				}
			}
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	return out
}

// Check checks a rendered template's wiring: every Ref, Fn::GetAtt and
// Fn::Sub variable names a parameter, pseudo parameter or resource (GetAtt a
// resource); every DependsOn and Condition names one that exists; and no
// resources depend on each other in a cycle. It returns every problem, joined.
func Check(template []byte) error {
	var d doc
	if err := json.Unmarshal(template, &d); err != nil {
		return fmt.Errorf("read template: %w", err)
	}
	var errs []error
	deps := map[string][]string{}
	for _, id := range slices.Sorted(maps.Keys(d.Resources)) {
		r := d.Resources[id]
		if r.Condition != "" && d.Conditions[r.Condition] == nil {
			errs = append(errs, fmt.Errorf("resource %s: condition %s is not defined", id, r.Condition))
		}
		var dependsOn []string
		if len(r.DependsOn) > 0 {
			if err := json.Unmarshal(r.DependsOn, &dependsOn); err != nil {
				var one string
				if json.Unmarshal(r.DependsOn, &one) != nil {
					errs = append(errs, fmt.Errorf("resource %s: DependsOn is neither a name nor a list of names", id))
				}
				dependsOn = []string{one}
			}
		}
		for _, dep := range dependsOn {
			if _, ok := d.Resources[dep]; !ok {
				errs = append(errs, fmt.Errorf("resource %s: DependsOn %s, which is not a resource", id, dep))
				continue
			}
			deps[id] = append(deps[id], dep)
		}
		for _, ref := range references(id, r.Properties) {
			if err := d.resolve(ref); err != nil {
				errs = append(errs, err)
				continue
			}
			if _, ok := d.Resources[ref.name]; ok && !slices.Contains(deps[id], ref.name) {
				deps[id] = append(deps[id], ref.name)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.Outputs)) {
		for _, ref := range references("output "+name, d.Outputs[name]) {
			if err := d.resolve(ref); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.Conditions)) {
		for _, ref := range references("condition "+name, d.Conditions[name]) {
			if _, ok := d.Parameters[ref.name]; !ok && !slices.Contains(pseudoParameters, ref.name) {
				errs = append(errs, fmt.Errorf("condition %s: refers to %s, which is not a parameter", name, ref.name))
			}
		}
	}
	if cycle := findCycle(deps); cycle != nil {
		errs = append(errs, fmt.Errorf("resources depend on each other in a cycle: %s", strings.Join(cycle, " → ")))
	}
	return errors.Join(errs...)
}

func (d doc) resolve(ref reference) error {
	if _, ok := d.Resources[ref.name]; ok {
		return nil
	}
	if ref.attribute != "" {
		return fmt.Errorf("%s: gets attribute %s of %s, which is not a resource", ref.from, ref.attribute, ref.name)
	}
	if _, ok := d.Parameters[ref.name]; ok || slices.Contains(pseudoParameters, ref.name) {
		return nil
	}
	return fmt.Errorf("%s: refers to %s, which is neither a resource nor a parameter", ref.from, ref.name)
}

// findCycle returns one dependency cycle, or nil.
func findCycle(deps map[string][]string) []string {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var stack []string
	var visit func(n string) []string
	visit = func(n string) []string {
		state[n] = visiting
		stack = append(stack, n)
		for _, m := range deps[n] {
			switch state[m] {
			case visiting:
				i := slices.Index(stack, m)
				return append(slices.Clone(stack[i:]), m)
			case unvisited:
				if c := visit(m); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return nil
	}
	for _, n := range slices.Sorted(maps.Keys(deps)) {
		if state[n] == unvisited {
			if c := visit(n); c != nil {
				return c
			}
		}
	}
	return nil
}
