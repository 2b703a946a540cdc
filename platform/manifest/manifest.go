// Package manifest reads ship.yaml, the file that describes the service and
// its environments, and resolves one environment to a platform.Spec.
//
// The file's top level holds the application's name, settings shared by every
// environment, and an environments mapping whose entries override only what
// they name:
//
//	name: shipyard
//	region: us-east-1
//	environments:
//	  local:
//	    account: "000000000000"
//	    network: {nat: single}
//	  production:
//	    account: "123456789012"
//	    scaling: {max: 10}
//	    ci: # optional: a role GitHub Actions assumes to deploy (docs/ci.md)
//	      github: {repository: acme/shipyard, branch: main}
//	    iam: # optional: a permissions boundary for every role (docs/deployer-iam.md)
//	      permissionsBoundary: shipyard-boundary
//
// Parsing is strict: an unknown key, a value of the wrong type or a value out
// of AWS's range is a Problem naming the file, line, column and key, and every
// problem is reported at once.
package manifest

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/shipyard-ecs/shipyard/platform"
)

// DefaultPath is where ship looks for the manifest, relative to the repo root.
const DefaultPath = "ship.yaml"

// Problem is one thing wrong with the manifest, where it is and what to do.
type Problem struct {
	File   string
	Line   int // 0 when the value came from the defaults, not the file
	Column int
	// Key is the dotted path of the key, e.g. environments.production.task.cpu.
	Key     string
	Message string
}

func (p Problem) String() string {
	if p.Line == 0 {
		return fmt.Sprintf("%s: %s: %s", p.File, p.Key, p.Message)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", p.File, p.Line, p.Column, p.Key, p.Message)
}

// Error is every problem found in a manifest.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return fmt.Sprintf("check the manifest: %d problem(s):\n%s", len(e.Problems), strings.Join(lines, "\n"))
}

// Manifest is a parsed ship.yaml whose keys and types are known to be right.
// Values are checked per environment by Spec.
type Manifest struct {
	path     string
	name     string
	nameNode ast.Node // where name is set, if it is
	// common is the top-level settings; envs the per-environment ones.
	common *ast.MappingNode
	envs   map[string]*ast.MappingValueNode
	order  []string
}

// Load reads and parses the manifest at path.
func Load(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w (run ship from the repository root or pass --manifest)", err)
	}
	return Parse(path, data)
}

// LoadSpec loads the manifest at path and resolves environment env: the
// one call most commands need.
func LoadSpec(path, env string) (platform.Spec, error) {
	m, err := Load(path)
	if err != nil {
		return platform.Spec{}, err
	}
	return m.Spec(env)
}

// Parse parses a manifest read from path. It checks the YAML syntax, every
// key and every value's type, in every environment, and returns an *Error
// listing all problems.
func Parse(path string, data []byte) (*Manifest, error) {
	file, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, &Error{Problems: []Problem{syntaxProblem(path, err)}}
	}
	m := &Manifest{path: path, name: platform.DefaultName, envs: map[string]*ast.MappingValueNode{}}
	var problems []Problem
	add := func(n ast.Node, key, format string, args ...any) {
		problems = append(problems, m.problem(n, key, fmt.Sprintf(format, args...)))
	}
	if len(file.Docs) != 1 || file.Docs[0].Body == nil {
		return nil, &Error{Problems: []Problem{{File: path, Line: 1, Column: 1, Key: "(document)", Message: "want exactly one YAML document with name and environments"}}}
	}
	top, ok := unwrap(file.Docs[0].Body).(*ast.MappingNode)
	if !ok {
		add(file.Docs[0].Body, "(document)", "want a mapping with name and environments")
		return nil, &Error{Problems: problems}
	}
	common := &ast.MappingNode{BaseNode: top.BaseNode, Start: top.Start}
	var scratch platform.Spec
	for _, kv := range top.Values {
		key := keyString(kv.Key)
		switch key {
		case "name":
			if s, ok := unwrap(kv.Value).(*ast.StringNode); ok {
				m.name, m.nameNode = s.Value, s
			} else {
				add(kv.Value, "name", "want a string")
			}
		case "environments":
			envs, ok := unwrap(kv.Value).(*ast.MappingNode)
			if !ok {
				add(kv.Value, "environments", "want a mapping of environment names to their settings")
				continue
			}
			for _, env := range envs.Values {
				name := keyString(env.Key)
				if _, dup := m.envs[name]; dup {
					add(env.Key, "environments."+name, "is defined twice; merge the two")
					continue
				}
				m.envs[name] = env
				m.order = append(m.order, name)
				var scratch platform.Spec
				if _, isNull := unwrap(env.Value).(*ast.NullNode); isNull {
					continue // an environment of defaults only
				}
				problems = append(problems, m.apply(env.Value, reflect.ValueOf(&scratch).Elem(), "environments."+name, nil)...)
			}
		default:
			common.Values = append(common.Values, kv)
		}
	}
	problems = append(problems, m.apply(common, reflect.ValueOf(&scratch).Elem(), "", nil)...)
	if len(m.envs) == 0 {
		add(top, "environments", "is missing; add at least one environment, e.g. local")
	}
	m.common = common
	if len(problems) > 0 {
		slices.SortStableFunc(problems, func(a, b Problem) int { return a.Line - b.Line })
		return nil, &Error{Problems: problems}
	}
	return m, nil
}

