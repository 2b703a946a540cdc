package cloudformation

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// Register adds CloudFormation (awsQuery, 2010-05-15) to the mux.
func (b *Backend) Register(m *awsproto.Mux) {
	m.HandleQuery(awsproto.QueryService{
		Version:        "2010-05-15",
		SigningName:    "cloudformation",
		XMLNamespace:   "http://cloudformation.amazonaws.com/doc/2010-05-15/",
		ValidationCode: CodeValidation,
		Ops: map[string]awsproto.QueryOp{
			"CreateStack":            awsproto.Op[createStackIn](b.apiCreateStack).Query(),
			"UpdateStack":            awsproto.Op[updateStackIn](b.apiUpdateStack).Query(),
			"DeleteStack":            awsproto.Op[deleteStackIn](b.apiDeleteStack).Query(),
			"DescribeStacks":         awsproto.Op[stackNameIn](b.apiDescribeStacks).Query(),
			"ListStacks":             awsproto.Op[listStacksIn](b.apiListStacks).Query(),
			"DescribeStackEvents":    awsproto.Op[stackNameIn](b.apiDescribeStackEvents).Query(),
			"DescribeStackResources": awsproto.Op[stackResourcesIn](b.apiDescribeStackResources).Query(),
			"DescribeStackResource":  awsproto.Op[stackResourcesIn](b.apiDescribeStackResource).Query(),
			"ListStackResources":     awsproto.Op[stackNameIn](b.apiListStackResources).Query(),
			"GetTemplate":            awsproto.Op[getTemplateIn](b.apiGetTemplate).Query(),
			"ValidateTemplate":       awsproto.Op[validateTemplateIn](b.apiValidateTemplate).Query(),
			"GetTemplateSummary":     awsproto.Op[templateSummaryIn](b.apiGetTemplateSummary).Query(),
			"CreateChangeSet":        awsproto.Op[createChangeSetIn](b.apiCreateChangeSet).Query(),
			"DescribeChangeSet":      awsproto.Op[changeSetIn](b.apiDescribeChangeSet).Query(),
			"ExecuteChangeSet":       awsproto.Op[changeSetIn](b.apiExecuteChangeSet).Query(),
			"DeleteChangeSet":        awsproto.Op[changeSetIn](b.apiDeleteChangeSet).Query(),
			"ListChangeSets":         awsproto.Op[stackNameIn](b.apiListChangeSets).Query(),
			"ListExports":            awsproto.Op[struct{ NextToken string }](b.apiListExports).Query(),
		},
	})
}

// ParamInput is a parameter value a caller passes.
type ParamInput struct {
	ParameterKey     string
	ParameterValue   string
	UsePreviousValue bool
}

type createStackIn struct {
	StackName        string
	TemplateBody     string
	TemplateURL      string
	Parameters       []ParamInput
	Capabilities     []string
	Tags             []Tag
	DisableRollback  *bool
	OnFailure        string
	TimeoutInMinutes int
}

type updateStackIn struct {
	StackName           string
	TemplateBody        string
	TemplateURL         string
	UsePreviousTemplate bool
	Parameters          []ParamInput
	Capabilities        []string
	Tags                []Tag
	DisableRollback     *bool
}

type deleteStackIn struct {
	StackName       string
	RetainResources []string
}

type stackNameIn struct {
	StackName string
	NextToken string
}

type listStacksIn struct {
	StackStatusFilter []string
	NextToken         string
}

type stackResourcesIn struct {
	StackName          string
	LogicalResourceId  string
	PhysicalResourceId string
}

type getTemplateIn struct {
	StackName     string
	ChangeSetName string
	TemplateStage string
}

type validateTemplateIn struct {
	TemplateBody string
	TemplateURL  string
}

type createChangeSetIn struct {
	StackName           string
	ChangeSetName       string
	ChangeSetType       string
	TemplateBody        string
	TemplateURL         string
	UsePreviousTemplate bool
	Parameters          []ParamInput
	Capabilities        []string
	Tags                []Tag
	Description         string
}

type changeSetIn struct {
	ChangeSetName         string
	StackName             string
	DisableRollback       *bool
	IncludePropertyValues bool
}

func checkStackName(field, name string) error {
	if name == "" {
		return awsproto.Validation(CodeValidation, awsproto.Required(field))
	}
	if strings.HasPrefix(name, "arn:") {
		return nil
	}
	if len(name) > maxStackNameLen || !stackNamePattern.MatchString(name) {
		return awsproto.Validation(CodeValidation, awsproto.Violation{Field: field, Value: name, Constraint: stackNameConstraint})
	}
	return nil
}

// templateBody returns the template a request names, fetching a TemplateURL
// from localcloud's own S3.
func (b *Backend) templateBody(ctx context.Context, body, u string) (string, error) {
	switch {
	case body != "" && u != "":
		return "", validationError("Specify exactly one of TemplateBody or TemplateUrl.")
	case body != "":
		if len(body) > 51200 {
			return "", awsproto.Validation(CodeValidation, awsproto.Violation{Field: "templateBody", Value: body[:20] + "...", Constraint: "Member must have length less than or equal to 51200"})
		}
		return body, nil
	case u != "":
		return b.fetchTemplate(ctx, u)
	}
	return "", validationError("Either Template URL or Template Body must be specified.")
}

