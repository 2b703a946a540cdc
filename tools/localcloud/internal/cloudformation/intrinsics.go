package cloudformation

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// noValue is what Ref AWS::NoValue evaluates to: the property or list element
// holding it disappears.
type noValue struct{}

// Unknown stands for a value not known until a resource is created or
// updated (a change set's "known after apply").
type Unknown struct{ Ref string }

// errUnknown marks an evaluation that needed an Unknown value where it had
// to be concrete (in a Fn::Join, say): the whole value is then unknown.
var errUnknown = errors.New("value known only after the resources it refers to exist")

// pseudoNames are the pseudo parameters templates may Ref.
var pseudoNames = []string{"AWS::Region", "AWS::AccountId", "AWS::StackName", "AWS::StackId", "AWS::Partition", "AWS::URLSuffix", "AWS::NoValue", "AWS::NotificationARNs"}

func isPseudo(name string) bool {
	for _, p := range pseudoNames {
		if p == name {
			return true
		}
	}
	return false
}

// evaluator resolves intrinsic functions against one stack's parameters,
// conditions and resources.
type evaluator struct {
	tmpl      *Template
	params    map[string]any // string, or []string for list types
	region    string
	account   string
	stackName string
	stackID   string
	// resource answers Ref (attr "") and Fn::GetAtt for a logical id; it may
	// return Unknown.
	resource func(id, attr string) (any, error)
	// importValue answers Fn::ImportValue.
	importValue func(name string) (string, error)

	conds map[string]bool
}

// condition evaluates a named condition (memoised).
func (e *evaluator) condition(name string) (bool, error) {
	if v, ok := e.conds[name]; ok {
		return v, nil
	}
	body, ok := e.tmpl.Conditions[name]
	if !ok {
		return false, msgf("Template error: unresolved condition dependency %s", name)
	}
	if e.conds == nil {
		e.conds = map[string]bool{}
	}
	v, err := e.condValue(body)
	if err != nil {
		return false, msgf("Template error: condition %s: %w", name, err)
	}
	e.conds[name] = v
	return v, nil
}

// condValue evaluates a condition expression: a {"Condition": name}, or a
// function returning a boolean.
func (e *evaluator) condValue(v any) (bool, error) {
	if m, ok := v.(map[string]any); ok && len(m) == 1 {
		if name, ok := m["Condition"].(string); ok {
			return e.condition(name)
		}
	}
	r, err := e.eval(v)
	if err != nil {
		return false, err
	}
	switch c := r.(type) {
	case bool:
		return c, nil
	case string:
		if c == "true" || c == "false" {
			return c == "true", nil
		}
	}
	return false, fmt.Errorf("condition must evaluate to true or false, not %v", r)
}

// eval resolves every intrinsic function in v.
func (e *evaluator) eval(v any) (any, error) {
	switch c := v.(type) {
	case map[string]any:
		if len(c) == 1 {
			for k, a := range c {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return e.fn(k, a)
				}
			}
		}
		out := make(map[string]any, len(c))
		for k, ev := range c {
			r, err := e.eval(ev)
			if err != nil {
				return nil, err
			}
			if _, ok := r.(noValue); ok {
				continue
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(c))
		for _, ev := range c {
			r, err := e.eval(ev)
			if err != nil {
				return nil, err
			}
			if _, ok := r.(noValue); ok {
				continue
			}
			out = append(out, r)
		}
		return out, nil
	}
	return v, nil
}

