package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// targetInput is what a target receives for an event: the event itself, the
// target's constant Input, the part of the event InputPath selects, or the
// InputTransformer's template filled from its paths.
func targetInput(t Target, event []byte) ([]byte, error) {
	switch {
	case t.Input != "":
		return []byte(t.Input), nil
	case t.InputPath != "":
		v, ok, err := jsonPath(event, t.InputPath)
		if err != nil {
			return nil, err
		}
		if !ok {
			return []byte("null"), nil
		}
		return json.Marshal(v)
	case t.InputTransformer != nil:
		return transform(t.InputTransformer, event)
	}
	return event, nil
}

// jsonPath evaluates the simple JSONPath EventBridge accepts in InputPath
// and InputPathsMap: $ or $.a.b[0].c.
func jsonPath(doc []byte, p string) (any, bool, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, false, fmt.Errorf("decode event: %w", err)
	}
	if p == "$" {
		return v, true, nil
	}
	if !strings.HasPrefix(p, "$.") {
		return nil, false, fmt.Errorf("evaluate path %q: must start with $", p)
	}
	for _, seg := range strings.Split(p[2:], ".") {
		name, idx, err := splitIndex(seg)
		if err != nil {
			return nil, false, fmt.Errorf("evaluate path %q: %w", p, err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false, nil
		}
		if v, ok = m[name]; !ok {
			return nil, false, nil
		}
		for _, i := range idx {
			arr, ok := v.([]any)
			if !ok || i >= len(arr) {
				return nil, false, nil
			}
			v = arr[i]
		}
	}
	return v, true, nil
}

var indexRE = regexp.MustCompile(`\[(\d+)\]`)

func splitIndex(seg string) (string, []int, error) {
	name, rest, _ := strings.Cut(seg, "[")
	if name == "" {
		return "", nil, fmt.Errorf("empty segment in %q", seg)
	}
	var idx []int
	if rest != "" {
		for _, m := range indexRE.FindAllStringSubmatch("["+rest, -1) {
			i, err := strconv.Atoi(m[1])
			if err != nil {
				return "", nil, fmt.Errorf("index %q: %w", m[1], err)
			}
			idx = append(idx, i)
		}
	}
	return name, idx, nil
}

var placeholderRE = regexp.MustCompile(`<([A-Za-z0-9_\-.$]+)>`)

// transform fills an InputTemplate: <name> becomes the value at
// InputPathsMap[name] (a string's raw text inside quotes in the template,
// JSON otherwise); <aws.events.event.json> is the whole event.
func transform(t *InputTransformer, event []byte) ([]byte, error) {
	vals := map[string]any{}
	for name, p := range t.InputPathsMap {
		v, ok, err := jsonPath(event, p)
		if err != nil {
			return nil, err
		}
		if ok {
			vals[name] = v
		}
	}
	tpl := t.InputTemplate
	var out strings.Builder
	last := 0
	for _, loc := range placeholderRE.FindAllStringSubmatchIndex(tpl, -1) {
		out.WriteString(tpl[last:loc[0]])
		last = loc[1]
		name := tpl[loc[2]:loc[3]]
		// A placeholder inside a JSON string takes a string's raw text;
		// elsewhere it takes the JSON value, so strings get their quotes.
		quoted := loc[0] > 0 && tpl[loc[0]-1] == '"' && loc[1] < len(tpl) && tpl[loc[1]] == '"'
		switch name {
		case "aws.events.event", "aws.events.event.json":
			out.Write(event)
			continue
		}
		v, ok := vals[name]
		if !ok {
			if _, known := t.InputPathsMap[name]; known {
				if !quoted {
					out.WriteString("null")
				}
				continue
			}
			out.WriteString(tpl[loc[0]:loc[1]])
			continue
		}
		b, _ := json.Marshal(v)
		if s, isStr := v.(string); isStr && quoted {
			b, _ = json.Marshal(s)
			b = b[1 : len(b)-1]
		}
		out.Write(b)
	}
	out.WriteString(tpl[last:])
	return []byte(out.String()), nil
}