// fetchTemplate reads a template from an S3 URL, virtual-hosted
// (bucket.s3.amazonaws.com/key) or path-style (host/bucket/key).
func (b *Backend) fetchTemplate(ctx context.Context, raw string) (string, error) {
	pu, err := url.Parse(raw)
	if err != nil || pu.Host == "" {
		return "", validationError("TemplateURL must be a supported URL.")
	}
	path := strings.TrimPrefix(pu.Path, "/")
	if i := strings.Index(pu.Host, ".s3"); i > 0 {
		path = pu.Host[:i] + "/" + path
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localcloud.internal/"+path, nil)
	if err != nil {
		return "", validationError("TemplateURL must be a supported URL.")
	}
	resp, err := inProcess{b.cfg.Handler}.RoundTrip(req)
	if err != nil {
		return "", validationError("S3 error: %v", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20+1))
	if resp.StatusCode != http.StatusOK {
		return "", validationError("S3 error: Access Denied For more information check http://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html")
	}
	if len(data) > 1<<20 {
		return "", validationError("Template may not exceed 1048576 bytes in size.")
	}
	return string(data), nil
}

func parseForAPI(body string) (*Template, error) {
	t, err := ParseTemplate(body)
	if err != nil {
		return nil, validationError("%s", err.Error())
	}
	return t, nil
}

// requestTemplate returns the template a request names (see templateBody),
// parsed.
func (b *Backend) requestTemplate(ctx context.Context, body, u string) (string, *Template, error) {
	body, err := b.templateBody(ctx, body, u)
	if err != nil {
		return "", nil, err
	}
	t, err := parseForAPI(body)
	if err != nil {
		return "", nil, err
	}
	return body, t, nil
}

func (b *Backend) apiCreateStack(ctx context.Context, in *createStackIn) (any, error) {
	if err := checkStackName("stackName", in.StackName); err != nil {
		return nil, err
	}
	body, t, err := b.requestTemplate(ctx, in.TemplateBody, in.TemplateURL)
	if err != nil {
		return nil, err
	}
	params, raw, err := resolveParameters(t, in.Parameters, nil)
	if err != nil {
		return nil, validationError("%s", err.Error())
	}
	if err := checkCapabilities(t, in.Capabilities); err != nil {
		return nil, err
	}
	onFailure := in.OnFailure
	if in.DisableRollback != nil && *in.DisableRollback {
		if onFailure != "" {
			return nil, validationError("You cannot specify both DisableRollback and OnFailure.")
		}
		onFailure = "DO_NOTHING"
	}
	switch onFailure {
	case "", "ROLLBACK", "DO_NOTHING", "DELETE":
	default:
		return nil, awsproto.Validation(CodeValidation, awsproto.Violation{Field: "onFailure", Value: onFailure, Constraint: "Member must satisfy enum value set: [DO_NOTHING, ROLLBACK, DELETE]"})
	}
	b.mu.Lock()
	if b.find(in.StackName) != nil {
		b.mu.Unlock()
		return nil, awsproto.Errorf(CodeAlreadyExists, "Stack [%s] already exists", in.StackName)
	}
	now := b.cfg.Clock.Now()
	st := &Stack{
		ID: b.stackARN(in.StackName), Name: in.StackName, Description: t.Description, TemplateBody: body,
		Params: raw, Capabilities: in.Capabilities, Tags: in.Tags, DisableRollback: onFailure == "DO_NOTHING",
		Created: now, Resources: map[string]*StackResource{},
	}
	b.stacks = append(b.stacks, st)
	b.stackEvent(st, "CREATE_IN_PROGRESS", "User Initiated", now)
	b.wg.Add(1)
	b.mu.Unlock()
	b.save()
	go func() {
		defer b.wg.Done()
		b.runCreate(st, t, params, onFailure)
	}()
	return struct{ StackId string }{st.ID}, nil
}

func snapshot(st *Stack) stackSnapshot {
	return stackSnapshot{TemplateBody: st.TemplateBody, Params: st.Params, Outputs: st.Outputs, Description: st.Description, Capabilities: st.Capabilities, Tags: st.Tags}
}

// proposal is a checked new template and parameters for a stack, and what
// applying them would change.
type proposal struct {
	old, tmpl     *Template
	params        map[string]any
	raw           map[string]string
	changes       []ResourceChange
	outputsChange bool
}

// noChange reports a proposal that changes neither resources nor outputs.
func (p *proposal) noChange() bool { return len(p.changes) == 0 && !p.outputsChange }

// propose parses and checks a new template and parameters for st and plans
// the change. Callers hold b.mu.
func (b *Backend) propose(st *Stack, body string, given []ParamInput, caps []string) (*proposal, error) {
	t, err := parseForAPI(body)
	if err != nil {
		return nil, err
	}
	params, raw, err := resolveParameters(t, given, st.Params)
	if err != nil {
		return nil, validationError("%s", err.Error())
	}
	if err := checkCapabilities(t, caps); err != nil {
		return nil, err
	}
	p := &proposal{tmpl: t, params: params, raw: raw}
	if st.TemplateBody != "" {
		p.old, _ = ParseTemplate(st.TemplateBody)
	}
	d, err := b.newDeployment(st, t, params, true)
	if err != nil {
		return nil, validationError("%s", err.Error())
	}
	if p.changes, err = d.plan(p.old); err != nil {
		return nil, validationError("%s", err.Error())
	}
	p.outputsChange = d.outputsChange()
	return p, nil
}

func (b *Backend) apiUpdateStack(ctx context.Context, in *updateStackIn) (any, error) {
	if err := checkStackName("stackName", in.StackName); err != nil {
		return nil, err
	}
	var body string
	if !in.UsePreviousTemplate {
		var err error
		if body, err = b.templateBody(ctx, in.TemplateBody, in.TemplateURL); err != nil {
			return nil, err
		}
	}
	b.mu.Lock()
	st := b.find(in.StackName)
	if st == nil || st.Status == "DELETE_COMPLETE" {
		b.mu.Unlock()
		return nil, stackNotFound(in.StackName)
	}
	if err := updatable(st); err != nil {
		b.mu.Unlock()
		return nil, err
	}
	if in.UsePreviousTemplate {
		body = st.TemplateBody
	}
	p, err := b.propose(st, body, in.Parameters, in.Capabilities)
	if err != nil {
		b.mu.Unlock()
		return nil, err
	}
	if p.noChange() && (in.Tags == nil || slices.Equal(in.Tags, st.Tags)) {
		b.mu.Unlock()
		return nil, validationError(noUpdates)
	}
	b.startUpdate(st, p.old, p.tmpl, body, p.params, p.raw, in.Capabilities, in.Tags, nil)
	b.mu.Unlock()
	b.save()
	return struct{ StackId string }{st.ID}, nil
}

// startUpdate moves st to UPDATE_IN_PROGRESS and runs the update. Callers
// hold b.mu.
func (b *Backend) startUpdate(st *Stack, oldTmpl, t *Template, body string, params map[string]any, raw map[string]string, caps []string, tags []Tag, cs *ChangeSet) {
	prev := snapshot(st)
	st.TemplateBody, st.Params, st.Description, st.Capabilities = body, raw, t.Description, caps
	if tags != nil {
		st.Tags = tags
	}
	now := b.cfg.Clock.Now()
	st.Updated = now
	b.stackEvent(st, "UPDATE_IN_PROGRESS", "User Initiated", now)
	for _, other := range st.ChangeSets {
		if other.ExecutionStatus == "AVAILABLE" {
			other.ExecutionStatus = "OBSOLETE"
		}
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		b.runUpdate(st, oldTmpl, t, params, prev)
	}()
}

func updatable(st *Stack) error {
	if err := busy(st, "updated"); err != nil {
		return err
	}
	switch st.Status {
	case "CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE":
		return nil
	}
	return validationError("Stack:%s is in %s state and can not be updated.", st.ID, st.Status)
}

func (b *Backend) apiDeleteStack(ctx context.Context, in *deleteStackIn) (any, error) {
	if err := checkStackName("stackName", in.StackName); err != nil {
		return nil, err
	}
	b.mu.Lock()
	st := b.find(in.StackName)
	if st == nil || st.Status == "DELETE_COMPLETE" || st.Status == "DELETE_IN_PROGRESS" {
		// Deleting a stack that is gone, or going, succeeds.
		b.mu.Unlock()
		return nil, nil
	}
	if err := busy(st, "deleted"); err != nil {
		b.mu.Unlock()
		return nil, err
	}
	if len(in.RetainResources) > 0 && st.Status != "DELETE_FAILED" {
		b.mu.Unlock()
		return nil, validationError("Invalid operation on stack %s. RetainResources can only be specified when stack is in DELETE_FAILED state", st.ID)
	}
	for _, cs := range st.ChangeSets {
		cs.Status, cs.ExecutionStatus = "DELETE_COMPLETE", "UNAVAILABLE"
	}
	st.ChangeSets = nil
	b.stackEvent(st, "DELETE_IN_PROGRESS", "User Initiated", b.cfg.Clock.Now())
	b.wg.Add(1)
	b.mu.Unlock()
	b.save()
	go func() {
		defer b.wg.Done()
		b.runDelete(st, in.RetainResources)
	}()
	return nil, nil
}

type paramXML struct {
	ParameterKey   string `xml:"ParameterKey"`
	ParameterValue string `xml:"ParameterValue"`
}

type driftXML struct {
	StackDriftStatus string `xml:"StackDriftStatus"`
}

type stackXML struct {
	StackId                     string              `xml:"StackId"`
	StackName                   string              `xml:"StackName"`
	ChangeSetId                 string              `xml:"ChangeSetId,omitempty"`
	Description                 string              `xml:"Description,omitempty"`
	Parameters                  []paramXML          `xml:"Parameters>member"`
	CreationTime                awsproto.Timestamp  `xml:"CreationTime"`
	LastUpdatedTime             *awsproto.Timestamp `xml:"LastUpdatedTime,omitempty"`
	DeletionTime                *awsproto.Timestamp `xml:"DeletionTime,omitempty"`
	StackStatus                 string              `xml:"StackStatus"`
	StackStatusReason           string              `xml:"StackStatusReason,omitempty"`
	DisableRollback             bool                `xml:"DisableRollback"`
	Capabilities                []string            `xml:"Capabilities>member"`
	Outputs                     []StackOutput       `xml:"Outputs>member"`
	Tags                        []Tag               `xml:"Tags>member"`
	EnableTerminationProtection bool                `xml:"EnableTerminationProtection"`
	DriftInformation            driftXML            `xml:"DriftInformation"`
}

// paramsXML lists a stack's parameters, NoEcho ones masked.
func paramsXML(body string, values map[string]string) []paramXML {
	t, _ := ParseTemplate(body)
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]paramXML, 0, len(keys))
	for _, k := range keys {
		v := values[k]
		if t != nil && t.Parameters[k] != nil && t.Parameters[k].NoEcho {
			v = "****"
		}
		out = append(out, paramXML{k, v})
	}
	return out
}