func (e *evaluator) fn(name string, a any) (any, error) {
	switch name {
	case "Ref":
		s, ok := a.(string)
		if !ok {
			return nil, msgf("Template error: Ref must name a resource or parameter")
		}
		return e.ref(s)
	case "Fn::GetAtt":
		id, attr, err := getAttArgs(a)
		if err != nil {
			return nil, err
		}
		if _, ok := e.tmpl.Resources[id]; !ok {
			return nil, msgf("Template error: instance of Fn::GetAtt references undefined resource %s", id)
		}
		return e.resource(id, attr)
	case "Fn::Sub":
		return e.sub(a)
	case "Fn::Join":
		args, ok := a.([]any)
		if !ok || len(args) != 2 {
			return nil, msgf("Template error: Fn::Join takes [delimiter, [values]]")
		}
		delim, ok := args[0].(string)
		if !ok {
			return nil, msgf("Template error: Fn::Join's delimiter must be a string")
		}
		list, err := e.eval(args[1])
		if err != nil {
			return nil, err
		}
		items, err := stringList(list)
		if err != nil {
			return nil, msgf("Template error: Fn::Join: %w", err)
		}
		return strings.Join(items, delim), nil
	case "Fn::Select":
		args, ok := a.([]any)
		if !ok || len(args) != 2 {
			return nil, msgf("Template error: Fn::Select takes [index, [values]]")
		}
		idxv, err := e.eval(args[0])
		if err != nil {
			return nil, err
		}
		idx, err := strconv.Atoi(scalarString(idxv))
		if err != nil {
			return nil, msgf("Template error: Fn::Select's index must be a number, not %v", idxv)
		}
		list, err := e.eval(args[1])
		if err != nil {
			return nil, err
		}
		if u, ok := list.(Unknown); ok {
			return u, nil
		}
		if ss, ok := list.([]string); ok {
			list = toAnyList(ss)
		}
		items, ok := list.([]any)
		if !ok {
			return nil, msgf("Template error: Fn::Select requires a list")
		}
		if idx < 0 || idx >= len(items) {
			return nil, msgf("Template error: Fn::Select cannot select nonexistent value at index %d", idx)
		}
		return items[idx], nil
	case "Fn::Split":
		args, ok := a.([]any)
		if !ok || len(args) != 2 {
			return nil, msgf("Template error: Fn::Split takes [delimiter, string]")
		}
		delim, ok := args[0].(string)
		if !ok {
			return nil, msgf("Template error: Fn::Split's delimiter must be a string")
		}
		s, err := e.eval(args[1])
		if err != nil {
			return nil, err
		}
		if u, ok := s.(Unknown); ok {
			return u, nil
		}
		str, ok := s.(string)
		if !ok {
			return nil, msgf("Template error: Fn::Split's source must be a string")
		}
		return toAnyList(strings.Split(str, delim)), nil
	case "Fn::GetAZs":
		r, err := e.eval(a)
		if err != nil {
			return nil, err
		}
		region := scalarString(r)
		if region == "" {
			region = e.region
		}
		return []any{region + "a", region + "b", region + "c"}, nil
	case "Fn::If":
		args, ok := a.([]any)
		if !ok || len(args) != 3 {
			return nil, msgf("Template error: Fn::If takes [condition, then, else]")
		}
		cname, ok := args[0].(string)
		if !ok {
			return nil, msgf("Template error: Fn::If's first argument must name a condition")
		}
		ok, err := e.condition(cname)
		if err != nil {
			return nil, err
		}
		if ok {
			return e.eval(args[1])
		}
		return e.eval(args[2])
	case "Fn::Equals":
		args, ok := a.([]any)
		if !ok || len(args) != 2 {
			return nil, msgf("Template error: Fn::Equals takes two values")
		}
		x, err := e.eval(args[0])
		if err != nil {
			return nil, err
		}
		y, err := e.eval(args[1])
		if err != nil {
			return nil, err
		}
		return equalValues(x, y), nil
	case "Fn::Not":
		args, ok := a.([]any)
		if !ok || len(args) != 1 {
			return nil, msgf("Template error: Fn::Not takes one condition")
		}
		v, err := e.condValue(args[0])
		return !v, err
	case "Fn::And", "Fn::Or":
		args, ok := a.([]any)
		if !ok || len(args) < 2 || len(args) > 10 {
			return nil, msgf("Template error: %s takes 2 to 10 conditions", name)
		}
		and := name == "Fn::And"
		for _, c := range args {
			v, err := e.condValue(c)
			if err != nil {
				return nil, err
			}
			if and && !v {
				return false, nil
			}
			if !and && v {
				return true, nil
			}
		}
		return and, nil
	case "Fn::FindInMap":
		args, ok := a.([]any)
		if !ok || len(args) != 3 {
			return nil, msgf("Template error: Fn::FindInMap takes [map, top-level key, second-level key]")
		}
		keys := make([]string, 3)
		for i, x := range args {
			r, err := e.eval(x)
			if err != nil {
				return nil, err
			}
			keys[i] = scalarString(r)
		}
		m, ok := e.tmpl.Mappings[keys[0]]
		if !ok {
			return nil, msgf("Template error: Mapping named '%s' is not present in the 'Mappings' section of template.", keys[0])
		}
		top, ok := m[keys[1]]
		if !ok {
			return nil, msgf("Template error: Unable to get mapping for %s::%s::%s", keys[0], keys[1], keys[2])
		}
		v, ok := top[keys[2]]
		if !ok {
			return nil, msgf("Template error: Unable to get mapping for %s::%s::%s", keys[0], keys[1], keys[2])
		}
		return v, nil
	case "Fn::ImportValue":
		r, err := e.eval(a)
		if err != nil {
			return nil, err
		}
		if u, ok := r.(Unknown); ok {
			return u, nil
		}
		return e.importValue(scalarString(r))
	case "Fn::Base64":
		r, err := e.eval(a)
		if err != nil {
			return nil, err
		}
		return r, nil // CloudFormation hands the decoded text to the service anyway.
	}
	return nil, msgf("Template format error: Unrecognized intrinsic function %s", name)
}