// Name is the application's name.
func (m *Manifest) Name() string { return m.name }

// Path is the file the manifest was read from.
func (m *Manifest) Path() string { return m.path }

// Environments lists the environments in the order the file has them.
func (m *Manifest) Environments() []string { return slices.Clone(m.order) }

// Spec resolves environment env: the seed's defaults, then the top-level
// settings, then the environment's. It returns an *Error naming the file,
// line and key of every broken rule.
func (m *Manifest) Spec(env string) (platform.Spec, error) {
	envNode, ok := m.envs[env]
	if !ok {
		return platform.Spec{}, &Error{Problems: []Problem{{
			File: m.path, Key: "environments." + env,
			Message: fmt.Sprintf("no such environment; want one of %s", strings.Join(m.order, ", ")),
		}}}
	}
	spec := platform.Defaults(env)
	spec.Name = m.name
	pos := map[string]located{}
	v := reflect.ValueOf(&spec).Elem()
	// Parse already checked keys and types, so apply cannot fail here.
	m.apply(m.common, v, "", pos)
	if _, isNull := unwrap(envNode.Value).(*ast.NullNode); !isNull {
		m.apply(envNode.Value, v, "environments."+env, pos)
	}
	spec.Resolve()
	problems := spec.Validate()
	if problems == nil {
		return spec, nil
	}
	out := make([]Problem, 0, len(problems))
	for _, p := range problems {
		out = append(out, m.locate(p, env, envNode, pos))
	}
	slices.SortStableFunc(out, func(a, b Problem) int { return a.Line - b.Line })
	return spec, &Error{Problems: out}
}

// located is where a Spec path's value was set: the node and its full key.
type located struct {
	node ast.Node
	key  string
}

// locate finds the line of the value a problem is about: the innermost key
// on its path that the file set, else the environment's own key.
func (m *Manifest) locate(p platform.Problem, env string, envNode *ast.MappingValueNode, pos map[string]located) Problem {
	for path := p.Path; path != ""; path = parent(path) {
		if l, ok := pos[path]; ok {
			key := l.key + strings.TrimPrefix(p.Path, path)
			return m.problem(l.node, key, p.Message)
		}
	}
	if p.Path == "env" {
		return m.problem(envNode.Key, "environments."+env, p.Message)
	}
	if p.Path == "name" && m.nameNode != nil {
		return m.problem(m.nameNode, "name", p.Message)
	}
	return m.problem(envNode.Key, p.Path, p.Message+" (from the defaults; set "+p.Path+" in the manifest)")
}

func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// apply sets v (a struct) from the mapping node, recording where each path
// was set in pos (when not nil), and returns the problems with keys and types.
func (m *Manifest) apply(node ast.Node, v reflect.Value, prefix string, pos map[string]located) []Problem {
	var problems []Problem
	m.walk(node, v, prefix, "", pos, &problems)
	return problems
}