func (b *Backend) describe(st *Stack) stackXML {
	x := stackXML{
		StackId: st.ID, StackName: st.Name, ChangeSetId: st.LastChangeSetID, Description: st.Description,
		Parameters: paramsXML(st.TemplateBody, st.Params), CreationTime: awsproto.NewTimestamp(st.Created),
		LastUpdatedTime: awsproto.TimestampPtr(st.Updated), DeletionTime: awsproto.TimestampPtr(st.Deleted),
		StackStatus: st.Status, StackStatusReason: st.StatusReason, DisableRollback: st.DisableRollback,
		Capabilities: st.Capabilities, Outputs: st.Outputs, Tags: st.Tags,
		DriftInformation: driftXML{"NOT_CHECKED"},
	}
	return x
}

func (b *Backend) apiDescribeStacks(ctx context.Context, in *stackNameIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out struct {
		Stacks []stackXML `xml:"Stacks>member"`
	}
	out.Stacks = []stackXML{}
	if in.StackName != "" {
		st := b.find(in.StackName)
		if st == nil {
			return nil, stackNotFound(in.StackName)
		}
		out.Stacks = append(out.Stacks, b.describe(st))
		return out, nil
	}
	for _, st := range b.stacks {
		if st.Status != "DELETE_COMPLETE" {
			out.Stacks = append(out.Stacks, b.describe(st))
		}
	}
	return out, nil
}