func (e *evaluator) ref(name string) (any, error) {
	switch name {
	case "AWS::Region":
		return e.region, nil
	case "AWS::AccountId":
		return e.account, nil
	case "AWS::StackName":
		return e.stackName, nil
	case "AWS::StackId":
		return e.stackID, nil
	case "AWS::Partition":
		return "aws", nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	case "AWS::NoValue":
		return noValue{}, nil
	case "AWS::NotificationARNs":
		return []any{}, nil
	}
	if v, ok := e.params[name]; ok {
		if ss, ok := v.([]string); ok {
			return toAnyList(ss), nil
		}
		return v, nil
	}
	if _, ok := e.tmpl.Resources[name]; ok {
		return e.resource(name, "")
	}
	return nil, msgf("Template format error: Unresolved resource dependencies [%s] in the Resources block of the template", name)
}

func (e *evaluator) sub(a any) (any, error) {
	str, vars, err := subArgs(a)
	if err != nil {
		return nil, err
	}
	resolved := map[string]any{}
	for k, v := range vars {
		r, err := e.eval(v)
		if err != nil {
			return nil, err
		}
		resolved[k] = r
	}
	var b strings.Builder
	unknown := false
	for {
		i := strings.Index(str, "${")
		if i < 0 {
			b.WriteString(str)
			break
		}
		j := strings.Index(str[i:], "}")
		if j < 0 {
			b.WriteString(str)
			break
		}
		b.WriteString(str[:i])
		name := str[i+2 : i+j]
		str = str[i+j+1:]
		if strings.HasPrefix(name, "!") {
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		name = strings.TrimSpace(name)
		var v any
		if r, ok := resolved[name]; ok {
			v = r
		} else if id, attr, ok := strings.Cut(name, "."); ok && !isPseudo(name) {
			if _, ok := e.tmpl.Resources[id]; !ok {
				return nil, msgf("Template error: instance of Fn::Sub references invalid resource attribute %s", name)
			}
			v, err = e.resource(id, attr)
			if err != nil {
				return nil, err
			}
		} else {
			v, err = e.ref(name)
			if err != nil {
				return nil, err
			}
		}
		if _, ok := v.(Unknown); ok {
			unknown = true
			continue
		}
		if _, isList := v.([]any); isList {
			return nil, msgf("Template error: variable %s in Fn::Sub expression does not resolve to a string", name)
		}
		b.WriteString(scalarString(v))
	}
	if unknown {
		return Unknown{Ref: "Fn::Sub"}, nil
	}
	return b.String(), nil
}

func stringList(v any) ([]string, error) {
	switch c := v.(type) {
	case Unknown:
		return nil, errUnknown
	case []string:
		return c, nil
	case []any:
		out := make([]string, 0, len(c))
		for _, e := range c {
			if _, ok := e.(Unknown); ok {
				return nil, errUnknown
			}
			switch e.(type) {
			case map[string]any, []any:
				return nil, fmt.Errorf("list elements must be strings")
			}
			out = append(out, scalarString(e))
		}
		return out, nil
	}
	return nil, fmt.Errorf("requires a list of strings")
}

func toAnyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func equalValues(x, y any) bool {
	bx, _ := json.Marshal(normalize(x))
	by, _ := json.Marshal(normalize(y))
	return string(bx) == string(by)
}

// normalize turns scalars into strings so that "5" and 5 compare equal, as
// CloudFormation compares property values.
func normalize(v any) any {
	switch c := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(c))
		for k, e := range c {
			out[k] = normalize(e)
		}
		return out
	case []any:
		out := make([]any, len(c))
		for i, e := range c {
			out[i] = normalize(e)
		}
		return out
	case []string:
		return normalize(toAnyList(c))
	case Unknown:
		return "{{unknown}}"
	}
	return scalarString(v)
}

