package cloudformation

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// deployment is one evaluation context: a stack, the template being applied
// and its resolved parameters.
type deployment struct {
	b      *Backend
	st     *Stack
	tmpl   *Template
	params map[string]any
	ev     *evaluator
	// active lists the resources whose Condition holds, dependencies first.
	active []string
	deps   map[string][]string
	// planning answers references to resources that do not exist yet (or
	// will be replaced: pending) with Unknown instead of failing.
	planning bool
	pending  map[string]bool
}

// newDeployment evaluates the template's conditions. Callers hold b.mu.
func (b *Backend) newDeployment(st *Stack, t *Template, params map[string]any, planning bool) (*deployment, error) {
	d := &deployment{b: b, st: st, tmpl: t, params: params, planning: planning, pending: map[string]bool{}, deps: map[string][]string{}}
	d.ev = &evaluator{
		tmpl: t, params: params, region: b.cfg.Region, account: b.cfg.Account,
		stackName: st.Name, stackID: st.ID, resource: d.resource, importValue: d.importValue,
	}
	order, err := t.order()
	if err != nil {
		return nil, err
	}
	activeSet := map[string]bool{}
	for _, id := range order {
		if c := t.Resources[id].Condition; c != "" {
			ok, err := d.ev.condition(c)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		d.active = append(d.active, id)
		activeSet[id] = true
	}
	for _, id := range d.active {
		for _, dep := range t.deps(id) {
			if activeSet[dep] {
				d.deps[id] = append(d.deps[id], dep)
			}
		}
	}
	return d, nil
}

// resource answers Ref and Fn::GetAtt from the stack's current resources.
// Callers hold b.mu.
func (d *deployment) resource(id, attr string) (any, error) {
	r := d.st.Resources[id]
	if d.planning && (r == nil || d.pending[id]) {
		if attr == "" {
			return Unknown{Ref: id}, nil
		}
		return Unknown{Ref: id + "." + attr}, nil
	}
	if r == nil || (r.PhysicalID == "" && r.Status != "CREATE_COMPLETE") {
		return nil, msgf("Template error: resource %s is not available to reference (it does not exist)", id)
	}
	if attr == "" {
		return r.PhysicalID, nil
	}
	v, ok := r.Attrs[attr]
	if !ok {
		return nil, msgf("Template error: resource %s does not support attribute type %s in Fn::GetAtt", id, attr)
	}
	return v, nil
}

func (d *deployment) importValue(name string) (string, error) {
	ex, ok := d.b.exports()[name]
	if !ok {
		return "", msgf("No export named %s found. Rollback requested by user.", name)
	}
	return ex[0], nil
}

// evalProps resolves a resource's properties, one top-level property at a
// time so that an unknown value spoils only its own property. Callers hold
// b.mu.
func (d *deployment) evalProps(id string) (map[string]any, error) {
	raw := d.tmpl.Resources[id].Properties
	out := map[string]any{}
	for k, v := range raw {
		r, err := d.ev.evalUnknownAware(v)
		if err != nil {
			return nil, err
		}
		if _, ok := r.(noValue); ok {
			continue
		}
		out[k] = r
	}
	return out, nil
}

// check validates a resource before anything is provisioned: its type must
// have a provisioner and its properties must fit the type's schema.
func (d *deployment) check(id string, props map[string]any) (map[string]any, error) {
	typ := d.tmpl.Resources[id].Type
	if _, ok := d.b.provs[typ]; !ok {
		return nil, msgf("Resource type %s is not supported by localcloud: it provisions %s", typ, strings.Join(d.b.types(), ", "))
	}
	coerced, err := d.b.cfg.Schemas.Validate(typ, props)
	if err != nil {
		return nil, msgf("Properties validation failed for resource %s with message: %v", id, err)
	}
	return coerced, nil
}

// types lists the resource types the backend provisions.
func (b *Backend) types() []string {
	out := make([]string, 0, len(b.provs))
	for t := range b.provs {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// outputs evaluates the template's outputs. Callers hold b.mu.
func (d *deployment) outputs() ([]StackOutput, error) {
	ids := make([]string, 0, len(d.tmpl.Outputs))
	for id := range d.tmpl.Outputs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	exports := d.b.exports()
	var out []StackOutput
	for _, id := range ids {
		o := d.tmpl.Outputs[id]
		if o.Condition != "" {
			ok, err := d.ev.condition(o.Condition)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		v, err := d.ev.evalUnknownAware(o.Value)
		if err != nil {
			return nil, fmt.Errorf("output %s: %w", id, err)
		}
		so := StackOutput{OutputKey: id, OutputValue: outputString(v), Description: o.Description}
		if o.ExportName != nil {
			n, err := d.ev.evalUnknownAware(o.ExportName)
			if err != nil {
				return nil, fmt.Errorf("output %s export name: %w", id, err)
			}
			so.ExportName = outputString(n)
			if ex, ok := exports[so.ExportName]; ok && ex[1] != d.st.Name {
				return nil, msgf("Export with name %s is already exported by stack %s. Rollback requested by user.", so.ExportName, ex[1])
			}
		}
		out = append(out, so)
	}
	return out, nil
}

// outputString renders an output value; lists join with commas, as
// CloudFormation shows them.
func outputString(v any) string {
	switch c := v.(type) {
	case []any:
		parts := make([]string, len(c))
		for i, e := range c {
			parts[i] = outputString(e)
		}
		return strings.Join(parts, ",")
	case map[string]any:
		b, _ := json.Marshal(c)
		return string(b)
	case Unknown:
		return ""
	}
	return scalarString(v)
}

// safely runs f, turning a panic into an error: a broken provisioner fails
// its resource, not localcloud.
func safely(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = msgf("Internal Failure: localcloud: %v", p)
		}
	}()
	return f()
}

// walk runs do for each id once all its dependencies among ids are done,
// the ready ones in parallel. After the first failure nothing new starts; it
// waits for the running ones and returns the ids that failed.
func walk(ids []string, deps map[string][]string, do func(id string) error) []string {
	in := map[string]bool{}
	for _, id := range ids {
		in[id] = true
	}
	waiting := map[string]int{}
	dependents := map[string][]string{}
	for _, id := range ids {
		for _, dep := range deps[id] {
			if in[dep] {
				waiting[id]++
				dependents[dep] = append(dependents[dep], id)
			}
		}
	}
	type done struct {
		id  string
		err error
	}
	ch := make(chan done)
	running := 0
	start := func(id string) {
		running++
		go func() { ch <- done{id, safely(func() error { return do(id) })} }()
	}
	for _, id := range ids {
		if waiting[id] == 0 {
			start(id)
		}
	}
	var failed []string
	for running > 0 {
		r := <-ch
		running--
		if r.err != nil {
			failed = append(failed, r.id)
			continue
		}
		if len(failed) > 0 {
			continue
		}
		for _, next := range dependents[r.id] {
			waiting[next]--
			if waiting[next] == 0 {
				start(next)
			}
		}
	}
	sort.Strings(failed)
	return failed
}

// reverse turns dependencies into dependents, for deleting in reverse order.
func reverse(ids []string, deps map[string][]string) map[string][]string {
	out := map[string][]string{}
	in := map[string]bool{}
	for _, id := range ids {
		in[id] = true
	}
	for _, id := range ids {
		for _, dep := range deps[id] {
			if in[dep] {
				out[dep] = append(out[dep], id)
			}
		}
	}
	return out
}

func (b *Backend) request(st *Stack, id, typ string, props map[string]any) *Request {
	return &Request{StackName: st.Name, StackID: st.ID, LogicalID: id, Type: typ, Properties: props, Region: b.cfg.Region, Account: b.cfg.Account}
}

// createResource creates one resource of d's template.
func (d *deployment) createResource(id string) error {
	b, st := d.b, d.st
	typ := d.tmpl.Resources[id].Type
	b.mu.Lock()
	props, err := d.evalProps(id)
	r := &StackResource{LogicalID: id, Type: typ, DeletionPolicy: d.tmpl.Resources[id].DeletionPolicy, Props: props}
	st.Resources[id] = r
	b.resourceEvent(st, r, "CREATE_IN_PROGRESS", "")
	if err == nil && hasUnknown(props) {
		err = errors.New("Template error: a property refers to a value that is not available")
	}
	b.mu.Unlock()
	if err == nil {
		props, err = d.check(id, props)
	}
	var res Result
	if err == nil {
		b.mu.Lock()
		r.Props = props
		b.resourceEvent(st, r, "CREATE_IN_PROGRESS", "Resource creation Initiated")
		// The event carries the properties the resource is created with,
		// as AWS's does.
		if pj, err := json.Marshal(props); err == nil {
			st.Events[len(st.Events)-1].Properties = string(pj)
		}
		b.mu.Unlock()
		err = safely(func() (err error) {
			res, err = b.provs[typ].Create(b.ctx, b.request(st, id, typ, props))
			return err
		})
	}
	b.mu.Lock()
	r.PhysicalID = res.PhysicalID
	r.Attrs = res.Attributes
	if err != nil {
		b.resourceEvent(st, r, "CREATE_FAILED", err.Error())
	} else {
		b.resourceEvent(st, r, "CREATE_COMPLETE", "")
	}
	b.mu.Unlock()
	b.save()
	return err
}

// deleteResource deletes one resource of the stack, honouring its
// DeletionPolicy when policy is set.
func (b *Backend) deleteResource(st *Stack, id string, r *StackResource, policy bool) error {
	b.mu.Lock()
	if policy && (r.DeletionPolicy == "Retain" || r.DeletionPolicy == "Snapshot") {
		b.resourceEvent(st, r, "DELETE_SKIPPED", "")
		if st.Resources[id] == r {
			delete(st.Resources, id)
		}
		b.mu.Unlock()
		return nil
	}
	b.resourceEvent(st, r, "DELETE_IN_PROGRESS", "")
	b.mu.Unlock()
	var err error
	if r.PhysicalID != "" {
		if prov, ok := b.provs[r.Type]; ok {
			err = safely(func() error {
				return prov.Delete(b.ctx, b.request(st, id, r.Type, r.Props), Result{PhysicalID: r.PhysicalID, Attributes: r.Attrs})
			})
		}
	}
	b.mu.Lock()
	if err != nil {
		b.resourceEvent(st, r, "DELETE_FAILED", err.Error())
	} else {
		b.resourceEvent(st, r, "DELETE_COMPLETE", "")
		if st.Resources[id] == r {
			delete(st.Resources, id)
		}
	}
	b.mu.Unlock()
	b.save()
	return err
}

// deleteAll deletes every resource of the stack in reverse dependency order
// (per tmpl) and returns the ids that failed.
func (b *Backend) deleteAll(st *Stack, tmpl *Template) []string {
	b.mu.Lock()
	ids := make([]string, 0, len(st.Resources))
	recs := map[string]*StackResource{}
	for id, r := range st.Resources {
		ids = append(ids, id)
		recs[id] = r
	}
	sort.Strings(ids)
	deps := map[string][]string{}
	if tmpl != nil {
		for _, id := range ids {
			if _, ok := tmpl.Resources[id]; ok {
				deps[id] = tmpl.deps(id)
			}
		}
	}
	b.mu.Unlock()
	return walk(ids, reverse(ids, deps), func(id string) error {
		return b.deleteResource(st, id, recs[id], true)
	})
}

// precheck evaluates and validates every resource of d before anything is
// provisioned: unknown types and invalid properties fail here. It returns
// the failing ids, with their reasons recorded as failed events.
func (d *deployment) precheck(failStatus string, only func(id string) bool) []string {
	b, st := d.b, d.st
	var failed []string
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, id := range d.active {
		if only != nil && !only(id) {
			continue
		}
		props, err := d.evalProps(id)
		if err == nil {
			err = safely(func() error { _, err := d.check(id, props); return err })
		}
		if err != nil {
			typ := d.tmpl.Resources[id].Type
			r := &StackResource{LogicalID: id, Type: typ}
			if old := st.Resources[id]; old != nil {
				r.PhysicalID = old.PhysicalID
			}
			b.resourceEvent(st, r, failStatus, err.Error())
			failed = append(failed, id)
		}
	}
	return failed
}

// runCreate creates a stack's resources and outputs, rolling back on
// failure. The caller counts it in b.wg.
func (b *Backend) runCreate(st *Stack, t *Template, params map[string]any, onFailure string) {
	b.mu.Lock()
	d, err := b.newDeployment(st, t, params, true)
	b.mu.Unlock()
	var failed []string
	var reason string
	if err != nil {
		reason = err.Error()
	} else {
		// Every resource is checked against its type and schema first, with
		// the values of resources not yet created unknown.
		failed = d.precheck("CREATE_FAILED", nil)
		d.planning = false
		if len(failed) == 0 {
			failed = walk(d.active, d.deps, d.createResource)
		}
		if len(failed) > 0 {
			reason = fmt.Sprintf("The following resource(s) failed to create: [%s]. ", strings.Join(failed, ", "))
		}
	}
	b.mu.Lock()
	if reason == "" {
		outs, err := d.outputs()
		if err != nil {
			reason = err.Error()
		} else {
			st.Outputs = outs
			b.stackEvent(st, "CREATE_COMPLETE", "", b.cfg.Clock.Now())
			b.mu.Unlock()
			b.save()
			return
		}
	}
	switch onFailure {
	case "DO_NOTHING":
		b.stackEvent(st, "CREATE_FAILED", reason, b.cfg.Clock.Now())
		b.mu.Unlock()
		b.save()
		return
	case "DELETE":
		b.stackEvent(st, "DELETE_IN_PROGRESS", reason+"Delete requested by user.", b.cfg.Clock.Now())
	default:
		b.stackEvent(st, "ROLLBACK_IN_PROGRESS", reason+"Rollback requested by user.", b.cfg.Clock.Now())
	}
	b.mu.Unlock()
	b.save()
	bad := b.deleteAll(st, t)
	b.mu.Lock()
	switch {
	case onFailure == "DELETE" && len(bad) == 0:
		st.Deleted = b.cfg.Clock.Now()
		b.stackEvent(st, "DELETE_COMPLETE", "", st.Deleted)
	case onFailure == "DELETE":
		b.stackEvent(st, "DELETE_FAILED", fmt.Sprintf("The following resource(s) failed to delete: [%s]. ", strings.Join(bad, ", ")), b.cfg.Clock.Now())
	case len(bad) > 0:
		b.stackEvent(st, "ROLLBACK_FAILED", fmt.Sprintf("The following resource(s) failed to delete: [%s]. ", strings.Join(bad, ", ")), b.cfg.Clock.Now())
	default:
		b.stackEvent(st, "ROLLBACK_COMPLETE", "", b.cfg.Clock.Now())
		// The stack keeps the reason it rolled back for.
		st.StatusReason = reason + "Rollback requested by user."
	}
	b.mu.Unlock()
	b.save()
}

// runDelete deletes a stack's resources in reverse dependency order.
func (b *Backend) runDelete(st *Stack, retainIDs []string) {
	b.mu.Lock()
	var t *Template
	if st.TemplateBody != "" {
		t, _ = ParseTemplate(st.TemplateBody)
	}
	users := b.importers(st)
	b.mu.Unlock()
	if len(users) > 0 {
		names := make([]string, 0, len(users))
		for n := range users {
			names = append(names, n)
		}
		sort.Strings(names)
		b.mu.Lock()
		b.stackEvent(st, "DELETE_FAILED", fmt.Sprintf("Export %s cannot be deleted as it is in use by %s", names[0], strings.Join(users[names[0]], ", ")), b.cfg.Clock.Now())
		b.mu.Unlock()
		b.save()
		return
	}
	b.mu.Lock()
	for _, id := range retainIDs {
		if r := st.Resources[id]; r != nil {
			r.DeletionPolicy = "Retain"
		}
	}
	b.mu.Unlock()
	bad := b.deleteAll(st, t)
	b.mu.Lock()
	if len(bad) > 0 {
		b.stackEvent(st, "DELETE_FAILED", fmt.Sprintf("The following resource(s) failed to delete: [%s]. ", strings.Join(bad, ", ")), b.cfg.Clock.Now())
	} else {
		st.Deleted = b.cfg.Clock.Now()
		st.Outputs = nil
		b.stackEvent(st, "DELETE_COMPLETE", "", st.Deleted)
	}
	b.mu.Unlock()
	b.save()
}