type stackSummaryXML struct {
	StackId             string              `xml:"StackId"`
	StackName           string              `xml:"StackName"`
	TemplateDescription string              `xml:"TemplateDescription,omitempty"`
	CreationTime        awsproto.Timestamp  `xml:"CreationTime"`
	LastUpdatedTime     *awsproto.Timestamp `xml:"LastUpdatedTime,omitempty"`
	DeletionTime        *awsproto.Timestamp `xml:"DeletionTime,omitempty"`
	StackStatus         string              `xml:"StackStatus"`
	StackStatusReason   string              `xml:"StackStatusReason,omitempty"`
}

func (b *Backend) apiListStacks(ctx context.Context, in *listStacksIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out struct {
		StackSummaries []stackSummaryXML `xml:"StackSummaries>member"`
	}
	out.StackSummaries = []stackSummaryXML{}
	for i := len(b.stacks) - 1; i >= 0; i-- {
		st := b.stacks[i]
		if len(in.StackStatusFilter) > 0 && !slices.Contains(in.StackStatusFilter, st.Status) {
			continue
		}
		out.StackSummaries = append(out.StackSummaries, stackSummaryXML{
			StackId: st.ID, StackName: st.Name, TemplateDescription: st.Description, CreationTime: awsproto.NewTimestamp(st.Created),
			LastUpdatedTime: awsproto.TimestampPtr(st.Updated), DeletionTime: awsproto.TimestampPtr(st.Deleted),
			StackStatus: st.Status, StackStatusReason: st.StatusReason,
		})
	}
	return out, nil
}

type eventXML struct {
	StackId              string             `xml:"StackId"`
	EventId              string             `xml:"EventId"`
	StackName            string             `xml:"StackName"`
	LogicalResourceId    string             `xml:"LogicalResourceId"`
	PhysicalResourceId   string             `xml:"PhysicalResourceId"`
	ResourceType         string             `xml:"ResourceType"`
	Timestamp            awsproto.Timestamp `xml:"Timestamp"`
	ResourceStatus       string             `xml:"ResourceStatus"`
	ResourceStatusReason string             `xml:"ResourceStatusReason,omitempty"`
	ResourceProperties   string             `xml:"ResourceProperties,omitempty"`
}

// namedStackLocked finds the stack a read-only call names, checking the
// name first as the framework does.
func (b *Backend) namedStackLocked(name string) (*Stack, error) {
	if err := checkStackName("stackName", name); err != nil {
		return nil, err
	}
	st := b.find(name)
	if st == nil {
		return nil, stackNotFound(name)
	}
	return st, nil
}

func (b *Backend) apiDescribeStackEvents(ctx context.Context, in *stackNameIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.namedStackLocked(in.StackName)
	if err != nil {
		return nil, err
	}
	var out struct {
		StackEvents []eventXML `xml:"StackEvents>member"`
	}
	out.StackEvents = make([]eventXML, 0, len(st.Events))
	for i := len(st.Events) - 1; i >= 0; i-- {
		e := st.Events[i]
		out.StackEvents = append(out.StackEvents, eventXML{
			StackId: st.ID, EventId: e.EventID, StackName: st.Name, LogicalResourceId: e.LogicalID, PhysicalResourceId: e.PhysicalID,
			ResourceType: e.Type, Timestamp: awsproto.NewTimestamp(e.Time), ResourceStatus: e.Status, ResourceStatusReason: e.Reason,
			ResourceProperties: e.Properties,
		})
	}
	return out, nil
}

type resourceXML struct {
	StackName            string             `xml:"StackName"`
	StackId              string             `xml:"StackId"`
	LogicalResourceId    string             `xml:"LogicalResourceId"`
	PhysicalResourceId   string             `xml:"PhysicalResourceId,omitempty"`
	ResourceType         string             `xml:"ResourceType"`
	Timestamp            awsproto.Timestamp `xml:"Timestamp"`
	ResourceStatus       string             `xml:"ResourceStatus"`
	ResourceStatusReason string             `xml:"ResourceStatusReason,omitempty"`
	DriftInformation     struct {
		StackResourceDriftStatus string `xml:"StackResourceDriftStatus"`
	} `xml:"DriftInformation"`
}

type resourceDetailXML struct {
	resourceXML
	LastUpdatedTimestamp awsproto.Timestamp `xml:"LastUpdatedTimestamp"`
}

func sortedResources(st *Stack) []*StackResource {
	out := make([]*StackResource, 0, len(st.Resources))
	for _, r := range st.Resources {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalID < out[j].LogicalID })
	return out
}

func (b *Backend) resourceXML(st *Stack, r *StackResource) resourceXML {
	x := resourceXML{StackName: st.Name, StackId: st.ID, LogicalResourceId: r.LogicalID, PhysicalResourceId: r.PhysicalID,
		ResourceType: r.Type, Timestamp: awsproto.NewTimestamp(r.Updated), ResourceStatus: r.Status, ResourceStatusReason: r.Reason}
	x.DriftInformation.StackResourceDriftStatus = "NOT_CHECKED"
	return x
}

func (b *Backend) findByPhysical(physical string) (*Stack, *StackResource) {
	for _, st := range b.stacks {
		if st.Status == "DELETE_COMPLETE" {
			continue
		}
		for _, r := range st.Resources {
			if r.PhysicalID == physical {
				return st, r
			}
		}
	}
	return nil, nil
}

