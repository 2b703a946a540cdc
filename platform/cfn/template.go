// Package cfn is the typed CloudFormation template model the stacks are
// rendered into: the template, its resources, the intrinsic functions, and
// the checks a template must pass before it is sent (Check for references,
// dependencies and cycles; Schemas for AWS's resource schemas).
//
// Only the intrinsics the local cloud also evaluates are offered: Ref,
// Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select, Fn::GetAZs and Fn::If.
package cfn

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Template is a CloudFormation template.
type Template struct {
	AWSTemplateFormatVersion string               `json:"AWSTemplateFormatVersion"`
	Description              string               `json:"Description,omitempty"`
	Parameters               map[string]Parameter `json:"Parameters,omitempty"`
	Conditions               map[string]Value     `json:"Conditions,omitempty"`
	Resources                map[string]Resource  `json:"Resources"`
	Outputs                  map[string]Output    `json:"Outputs,omitempty"`
}

// New returns an empty template with the given description.
func New(description string) *Template {
	return &Template{
		AWSTemplateFormatVersion: "2010-09-09",
		Description:              description,
		Parameters:               map[string]Parameter{},
		Resources:                map[string]Resource{},
		Outputs:                  map[string]Output{},
	}
}

// Add adds a resource under a logical id; adding an id twice is a bug in the
// renderer, so it panics.
func (t *Template) Add(id string, r Resource) {
	if _, dup := t.Resources[id]; dup {
		panic("cfn: resource " + id + " added twice")
	}
	t.Resources[id] = r
}

// Output adds an exported output.
func (t *Template) Output(name, description string, v Value) {
	t.Outputs[name] = Output{Description: description, Value: v}
}

// JSON renders the template as indented JSON, with <, > and & as they are
// (policies and descriptions read better that way).
func (t *Template) JSON() ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(t); err != nil {
		return nil, fmt.Errorf("marshal template: %w", err)
	}
	return buf.Bytes(), nil
}

// Parameter is a template parameter.
type Parameter struct {
	Type           string   `json:"Type"`
	Description    string   `json:"Description,omitempty"`
	Default        string   `json:"Default,omitempty"`
	AllowedPattern string   `json:"AllowedPattern,omitempty"`
	AllowedValues  []string `json:"AllowedValues,omitempty"`
	MinLength      int      `json:"MinLength,omitempty"`
}

// Resource is one resource: its type and typed properties.
type Resource struct {
	Type                string   `json:"Type"`
	Condition           string   `json:"Condition,omitempty"`
	DependsOn           []string `json:"DependsOn,omitempty"`
	DeletionPolicy      string   `json:"DeletionPolicy,omitempty"`
	UpdateReplacePolicy string   `json:"UpdateReplacePolicy,omitempty"`
	Properties          any      `json:"Properties,omitempty"`
}

// Output is a stack output.
type Output struct {
	Description string `json:"Description,omitempty"`
	Value       Value  `json:"Value"`
}

// Value is a property value: a literal (String, Int, Bool, List) or an
// intrinsic function.
type Value interface{ value() }

// String is a literal string value.
type String string

// Int is a literal number value.
type Int int

// Bool is a literal boolean value.
type Bool bool

// List is a list of values.
type List []Value

func (String) value() {}
func (Int) value()    {}
func (Bool) value()   {}
func (List) value()   {}

// Strings turns literal strings into a List.
func Strings(ss ...string) List {
	l := make(List, len(ss))
	for i, s := range ss {
		l[i] = String(s)
	}
	return l
}

// fn is an intrinsic function: a one-key object.
type fn struct {
	name string
	arg  any
}

func (fn) value() {}

func (f fn) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{f.name: f.arg})
}

// Ref refers to a resource (its primary id) or a parameter.
func Ref(name string) Value { return fn{"Ref", name} }

// GetAtt gets an attribute of a resource.
func GetAtt(resource, attribute string) Value {
	return fn{"Fn::GetAtt", []string{resource, attribute}}
}

// Sub substitutes ${Name} and ${Name.Attr} in s.
func Sub(s string) Value { return fn{"Fn::Sub", s} }

// SubWith substitutes ${Name} in s with vars, then resources and parameters.
func SubWith(s string, vars map[string]Value) Value {
	return fn{"Fn::Sub", []any{s, vars}}
}

// Join joins values with a separator.
func Join(sep string, parts ...Value) Value {
	return fn{"Fn::Join", []any{sep, List(parts)}}
}

// Select picks the index-th element of a list.
func Select(index int, list Value) Value {
	return fn{"Fn::Select", []any{index, list}}
}

// GetAZs lists the availability zones of the stack's region.
func GetAZs() Value { return fn{"Fn::GetAZs", ""} }

// If picks then or otherwise by a condition's value.
func If(condition string, then, otherwise Value) Value {
	return fn{"Fn::If", []any{condition, then, otherwise}}
}

// NoValue removes a property where it is used (with If).
func NoValue() Value { return Ref("AWS::NoValue") }

// Equals is the Fn::Equals condition.
func Equals(a, b Value) Value { return fn{"Fn::Equals", []Value{a, b}} }

// Not is the Fn::Not condition.
func Not(c Value) Value { return fn{"Fn::Not", []Value{c}} }

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"Key"`
	Value Value  `json:"Value"`
}