// evalUnknownAware evaluates v; an Unknown anywhere a concrete value was
// needed makes the result Unknown instead of an error.
func (e *evaluator) evalUnknownAware(v any) (any, error) {
	r, err := e.eval(v)
	if errors.Is(err, errUnknown) {
		return Unknown{Ref: "value"}, nil
	}
	return r, err
}

// hasUnknown reports whether v holds an Unknown anywhere.
func hasUnknown(v any) bool {
	switch c := v.(type) {
	case Unknown:
		return true
	case map[string]any:
		for _, e := range c {
			if hasUnknown(e) {
				return true
			}
		}
	case []any:
		for _, e := range c {
			if hasUnknown(e) {
				return true
			}
		}
	}
	return false
}

// resolveParameters checks the given values against the declarations and
// fills in defaults; previous holds the values of the last deployment for
// UsePreviousValue.
func resolveParameters(t *Template, given []ParamInput, previous map[string]string) (map[string]any, map[string]string, error) {
	values := map[string]string{}
	for _, p := range given {
		if _, ok := t.Parameters[p.ParameterKey]; !ok {
			return nil, nil, msgf("Parameters: [%s] do not exist in the template", p.ParameterKey)
		}
		if p.UsePreviousValue {
			v, ok := previous[p.ParameterKey]
			if !ok {
				return nil, nil, msgf("Invalid input for parameter key %s. Cannot specify usePreviousValue as true for a parameter key not in the previous template", p.ParameterKey)
			}
			values[p.ParameterKey] = v
			continue
		}
		values[p.ParameterKey] = p.ParameterValue
	}
	var missing []string
	names := make([]string, 0, len(t.Parameters))
	for name := range t.Parameters {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		decl := t.Parameters[name]
		v, ok := values[name]
		if !ok {
			if decl.Default == nil {
				missing = append(missing, name)
				continue
			}
			v = *decl.Default
			values[name] = v
		}
		if err := checkParameter(name, decl, v); err != nil {
			return nil, nil, err
		}
	}
	if len(missing) > 0 {
		return nil, nil, msgf("Parameters: [%s] must have values", strings.Join(missing, ", "))
	}
	resolved := map[string]any{}
	for name, v := range values {
		typ := t.Parameters[name].Type
		if typ == "CommaDelimitedList" || strings.HasPrefix(typ, "List<") {
			parts := []string{}
			if v != "" {
				for _, p := range strings.Split(v, ",") {
					parts = append(parts, strings.TrimSpace(p))
				}
			}
			resolved[name] = parts
			continue
		}
		resolved[name] = v
	}
	return resolved, values, nil
}

func checkParameter(name string, p *Parameter, v string) error {
	fail := func(def string) error {
		if p.ConstraintDescription != "" {
			return msgf("Parameter '%s' %s", name, p.ConstraintDescription)
		}
		return msgf("Parameter '%s' %s", name, def)
	}
	if len(p.AllowedValues) > 0 {
		ok := false
		for _, a := range p.AllowedValues {
			if a == v {
				ok = true
			}
		}
		if !ok {
			return fail("must be one of AllowedValues")
		}
	}
	if p.AllowedPattern != "" {
		re := regexp.MustCompile("^(?:" + p.AllowedPattern + ")$")
		if !re.MatchString(v) {
			return fail("failed to satisfy constraint: Malformed input-Parameter " + name + " must match pattern " + p.AllowedPattern)
		}
	}
	if p.MinLength != nil && len(v) < *p.MinLength {
		return fail(fmt.Sprintf("must contain at least %d characters", *p.MinLength))
	}
	if p.MaxLength != nil && len(v) > *p.MaxLength {
		return fail(fmt.Sprintf("must contain at most %d characters", *p.MaxLength))
	}
	if p.Type == "Number" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return fail("must be a number")
		}
		if p.MinValue != nil && f < *p.MinValue {
			return fail(fmt.Sprintf("must be a number not less than %g", *p.MinValue))
		}
		if p.MaxValue != nil && f > *p.MaxValue {
			return fail(fmt.Sprintf("must be a number not greater than %g", *p.MaxValue))
		}
	}
	return nil
}