func (b *Backend) apiDescribeStackResources(ctx context.Context, in *stackResourcesIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var st *Stack
	switch {
	case in.StackName != "":
		if st = b.find(in.StackName); st == nil {
			return nil, stackNotFound(in.StackName)
		}
	case in.PhysicalResourceId != "":
		if st, _ = b.findByPhysical(in.PhysicalResourceId); st == nil {
			return nil, validationError("Stack for %s does not exist", in.PhysicalResourceId)
		}
	default:
		return nil, validationError("Either StackName or PhysicalResourceId must be specified.")
	}
	var out struct {
		StackResources []resourceXML `xml:"StackResources>member"`
	}
	out.StackResources = []resourceXML{}
	for _, r := range sortedResources(st) {
		if in.LogicalResourceId != "" && r.LogicalID != in.LogicalResourceId {
			continue
		}
		if in.PhysicalResourceId != "" && in.StackName != "" && r.PhysicalID != in.PhysicalResourceId {
			continue
		}
		out.StackResources = append(out.StackResources, b.resourceXML(st, r))
	}
	return out, nil
}

func (b *Backend) apiDescribeStackResource(ctx context.Context, in *stackResourcesIn) (any, error) {
	if err := checkStackName("stackName", in.StackName); err != nil {
		return nil, err
	}
	if in.LogicalResourceId == "" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("logicalResourceId"))
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.find(in.StackName)
	if st == nil {
		return nil, stackNotFound(in.StackName)
	}
	r := st.Resources[in.LogicalResourceId]
	if r == nil {
		return nil, validationError("Resource %s does not exist for stack %s", in.LogicalResourceId, in.StackName)
	}
	var out struct {
		StackResourceDetail resourceDetailXML `xml:"StackResourceDetail"`
	}
	out.StackResourceDetail = resourceDetailXML{resourceXML: b.resourceXML(st, r), LastUpdatedTimestamp: awsproto.NewTimestamp(r.Updated)}
	return out, nil
}

type resourceSummaryXML struct {
	LogicalResourceId    string             `xml:"LogicalResourceId"`
	PhysicalResourceId   string             `xml:"PhysicalResourceId,omitempty"`
	ResourceType         string             `xml:"ResourceType"`
	LastUpdatedTimestamp awsproto.Timestamp `xml:"LastUpdatedTimestamp"`
	ResourceStatus       string             `xml:"ResourceStatus"`
	ResourceStatusReason string             `xml:"ResourceStatusReason,omitempty"`
	DriftInformation     struct {
		StackResourceDriftStatus string `xml:"StackResourceDriftStatus"`
	} `xml:"DriftInformation"`
}

func (b *Backend) apiListStackResources(ctx context.Context, in *stackNameIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.namedStackLocked(in.StackName)
	if err != nil {
		return nil, err
	}
	var out struct {
		StackResourceSummaries []resourceSummaryXML `xml:"StackResourceSummaries>member"`
	}
	out.StackResourceSummaries = []resourceSummaryXML{}
	for _, r := range sortedResources(st) {
		s := resourceSummaryXML{LogicalResourceId: r.LogicalID, PhysicalResourceId: r.PhysicalID, ResourceType: r.Type,
			LastUpdatedTimestamp: awsproto.NewTimestamp(r.Updated), ResourceStatus: r.Status, ResourceStatusReason: r.Reason}
		s.DriftInformation.StackResourceDriftStatus = "NOT_CHECKED"
		out.StackResourceSummaries = append(out.StackResourceSummaries, s)
	}
	return out, nil
}

func (b *Backend) apiGetTemplate(ctx context.Context, in *getTemplateIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if in.StackName == "" && in.ChangeSetName == "" {
		return nil, validationError("Either StackName or ChangeSetName must be specified.")
	}
	body := ""
	if in.ChangeSetName != "" {
		_, cs, err := b.findChangeSet(in.ChangeSetName, in.StackName)
		if err != nil {
			return nil, err
		}
		body = cs.TemplateBody
	} else {
		st := b.find(in.StackName)
		if st == nil {
			return nil, stackNotFound(in.StackName)
		}
		body = st.TemplateBody
	}
	return struct {
		TemplateBody    string   `xml:"TemplateBody"`
		StagesAvailable []string `xml:"StagesAvailable>member"`
	}{body, []string{"Original", "Processed"}}, nil
}

// templateParamXML is a template parameter as ValidateTemplate describes
// it; GetTemplateSummary adds its type and constraints.
type templateParamXML struct {
	ParameterKey         string               `xml:"ParameterKey"`
	DefaultValue         string               `xml:"DefaultValue,omitempty"`
	ParameterType        *string              `xml:"ParameterType"`
	NoEcho               bool                 `xml:"NoEcho"`
	Description          string               `xml:"Description,omitempty"`
	ParameterConstraints *paramConstraintsXML `xml:"ParameterConstraints"`
}

type paramConstraintsXML struct {
	AllowedValues []string `xml:"AllowedValues>member"`
}

// templateXML is what ValidateTemplate and GetTemplateSummary both answer
// first about a template, in the order both put it.
type templateXML struct {
	Parameters         []templateParamXML `xml:"Parameters>member"`
	Description        string             `xml:"Description,omitempty"`
	Capabilities       []string           `xml:"Capabilities>member"`
	CapabilitiesReason string             `xml:"CapabilitiesReason,omitempty"`
}