func (m *Manifest) walk(node ast.Node, v reflect.Value, key, specPath string, pos map[string]located, problems *[]Problem) {
	add := func(n ast.Node, msg string) { *problems = append(*problems, m.problem(n, key, msg)) }
	node = unwrap(node)
	if _, ok := node.(*ast.AliasNode); ok {
		add(node, "uses an alias; write the value out")
		return
	}
	if pos != nil && specPath != "" {
		pos[specPath] = located{node: node, key: key}
	}
	switch v.Kind() {
	case reflect.Struct:
		mapping, ok := node.(*ast.MappingNode)
		if !ok {
			add(node, "want a mapping of "+strings.Join(fieldNames(v.Type()), ", "))
			return
		}
		seen := map[string]bool{}
		for _, kv := range mapping.Values {
			name := keyString(kv.Key)
			sub := join(key, name)
			if seen[name] {
				*problems = append(*problems, m.problem(kv.Key, sub, "is set twice; keep one"))
				continue
			}
			seen[name] = true
			i := fieldIndex(v.Type(), name)
			if i < 0 {
				names := fieldNames(v.Type())
				if key == "" { // the top level also has these
					names = append(names, "environments", "name")
					slices.Sort(names)
				}
				*problems = append(*problems, m.problem(kv.Key, sub, "is not a known key; want one of "+strings.Join(names, ", ")))
				continue
			}
			m.walk(kv.Value, v.Field(i), sub, join(specPath, name), pos, problems)
		}
	case reflect.Map: // map[string]string
		mapping, ok := node.(*ast.MappingNode)
		if !ok {
			add(node, "want a mapping of names to strings")
			return
		}
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		for _, kv := range mapping.Values {
			name := keyString(kv.Key)
			sub := join(key, name)
			s, ok := scalarString(kv.Value)
			if !ok {
				*problems = append(*problems, m.problem(kv.Value, sub, "want a string value"))
				continue
			}
			if pos != nil {
				pos[join(specPath, name)] = located{node: kv.Key, key: sub}
			}
			v.SetMapIndex(reflect.ValueOf(name), reflect.ValueOf(s))
		}
	case reflect.Slice: // []string
		seq, ok := node.(*ast.SequenceNode)
		if !ok {
			add(node, "want a list of strings")
			return
		}
		out := reflect.MakeSlice(v.Type(), 0, len(seq.Values))
		for i, item := range seq.Values {
			sub := fmt.Sprintf("%s[%d]", key, i)
			s, ok := unwrap(item).(*ast.StringNode)
			if !ok {
				*problems = append(*problems, m.problem(item, sub, "want a string"))
				continue
			}
			if pos != nil {
				pos[fmt.Sprintf("%s[%d]", specPath, i)] = located{node: item, key: sub}
			}
			out = reflect.Append(out, reflect.ValueOf(s.Value))
		}
		v.Set(out)
	case reflect.String:
		s, ok := node.(*ast.StringNode)
		if !ok {
			msg := "want a string"
			if _, isInt := node.(*ast.IntegerNode); isInt {
				msg += "; quote it (\"" + node.GetToken().Value + "\") so leading zeros survive"
			}
			add(node, msg)
			return
		}
		v.SetString(s.Value)
	case reflect.Int:
		n, ok := node.(*ast.IntegerNode)
		if !ok {
			add(node, "want a whole number")
			return
		}
		i, err := strconv.ParseInt(n.Token.Value, 0, 64)
		if err != nil {
			add(node, "want a whole number that fits in 64 bits")
			return
		}
		v.SetInt(i)
	case reflect.Float64:
		switch n := node.(type) {
		case *ast.IntegerNode:
			i, _ := strconv.ParseInt(n.Token.Value, 0, 64)
			v.SetFloat(float64(i))
		case *ast.FloatNode:
			v.SetFloat(n.Value)
		default:
			add(node, "want a number")
		}
	case reflect.Bool:
		b, ok := node.(*ast.BoolNode)
		if !ok {
			add(node, "want true or false")
			return
		}
		v.SetBool(b.Value)
	default:
		panic(fmt.Sprintf("manifest: spec field of kind %s has no YAML reading", v.Kind()))
	}
}

func (m *Manifest) problem(n ast.Node, key, msg string) Problem {
	p := Problem{File: m.path, Key: key, Message: msg}
	if n != nil && n.GetToken() != nil {
		p.Line = n.GetToken().Position.Line
		p.Column = n.GetToken().Position.Column
	}
	return p
}

func syntaxProblem(path string, err error) Problem {
	p := Problem{File: path, Key: "(syntax)", Message: err.Error()}
	var se interface{ GetToken() *token.Token }
	if errors.As(err, &se) && se.GetToken() != nil {
		p.Line = se.GetToken().Position.Line
		p.Column = se.GetToken().Position.Column
		if m, ok := err.(interface{ GetMessage() string }); ok {
			p.Message = m.GetMessage()
		}
	}
	return p
}

// unwrap looks through anchors and tags to the value.
func unwrap(n ast.Node) ast.Node {
	for {
		switch t := n.(type) {
		case *ast.AnchorNode:
			n = t.Value
		case *ast.TagNode:
			n = t.Value
		default:
			return n
		}
	}
}

func keyString(k ast.MapKeyNode) string {
	if s, ok := scalarString(k); ok {
		return s
	}
	return k.String()
}

func scalarString(n ast.Node) (string, bool) {
	switch t := unwrap(n).(type) {
	case *ast.StringNode:
		return t.Value, true
	case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode:
		return t.GetToken().Value, true
	}
	return "", false
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

func fieldIndex(t reflect.Type, name string) int {
	for i := range t.NumField() {
		if n := jsonName(t.Field(i)); n == name && n != "-" {
			return i
		}
	}
	return -1
}

func fieldNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		if n := jsonName(t.Field(i)); n != "" && n != "-" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names
}
