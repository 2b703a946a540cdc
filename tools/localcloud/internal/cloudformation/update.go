package cloudformation

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// touch records what an update did to one resource, to undo it.
type touch struct {
	kind string         // "add", "replace" or "modify"
	old  *StackResource // the record before the update (replace, modify)
}

// nameProps are the properties that name a resource; a replacement cannot
// keep a custom name, since the new resource exists beside the old one.
var nameProps = map[string]string{
	"AWS::ElasticLoadBalancingV2::LoadBalancer": "Name", "AWS::ElasticLoadBalancingV2::TargetGroup": "Name",
	"AWS::CloudWatch::Alarm": "AlarmName", "AWS::Logs::LogGroup": "LogGroupName", "AWS::ECS::Cluster": "ClusterName",
	"AWS::ECR::Repository": "RepositoryName", "AWS::Events::Rule": "Name", "AWS::Lambda::Function": "FunctionName",
	"AWS::S3::Bucket": "BucketName", "AWS::DynamoDB::Table": "TableName", "AWS::SQS::Queue": "QueueName",
	"AWS::SNS::Topic": "TopicName", "AWS::IAM::Role": "RoleName", "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
	"AWS::EC2::SecurityGroup": "GroupName",
}

func copyResource(r *StackResource) *StackResource {
	c := *r
	return &c
}

// updateResource brings one resource to the new template: create it, leave
// it, modify it in place or replace it.
func (d *deployment) updateResource(id string, touched map[string]touch) error {
	b, st := d.b, d.st
	tr := d.tmpl.Resources[id]
	b.mu.Lock()
	old := st.Resources[id]
	if old == nil {
		touched[id] = touch{kind: "add"}
		b.mu.Unlock()
		return d.createResource(id)
	}
	props, err := d.evalProps(id)
	if err != nil {
		r := copyResource(old)
		b.resourceEvent(st, r, "UPDATE_FAILED", err.Error())
		b.mu.Unlock()
		return err
	}
	changed := changedKeys(old.Props, props)
	sort.Strings(changed)
	replace := old.Type != tr.Type
	if !replace && len(changed) == 0 {
		old.DeletionPolicy = tr.DeletionPolicy
		b.mu.Unlock()
		return nil
	}
	if !replace {
		repl, _ := b.cfg.Schemas.replacement(tr.Type, changed)
		replace = repl == "True"
	}
	prev := copyResource(old)
	b.mu.Unlock()

	props, err = d.check(id, props)
	if err == nil && replace {
		if np, ok := nameProps[tr.Type]; ok && old.Type == tr.Type {
			if _, named := props[np]; named && !slices.Contains(changed, np) {
				err = msgf("CloudFormation cannot update a stack when a custom-named resource requires replacing. Rename %s and update the stack again.", prev.PhysicalID)
			}
		}
	}
	if err != nil {
		b.mu.Lock()
		b.resourceEvent(st, copyResource(old), "UPDATE_FAILED", err.Error())
		b.mu.Unlock()
		return err
	}
	prov := b.provs[tr.Type]
	if replace {
		b.mu.Lock()
		touched[id] = touch{kind: "replace", old: prev}
		r := &StackResource{LogicalID: id, Type: tr.Type, PhysicalID: prev.PhysicalID, Props: props, DeletionPolicy: tr.DeletionPolicy}
		st.Resources[id] = r
		b.resourceEvent(st, r, "UPDATE_IN_PROGRESS", "Requested update requires the creation of a new physical resource; hence creating one.")
		b.mu.Unlock()
		res, err := prov.Create(b.ctx, b.request(st, id, tr.Type, props))
		b.mu.Lock()
		r.PhysicalID, r.Attrs = res.PhysicalID, res.Attributes
		if err != nil {
			b.resourceEvent(st, r, "UPDATE_FAILED", err.Error())
		} else {
			b.resourceEvent(st, r, "UPDATE_IN_PROGRESS", "Resource creation Initiated")
			b.resourceEvent(st, r, "UPDATE_COMPLETE", "")
		}
		b.mu.Unlock()
		b.save()
		return err
	}
	b.mu.Lock()
	touched[id] = touch{kind: "modify", old: prev}
	b.resourceEvent(st, old, "UPDATE_IN_PROGRESS", "")
	b.mu.Unlock()
	res, err := prov.Update(b.ctx, b.request(st, id, tr.Type, props), Result{PhysicalID: prev.PhysicalID, Attributes: prev.Attrs}, prev.Props)
	b.mu.Lock()
	if err != nil {
		b.resourceEvent(st, old, "UPDATE_FAILED", err.Error())
	} else {
		old.Props = props
		old.DeletionPolicy = tr.DeletionPolicy
		if res.Attributes != nil {
			old.Attrs = res.Attributes
		}
		if res.PhysicalID != "" {
			old.PhysicalID = res.PhysicalID
		}
		b.resourceEvent(st, old, "UPDATE_COMPLETE", "")
	}
	b.mu.Unlock()
	b.save()
	return err
}