// describeTemplate lists t's parameters by name and the capability it
// needs; summary adds each parameter's type and allowed values, as
// GetTemplateSummary does.
func describeTemplate(t *Template, summary bool) templateXML {
	out := templateXML{Parameters: []templateParamXML{}, Description: t.Description}
	for _, n := range slices.Sorted(maps.Keys(t.Parameters)) {
		p := t.Parameters[n]
		x := templateParamXML{ParameterKey: n, NoEcho: p.NoEcho, Description: p.Description}
		if p.Default != nil {
			x.DefaultValue = *p.Default
		}
		if summary {
			x.ParameterType = &p.Type
			x.ParameterConstraints = &paramConstraintsXML{AllowedValues: p.AllowedValues}
		}
		out.Parameters = append(out.Parameters, x)
	}
	if need, why := requiredCapabilities(t); need != "" {
		out.Capabilities, out.CapabilitiesReason = []string{need}, why
	}
	return out
}

func (b *Backend) apiValidateTemplate(ctx context.Context, in *validateTemplateIn) (any, error) {
	_, t, err := b.requestTemplate(ctx, in.TemplateBody, in.TemplateURL)
	if err != nil {
		return nil, err
	}
	return struct {
		templateXML
		DeclaredTransforms []string `xml:"DeclaredTransforms>member"`
	}{templateXML: describeTemplate(t, false)}, nil
}

type templateSummaryIn struct {
	TemplateBody string
	TemplateURL  string
	StackName    string
}

// apiGetTemplateSummary describes a template (given, or a stack's): what
// the aws CLI's deploy reads before it creates a change set.
func (b *Backend) apiGetTemplateSummary(ctx context.Context, in *templateSummaryIn) (any, error) {
	body := in.TemplateBody
	if in.StackName != "" {
		if body != "" || in.TemplateURL != "" {
			return nil, validationError("Specify exactly one of TemplateBody, TemplateUrl or StackName.")
		}
		b.mu.Lock()
		st := b.find(in.StackName)
		if st != nil {
			body = st.TemplateBody
		}
		b.mu.Unlock()
		if st == nil || body == "" {
			return nil, stackNotFound(in.StackName)
		}
	} else {
		var err error
		if body, err = b.templateBody(ctx, in.TemplateBody, in.TemplateURL); err != nil {
			return nil, err
		}
	}
	t, err := parseForAPI(body)
	if err != nil {
		return nil, err
	}
	out := struct {
		templateXML
		ResourceTypes      []string `xml:"ResourceTypes>member"`
		Version            string   `xml:"Version,omitempty"`
		DeclaredTransforms []string `xml:"DeclaredTransforms>member"`
	}{templateXML: describeTemplate(t, true), Version: t.FormatVersion}
	seen := map[string]bool{}
	for _, r := range t.Resources {
		if !seen[r.Type] {
			seen[r.Type] = true
			out.ResourceTypes = append(out.ResourceTypes, r.Type)
		}
	}
	sort.Strings(out.ResourceTypes)
	return out, nil
}

// findChangeSet finds a change set by ARN, or by name within a stack.
// Callers hold b.mu.
func (b *Backend) findChangeSet(name, stackName string) (*Stack, *ChangeSet, error) {
	if name == "" {
		return nil, nil, awsproto.Validation(CodeValidation, awsproto.Required("changeSetName"))
	}
	if strings.HasPrefix(name, "arn:") {
		for _, st := range b.stacks {
			for _, cs := range st.ChangeSets {
				if cs.ID == name {
					return st, cs, nil
				}
			}
		}
		return nil, nil, awsproto.Errorf(CodeChangeSetNotFound, "ChangeSet [%s] does not exist", name)
	}
	if stackName == "" {
		return nil, nil, validationError("StackName must be specified if ChangeSetName is not specified as an ARN.")
	}
	st := b.find(stackName)
	if st == nil {
		return nil, nil, awsproto.Errorf(CodeChangeSetNotFound, "ChangeSet [%s] does not exist", name)
	}
	for _, cs := range st.ChangeSets {
		if cs.Name == name {
			return st, cs, nil
		}
	}
	return nil, nil, awsproto.Errorf(CodeChangeSetNotFound, "ChangeSet [%s] does not exist", name)
}

