package cloudformation

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// decodeYAML reads a YAML template into the same values a JSON one decodes
// to, turning the short-form intrinsic tags (!Ref, !Sub, !GetAtt, …) into
// their long form ({"Ref": …}, {"Fn::Sub": …}).
func decodeYAML(body string) (map[string]any, error) {
	f, err := parser.ParseBytes([]byte(body), 0)
	if err != nil {
		return nil, msgf("Template format error: YAML not well-formed. (%v)", err)
	}
	if len(f.Docs) != 1 || f.Docs[0].Body == nil {
		return nil, msgf("Template format error: a template is one YAML document")
	}
	v, err := yamlValue(f.Docs[0].Body)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, msgf("Template format error: the template is not a mapping")
	}
	return m, nil
}

func yamlValue(n ast.Node) (any, error) {
	switch n := n.(type) {
	case nil, *ast.NullNode:
		return nil, nil
	case *ast.DocumentNode:
		return yamlValue(n.Body)
	case *ast.MappingNode:
		m := make(map[string]any, len(n.Values))
		for _, kv := range n.Values {
			if err := yamlPair(m, kv); err != nil {
				return nil, err
			}
		}
		return m, nil
	case *ast.MappingValueNode:
		m := map[string]any{}
		return m, yamlPair(m, n)
	case *ast.SequenceNode:
		l := make([]any, 0, len(n.Values))
		for _, e := range n.Values {
			v, err := yamlValue(e)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case *ast.TagNode:
		return yamlTag(n)
	case *ast.AnchorNode:
		return yamlValue(n.Value)
	case *ast.StringNode:
		return n.Value, nil
	case *ast.LiteralNode:
		return n.Value.Value, nil
	case *ast.IntegerNode:
		return json.Number(fmt.Sprint(n.Value)), nil
	case *ast.FloatNode:
		return json.Number(strconv.FormatFloat(n.Value, 'f', -1, 64)), nil
	case *ast.BoolNode:
		return n.Value, nil
	case *ast.CommentNode, *ast.CommentGroupNode:
		return nil, nil
	}
	return nil, msgf("Template format error: unsupported YAML at line %d (%s)", n.GetToken().Position.Line, n.Type())
}

func yamlPair(m map[string]any, kv *ast.MappingValueNode) error {
	k, err := yamlValue(kv.Key)
	if err != nil {
		return err
	}
	v, err := yamlValue(kv.Value)
	if err != nil {
		return err
	}
	m[scalarString(k)] = v
	return nil
}

// yamlTag turns a short-form intrinsic into its long form.
func yamlTag(n *ast.TagNode) (any, error) {
	v, err := yamlValue(n.Value)
	if err != nil {
		return nil, err
	}
	tag := n.Start.Value
	switch tag {
	case "!Ref":
		return map[string]any{"Ref": v}, nil
	case "!Condition":
		return map[string]any{"Condition": v}, nil
	case "!GetAtt":
		if s, ok := v.(string); ok {
			id, attr, ok := strings.Cut(s, ".")
			if !ok {
				return nil, msgf("Template error: !GetAtt %s must be LogicalId.Attribute", s)
			}
			v = []any{id, attr}
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	case "!Base64", "!Cidr", "!FindInMap", "!GetAZs", "!ImportValue", "!Join", "!Select", "!Split", "!Sub",
		"!Transform", "!And", "!Equals", "!If", "!Not", "!Or", "!ToJsonString", "!Length":
		return map[string]any{"Fn::" + tag[1:]: v}, nil
	case "!!str":
		return scalarString(v), nil
	case "!!int", "!!float":
		return json.Number(scalarString(v)), nil
	}
	return nil, msgf("Template format error: unknown YAML tag %s at line %d", tag, n.Start.Position.Line)
}