// runUpdate applies a new template to a stack: create and modify in
// dependency order, then delete what was replaced or removed; a failure
// undoes what was done.
func (b *Backend) runUpdate(st *Stack, oldTmpl, t *Template, params map[string]any, prevState stackSnapshot) {
	b.mu.Lock()
	d, err := b.newDeployment(st, t, params, true)
	b.mu.Unlock()
	touched := map[string]touch{}
	var reason string
	if err != nil {
		reason = err.Error()
	} else {
		b.mu.Lock()
		// Only resources that are new or whose properties change are
		// checked up front; the others are known good.
		plan, _ := d.plan(nil)
		changing := map[string]bool{}
		for _, c := range plan {
			changing[c.LogicalID] = c.Action != "Remove"
		}
		b.mu.Unlock()
		d.pending = map[string]bool{}
		failed := d.precheck("UPDATE_FAILED", func(id string) bool { return changing[id] })
		d.planning = false
		if len(failed) == 0 {
			failed = walk(d.active, d.deps, func(id string) error {
				return d.updateResource(id, touched)
			})
		}
		if len(failed) > 0 {
			reason = fmt.Sprintf("The following resource(s) failed to update: [%s]. ", strings.Join(failed, ", "))
		}
	}
	if reason == "" {
		b.mu.Lock()
		outs, err := d.outputs()
		if err != nil {
			reason = err.Error()
		} else {
			st.Outputs = outs
			b.stackEvent(st, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "", b.cfg.Clock.Now())
		}
		b.mu.Unlock()
		b.save()
		if reason == "" {
			b.cleanup(st, d, oldTmpl, touched)
			b.mu.Lock()
			b.stackEvent(st, "UPDATE_COMPLETE", "", b.cfg.Clock.Now())
			b.mu.Unlock()
			b.save()
			return
		}
	}
	b.rollbackUpdate(st, d, touched, reason, prevState)
}

// cleanup deletes the physical resources an update replaced and the
// resources it removed.
func (b *Backend) cleanup(st *Stack, d *deployment, oldTmpl *Template, touched map[string]touch) {
	b.mu.Lock()
	active := map[string]bool{}
	for _, id := range d.active {
		active[id] = true
	}
	var removed []string
	recs := map[string]*StackResource{}
	for id, r := range st.Resources {
		if !active[id] {
			removed = append(removed, id)
			recs[id] = r
		}
	}
	var replaced []*StackResource
	for _, t := range touched {
		if t.kind == "replace" {
			replaced = append(replaced, t.old)
		}
	}
	b.mu.Unlock()
	for _, old := range replaced {
		keep := d.tmpl.Resources[old.LogicalID].UpdateReplacePolicy == "Retain"
		old.DeletionPolicy = ""
		if keep {
			old.DeletionPolicy = "Retain"
		}
		// A replaced resource that fails to go is reported in its event;
		// the update has succeeded already.
		_ = b.deleteResource(st, old.LogicalID, old, true)
	}
	deps := map[string][]string{}
	if oldTmpl != nil {
		for _, id := range removed {
			if _, ok := oldTmpl.Resources[id]; ok {
				deps[id] = oldTmpl.deps(id)
			}
		}
	}
	walk(removed, reverse(removed, deps), func(id string) error {
		_ = b.deleteResource(st, id, recs[id], true)
		return nil // a resource that fails to go is reported, not rolled back
	})
}