func (b *Backend) apiCreateChangeSet(ctx context.Context, in *createChangeSetIn) (any, error) {
	if err := checkStackName("stackName", in.StackName); err != nil {
		return nil, err
	}
	if in.ChangeSetName == "" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Required("changeSetName"))
	}
	if len(in.ChangeSetName) > 128 || !stackNamePattern.MatchString(in.ChangeSetName) {
		return nil, awsproto.Validation(CodeValidation, awsproto.Violation{Field: "changeSetName", Value: in.ChangeSetName, Constraint: changeSetNameConstraint})
	}
	typ := in.ChangeSetType
	if typ == "" {
		typ = "UPDATE"
	}
	if typ != "CREATE" && typ != "UPDATE" && typ != "IMPORT" {
		return nil, awsproto.Validation(CodeValidation, awsproto.Violation{Field: "changeSetType", Value: typ, Constraint: "Member must satisfy enum value set: [UPDATE, CREATE, IMPORT]"})
	}
	if typ == "IMPORT" {
		return nil, validationError("localcloud does not import resources (ChangeSetType IMPORT)")
	}
	var body string
	if !in.UsePreviousTemplate {
		var err error
		if body, err = b.templateBody(ctx, in.TemplateBody, in.TemplateURL); err != nil {
			return nil, err
		}
	}
	b.mu.Lock()
	st := b.find(in.StackName)
	now := b.cfg.Clock.Now()
	switch typ {
	case "CREATE":
		if in.UsePreviousTemplate {
			b.mu.Unlock()
			return nil, validationError("UsePreviousTemplate is not allowed for a CREATE change set")
		}
		if st != nil && st.Status != "REVIEW_IN_PROGRESS" {
			b.mu.Unlock()
			return nil, awsproto.Errorf(CodeAlreadyExists, "Stack [%s] already exists and cannot be created again with the changeSet [%s].", in.StackName, in.ChangeSetName)
		}
		if st == nil {
			st = &Stack{ID: b.stackARN(in.StackName), Name: in.StackName, Created: now, Resources: map[string]*StackResource{}}
			b.stacks = append(b.stacks, st)
			b.stackEvent(st, "REVIEW_IN_PROGRESS", "User Initiated", now)
		}
	case "UPDATE":
		if st == nil {
			b.mu.Unlock()
			return nil, stackNotFound(in.StackName)
		}
		if st.Status == "REVIEW_IN_PROGRESS" {
			b.mu.Unlock()
			return nil, validationError("Stack [%s] does not exist", in.StackName)
		}
		if in.UsePreviousTemplate {
			body = st.TemplateBody
		}
	}
	for _, cs := range st.ChangeSets {
		if cs.Name == in.ChangeSetName {
			b.mu.Unlock()
			return nil, awsproto.Errorf(CodeAlreadyExists, "ChangeSet %s already exists", in.ChangeSetName)
		}
	}
	p, err := b.propose(st, body, in.Parameters, in.Capabilities)
	if err != nil {
		b.mu.Unlock()
		return nil, err
	}
	cs := &ChangeSet{
		ID:   fmt.Sprintf("arn:aws:cloudformation:%s:%s:changeSet/%s/%s", b.cfg.Region, b.cfg.Account, in.ChangeSetName, newUUID()),
		Name: in.ChangeSetName, Type: typ, Description: in.Description, TemplateBody: body, Params: p.raw,
		Capabilities: in.Capabilities, Tags: in.Tags, Changes: p.changes, Created: now,
		Status: "CREATE_COMPLETE", ExecutionStatus: "AVAILABLE",
	}
	if p.noChange() && typ == "UPDATE" {
		cs.Status, cs.ExecutionStatus = "FAILED", "UNAVAILABLE"
		cs.StatusReason = "The submitted information didn't contain changes. Submit different information to create a change set."
	}
	st.ChangeSets = append(st.ChangeSets, cs)
	b.mu.Unlock()
	b.save()
	return struct {
		Id      string `xml:"Id"`
		StackId string `xml:"StackId"`
	}{cs.ID, st.ID}, nil
}

type changeDetailXML struct {
	Target struct {
		Attribute           string `xml:"Attribute"`
		Name                string `xml:"Name,omitempty"`
		RequiresRecreation  string `xml:"RequiresRecreation,omitempty"`
		Path                string `xml:"Path,omitempty"`
		BeforeValue         string `xml:"BeforeValue,omitempty"`
		AfterValue          string `xml:"AfterValue,omitempty"`
		AttributeChangeType string `xml:"AttributeChangeType,omitempty"`
	} `xml:"Target"`
	Evaluation    string `xml:"Evaluation"`
	ChangeSource  string `xml:"ChangeSource"`
	CausingEntity string `xml:"CausingEntity,omitempty"`
}

type changeXML struct {
	Type           string `xml:"Type"`
	ResourceChange struct {
		Action             string            `xml:"Action"`
		LogicalResourceId  string            `xml:"LogicalResourceId"`
		PhysicalResourceId string            `xml:"PhysicalResourceId,omitempty"`
		ResourceType       string            `xml:"ResourceType"`
		Replacement        string            `xml:"Replacement,omitempty"`
		PolicyAction       string            `xml:"PolicyAction,omitempty"`
		Scope              []string          `xml:"Scope>member"`
		Details            []changeDetailXML `xml:"Details>member"`
	} `xml:"ResourceChange"`
}

func (b *Backend) apiDescribeChangeSet(ctx context.Context, in *changeSetIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, cs, err := b.findChangeSet(in.ChangeSetName, in.StackName)
	if err != nil {
		return nil, err
	}
	var out struct {
		ChangeSetName       string             `xml:"ChangeSetName"`
		ChangeSetId         string             `xml:"ChangeSetId"`
		StackId             string             `xml:"StackId"`
		StackName           string             `xml:"StackName"`
		Description         string             `xml:"Description,omitempty"`
		Parameters          []paramXML         `xml:"Parameters>member"`
		CreationTime        awsproto.Timestamp `xml:"CreationTime"`
		ExecutionStatus     string             `xml:"ExecutionStatus"`
		Status              string             `xml:"Status"`
		StatusReason        string             `xml:"StatusReason,omitempty"`
		Capabilities        []string           `xml:"Capabilities>member"`
		Tags                []Tag              `xml:"Tags>member"`
		Changes             []changeXML        `xml:"Changes>member"`
		IncludeNestedStacks bool               `xml:"IncludeNestedStacks"`
	}
	out.ChangeSetName, out.ChangeSetId, out.StackId, out.StackName = cs.Name, cs.ID, st.ID, st.Name
	out.Description, out.Parameters, out.CreationTime = cs.Description, paramsXML(cs.TemplateBody, cs.Params), awsproto.NewTimestamp(cs.Created)
	out.ExecutionStatus, out.Status, out.StatusReason = cs.ExecutionStatus, cs.Status, cs.StatusReason
	out.Capabilities, out.Tags = cs.Capabilities, cs.Tags
	out.Changes = []changeXML{}
	for _, c := range cs.Changes {
		var x changeXML
		x.Type = "Resource"
		rc := &x.ResourceChange
		rc.Action, rc.LogicalResourceId, rc.PhysicalResourceId, rc.ResourceType = c.Action, c.LogicalID, c.PhysicalID, c.Type
		rc.Replacement, rc.Scope, rc.PolicyAction = c.Replacement, c.Scope, c.PolicyAction
		if rc.Scope == nil {
			rc.Scope = []string{}
		}
		rc.Details = []changeDetailXML{}
		for _, d := range c.Details {
			var dx changeDetailXML
			dx.Target.Attribute, dx.Target.Name, dx.Target.RequiresRecreation, dx.Target.AttributeChangeType = "Properties", d.Name, d.RequiresRecreation, d.AttributeChangeType
			dx.Target.Path = "/Properties/" + d.Name
			if in.IncludePropertyValues {
				dx.Target.BeforeValue, dx.Target.AfterValue = d.Before, d.After
			}
			dx.Evaluation, dx.ChangeSource, dx.CausingEntity = d.Evaluation, d.ChangeSource, d.CausingEntity
			rc.Details = append(rc.Details, dx)
		}
		out.Changes = append(out.Changes, x)
	}
	return out, nil
}

