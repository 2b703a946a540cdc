package cfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schemas validates templates against CloudFormation resource provider
// schemas (the registry's JSON Schemas, one file per resource type).
//
// Literal property values are checked in full: types, required properties,
// enums, patterns, ranges, unknown properties. A value that is an intrinsic
// function (Ref, Fn::Sub, ...) cannot be checked until CloudFormation
// resolves it, so wherever the schema allows a value, it also allows a
// well-formed intrinsic; the references themselves are checked by Check, and
// each Fn::GetAtt's attribute against the target type's read-only properties.
type Schemas struct {
	mu    sync.Mutex
	types map[string]*resourceSchema
}

type resourceSchema struct {
	file       string
	raw        map[string]any
	readOnly   []string // attribute names: Arn, Endpoint.Address
	writable   []string
	compiled   *jsonschema.Schema
	compileErr error
}

// LoadSchemas reads every resource schema (*.json with a typeName) in dir.
func LoadSchemas(dir string) (*Schemas, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list schemas in %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("load schemas: no *.json files in %s", dir)
	}
	s := &Schemas{types: map[string]*resourceSchema{}}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read schema: %w", err)
		}
		var raw map[string]any
		if err := json.Unmarshal(b, &raw); err != nil {
			return nil, fmt.Errorf("parse schema %s: %w", f, err)
		}
		typeName, _ := raw["typeName"].(string)
		if typeName == "" {
			continue
		}
		rs := &resourceSchema{file: f, raw: raw}
		ro, _ := raw["readOnlyProperties"].([]any)
		for _, p := range ro {
			ps, _ := p.(string)
			rs.readOnly = append(rs.readOnly, strings.ReplaceAll(strings.TrimPrefix(ps, "/properties/"), "/", "."))
		}
		props, _ := raw["properties"].(map[string]any)
		for name := range props {
			if !slices.Contains(rs.readOnly, name) {
				rs.writable = append(rs.writable, name)
			}
		}
		s.types[typeName] = rs
	}
	return s, nil
}

// Types lists the resource types the schemas cover.
func (s *Schemas) Types() []string { return slices.Sorted(maps.Keys(s.types)) }

// intrinsic is the schema of an intrinsic function: an object with one key.
var intrinsic = map[string]any{
	"type":                 "object",
	"minProperties":        1,
	"maxProperties":        1,
	"patternProperties":    map[string]any{`^(Ref|Condition|Fn::[A-Za-z]+)$`: map[string]any{}},
	"additionalProperties": false,
}

const intrinsicDef = "__Intrinsic"

func (rs *resourceSchema) compile() (*jsonschema.Schema, error) {
	if rs.compiled != nil || rs.compileErr != nil {
		return rs.compiled, rs.compileErr
	}
	// Re-read into a fresh copy: the rewrite below changes it.
	b, _ := json.Marshal(rs.raw)
	var doc map[string]any
	_ = json.Unmarshal(b, &doc)
	delete(doc, "$schema") // the provider meta-schema, not needed to validate
	delete(doc, "$id")
	allowIntrinsics(doc)
	defs, _ := doc["definitions"].(map[string]any)
	if defs == nil {
		defs = map[string]any{}
		doc["definitions"] = defs
	}
	defs[intrinsicDef] = intrinsic
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft7)
	url := "file:///" + filepath.Base(rs.file)
	if err := c.AddResource(url, doc); err != nil {
		rs.compileErr = fmt.Errorf("add schema %s: %w", rs.file, err)
		return nil, rs.compileErr
	}
	rs.compiled, rs.compileErr = c.Compile(url)
	if rs.compileErr != nil {
		rs.compileErr = fmt.Errorf("compile schema %s: %w", rs.file, rs.compileErr)
	}
	return rs.compiled, rs.compileErr
}

// allowIntrinsics rewrites every property, item and additional-property
// schema below node S into anyOf [S, intrinsic].
func allowIntrinsics(node map[string]any) {
	wrap := func(v any) any {
		m, ok := v.(map[string]any)
		if !ok {
			return v // true/false schemas
		}
		allowIntrinsics(m)
		return map[string]any{"anyOf": []any{m, map[string]any{"$ref": "#/definitions/" + intrinsicDef}}}
	}
	for _, key := range []string{"properties", "patternProperties"} {
		if props, ok := node[key].(map[string]any); ok {
			for name, v := range props {
				props[name] = wrap(v)
			}
		}
	}
	if defs, ok := node["definitions"].(map[string]any); ok {
		for _, v := range defs {
			if m, ok := v.(map[string]any); ok {
				allowIntrinsics(m)
			}
		}
	}
	switch items := node["items"].(type) {
	case map[string]any:
		node["items"] = wrap(items)
	case []any:
		for i, it := range items {
			items[i] = wrap(it)
		}
	}
	if ap, ok := node["additionalProperties"].(map[string]any); ok {
		node["additionalProperties"] = wrap(ap)
	}
	for _, key := range []string{"anyOf", "oneOf", "allOf"} {
		if list, ok := node[key].([]any); ok {
			for _, v := range list {
				if m, ok := v.(map[string]any); ok {
					allowIntrinsics(m)
				}
			}
		}
	}
}

// Validate checks every resource of a rendered template against its type's
// schema and every Fn::GetAtt against the target's attributes. It returns
// every problem, joined.
func (s *Schemas) Validate(template []byte) error {
	var d doc
	if err := json.Unmarshal(template, &d); err != nil {
		return fmt.Errorf("read template: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(d.Resources)) {
		r := d.Resources[id]
		rs, ok := s.types[r.Type]
		if !ok {
			errs = append(errs, fmt.Errorf("resource %s: no schema for type %s; add its registry schema or use a known type", id, r.Type))
			continue
		}
		props := r.Properties
		if props == nil {
			props = map[string]any{}
		}
		if m, ok := props.(map[string]any); ok {
			for name := range m {
				if slices.Contains(rs.readOnly, name) {
					errs = append(errs, fmt.Errorf("resource %s (%s): sets %s, which is read-only", id, r.Type, name))
				}
			}
		}
		sch, err := rs.compile()
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := sch.Validate(props); err != nil {
			errs = append(errs, fmt.Errorf("resource %s (%s): %w", id, r.Type, err))
		}
		for _, ref := range references(id, r.Properties) {
			errs = append(errs, s.checkAttribute(d, ref))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.Outputs)) {
		for _, ref := range references("output "+name, d.Outputs[name]) {
			errs = append(errs, s.checkAttribute(d, ref))
		}
	}
	return errors.Join(errs...)
}

func (s *Schemas) checkAttribute(d doc, ref reference) error {
	if ref.attribute == "" {
		return nil
	}
	target, ok := d.Resources[ref.name]
	if !ok {
		return nil // Check reports it
	}
	rs, ok := s.types[target.Type]
	if !ok {
		return nil // reported for the target itself
	}
	if !slices.Contains(rs.readOnly, ref.attribute) {
		return fmt.Errorf("%s: gets attribute %s of %s (%s), which has only %s", ref.from, ref.attribute, ref.name, target.Type, strings.Join(rs.readOnly, ", "))
	}
	return nil
}