// stackSnapshot is what an update restores when it rolls back.
type stackSnapshot struct {
	TemplateBody string
	Params       map[string]string
	Outputs      []StackOutput
	Description  string
	Capabilities []string
	Tags         []Tag
}

// rollbackUpdate undoes an update: added resources go, modified ones get
// their old properties back, replaced ones get their old physical resource
// back (and the new one goes).
func (b *Backend) rollbackUpdate(st *Stack, d *deployment, touched map[string]touch, reason string, prev stackSnapshot) {
	b.mu.Lock()
	b.stackEvent(st, "UPDATE_ROLLBACK_IN_PROGRESS", reason, b.cfg.Clock.Now())
	st.TemplateBody, st.Params, st.Outputs = prev.TemplateBody, prev.Params, prev.Outputs
	st.Description, st.Capabilities, st.Tags = prev.Description, prev.Capabilities, prev.Tags
	var order []string
	if d != nil {
		order = slices.Clone(d.active)
	}
	slices.Reverse(order)
	b.mu.Unlock()
	b.save()
	var failed []string
	var discard []*StackResource
	for _, id := range order {
		t, ok := touched[id]
		if !ok {
			continue
		}
		b.mu.Lock()
		cur := st.Resources[id]
		b.mu.Unlock()
		switch t.kind {
		case "add":
			if cur != nil {
				if err := b.deleteResource(st, id, cur, false); err != nil {
					failed = append(failed, id)
				}
			}
		case "replace":
			b.mu.Lock()
			st.Resources[id] = t.old
			b.resourceEvent(st, t.old, "UPDATE_COMPLETE", "")
			b.mu.Unlock()
			if cur != nil && cur.PhysicalID != "" {
				discard = append(discard, cur)
			}
		case "modify":
			b.mu.Lock()
			b.resourceEvent(st, cur, "UPDATE_IN_PROGRESS", "")
			b.mu.Unlock()
			var err error
			if !equalValues(cur.Props, t.old.Props) {
				_, err = b.provs[cur.Type].Update(b.ctx, b.request(st, id, cur.Type, t.old.Props), Result{PhysicalID: cur.PhysicalID, Attributes: cur.Attrs}, cur.Props)
			}
			b.mu.Lock()
			if err != nil {
				b.resourceEvent(st, cur, "UPDATE_FAILED", err.Error())
				failed = append(failed, id)
			} else {
				st.Resources[id] = t.old
				b.resourceEvent(st, t.old, "UPDATE_COMPLETE", "")
			}
			b.mu.Unlock()
		}
	}
	b.mu.Lock()
	b.stackEvent(st, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "", b.cfg.Clock.Now())
	b.mu.Unlock()
	for _, r := range discard {
		r.DeletionPolicy = ""
		if err := b.deleteResource(st, r.LogicalID, r, false); err != nil {
			failed = append(failed, r.LogicalID)
		}
	}
	b.mu.Lock()
	if len(failed) > 0 {
		b.stackEvent(st, "UPDATE_ROLLBACK_FAILED", fmt.Sprintf("The following resource(s) failed to roll back: [%s]. ", strings.Join(failed, ", ")), b.cfg.Clock.Now())
	} else {
		b.stackEvent(st, "UPDATE_ROLLBACK_COMPLETE", "", b.cfg.Clock.Now())
		st.StatusReason = reason
	}
	b.mu.Unlock()
	b.save()
}