func (b *Backend) apiExecuteChangeSet(ctx context.Context, in *changeSetIn) (any, error) {
	b.mu.Lock()
	st, cs, err := b.findChangeSet(in.ChangeSetName, in.StackName)
	if err != nil {
		b.mu.Unlock()
		return nil, err
	}
	if cs.ExecutionStatus != "AVAILABLE" {
		id, status := cs.ID, cs.Status
		b.mu.Unlock()
		return nil, awsproto.Errorf(CodeInvalidChangeSetStatus, "ChangeSet [%s] cannot be executed in its current status of [%s]", id, status)
	}
	if err := busy(st, "updated"); err != nil {
		b.mu.Unlock()
		return nil, err
	}
	disable := in.DisableRollback != nil && *in.DisableRollback
	t, err := parseForAPI(cs.TemplateBody)
	if err != nil {
		b.mu.Unlock()
		return nil, err
	}
	given := make([]ParamInput, 0, len(cs.Params))
	for k, v := range cs.Params {
		given = append(given, ParamInput{ParameterKey: k, ParameterValue: v})
	}
	params, raw, err := resolveParameters(t, given, st.Params)
	if err != nil {
		b.mu.Unlock()
		return nil, validationError("%s", err.Error())
	}
	st.LastChangeSetID = cs.ID
	cs.ExecutionStatus = "EXECUTE_IN_PROGRESS"
	st.executing = cs
	// Executing a change set deletes the stack's other change sets: they
	// are no longer valid for the updated stack.
	st.ChangeSets = []*ChangeSet{cs}
	if cs.Type == "CREATE" {
		now := b.cfg.Clock.Now()
		st.TemplateBody, st.Params, st.Description, st.Capabilities, st.Tags = cs.TemplateBody, raw, t.Description, cs.Capabilities, cs.Tags
		st.DisableRollback = disable
		st.Created = now
		b.stackEvent(st, "CREATE_IN_PROGRESS", "User Initiated", now)
		onFailure := "ROLLBACK"
		if disable {
			onFailure = "DO_NOTHING"
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.runCreate(st, t, params, onFailure)
		}()
	} else {
		if err := updatable(st); err != nil {
			cs.ExecutionStatus = "AVAILABLE"
			b.mu.Unlock()
			return nil, err
		}
		var oldTmpl *Template
		if st.TemplateBody != "" {
			oldTmpl, _ = ParseTemplate(st.TemplateBody)
		}
		b.startUpdate(st, oldTmpl, t, cs.TemplateBody, params, raw, cs.Capabilities, cs.Tags, cs)
	}
	b.mu.Unlock()
	b.save()
	return nil, nil
}

func (b *Backend) apiDeleteChangeSet(ctx context.Context, in *changeSetIn) (any, error) {
	b.mu.Lock()
	st, cs, err := b.findChangeSet(in.ChangeSetName, in.StackName)
	if err != nil {
		b.mu.Unlock()
		return nil, err
	}
	if status := cs.ExecutionStatus; status == "EXECUTE_IN_PROGRESS" {
		b.mu.Unlock()
		return nil, awsproto.Errorf(CodeInvalidChangeSetStatus, "Cannot delete ChangeSet in status %s", status)
	}
	st.ChangeSets = slices.DeleteFunc(st.ChangeSets, func(c *ChangeSet) bool { return c == cs })
	b.mu.Unlock()
	b.save()
	return nil, nil
}

type changeSetSummaryXML struct {
	StackId         string             `xml:"StackId"`
	StackName       string             `xml:"StackName"`
	ChangeSetId     string             `xml:"ChangeSetId"`
	ChangeSetName   string             `xml:"ChangeSetName"`
	ExecutionStatus string             `xml:"ExecutionStatus"`
	Status          string             `xml:"Status"`
	StatusReason    string             `xml:"StatusReason,omitempty"`
	CreationTime    awsproto.Timestamp `xml:"CreationTime"`
	Description     string             `xml:"Description,omitempty"`
}

func (b *Backend) apiListChangeSets(ctx context.Context, in *stackNameIn) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st, err := b.namedStackLocked(in.StackName)
	if err != nil {
		return nil, err
	}
	var out struct {
		Summaries []changeSetSummaryXML `xml:"Summaries>member"`
	}
	out.Summaries = []changeSetSummaryXML{}
	for _, cs := range st.ChangeSets {
		out.Summaries = append(out.Summaries, changeSetSummaryXML{st.ID, st.Name, cs.ID, cs.Name, cs.ExecutionStatus, cs.Status, cs.StatusReason, awsproto.NewTimestamp(cs.Created), cs.Description})
	}
	return out, nil
}

func (b *Backend) apiListExports(ctx context.Context, _ *struct{ NextToken string }) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	type exportXML struct {
		ExportingStackId string `xml:"ExportingStackId"`
		Name             string `xml:"Name"`
		Value            string `xml:"Value"`
	}
	var out struct {
		Exports []exportXML `xml:"Exports>member"`
	}
	out.Exports = []exportXML{}
	for _, st := range b.stacks {
		if st.Status == "DELETE_COMPLETE" {
			continue
		}
		for _, o := range st.Outputs {
			if o.ExportName != "" {
				out.Exports = append(out.Exports, exportXML{st.ID, o.ExportName, o.OutputValue})
			}
		}
	}
	return out, nil
}
