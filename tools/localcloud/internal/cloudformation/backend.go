package cloudformation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwlogs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/clock"
)

// AWS error codes CloudFormation answers with (the query <Code>).
const (
	CodeValidation             = "ValidationError"
	CodeAlreadyExists          = "AlreadyExistsException"
	CodeChangeSetNotFound      = "ChangeSetNotFound"
	CodeInsufficientCaps       = "InsufficientCapabilitiesException"
	CodeInvalidChangeSetStatus = "InvalidChangeSetStatus"
	CodeNameAlreadyExists      = "NameAlreadyExistsException"
	stateName                  = "cloudformation"
	noUpdates                  = "No updates are to be performed."
	stackNameConstraint        = "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*"
	changeSetNameConstraint    = "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"
	maxStackNameLen            = 128
	defaultRegion, defaultAcct = "us-east-1", "000000000000"
)

var stackNamePattern = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]*$`)

func validationError(format string, args ...any) *awsproto.Error {
	return awsproto.Errorf(CodeValidation, format, args...)
}

func stackNotFound(name string) *awsproto.Error {
	return validationError("Stack with id %s does not exist", name)
}

// store persists named JSON documents; internal/state.Store satisfies it.
type store interface {
	Load(name string, v any) (bool, error)
	Save(name string, v any) error
}

// Config is what the CloudFormation backend needs.
type Config struct {
	Account, Region string
	Clock           clock.Clock
	Logger          *slog.Logger
	Store           store
	// Handler is localcloud's own mux: provisioners reach the other services
	// through it, in process, with the real SDK clients.
	Handler http.Handler
	// Schemas, when set, validates resource properties before anything is
	// created and decides replacement by createOnlyProperties.
	Schemas *Schemas
	// Provisioners adds or overrides provisioners by resource type (tests).
	Provisioners map[string]Provisioner
}

// Backend is CloudFormation. Its rules:
//
//   - A stack is found by name while it is not deleted, and by its ARN
//     always; a deleted stack (DELETE_COMPLETE) answers by ARN only.
//   - Create, update and delete run in the background; the stack status
//     says where they are, as on AWS, and one operation at a time runs per
//     stack (another is a ValidationError naming the state).
//   - Resources are created in dependency order (independent ones in
//     parallel), deleted in the reverse order. A failure rolls the stack
//     back (ROLLBACK_COMPLETE, UPDATE_ROLLBACK_COMPLETE) unless rollback is
//     disabled, with the failing resource's reason in its event.
//   - An update modifies a resource in place, or replaces it when a changed
//     property is create-only (per the registry schemas or, without them,
//     the built-in list). Replaced and removed resources are deleted in the
//     cleanup phase, after the new ones exist.
//   - Properties are checked against the registry schemas (when loaded)
//     before anything is created.
//   - IAM resources need CAPABILITY_IAM, named ones CAPABILITY_NAMED_IAM.
type Backend struct {
	cfg    Config
	log    *slog.Logger
	provs  map[string]Provisioner
	mu     sync.Mutex
	stacks []*Stack // every stack ever, deleted ones included
	saveMu sync.Mutex
	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
}

// Stack is a stack's state; it persists as JSON.
type Stack struct {
	ID              string
	Name            string
	Description     string
	Status          string
	StatusReason    string
	TemplateBody    string
	Params          map[string]string
	Capabilities    []string
	Tags            []Tag
	DisableRollback bool
	Outputs         []StackOutput
	Created         time.Time
	Updated         time.Time
	Deleted         time.Time
	Resources       map[string]*StackResource
	Events          []StackEvent
	ChangeSets      []*ChangeSet
	LastChangeSetID string

	// executing is the change set the running operation executes; the
	// stack's final status settles it (stackEvent).
	executing *ChangeSet
}

// Tag is a stack tag.
type Tag struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

// StackOutput is an evaluated output.
type StackOutput struct {
	OutputKey   string `xml:"OutputKey"`
	OutputValue string `xml:"OutputValue"`
	Description string `xml:"Description,omitempty"`
	ExportName  string `xml:"ExportName,omitempty"`
}

// StackResource is one resource as provisioned.
type StackResource struct {
	LogicalID      string
	Type           string
	PhysicalID     string
	Status         string
	Reason         string
	Props          map[string]any
	Attrs          map[string]any
	Updated        time.Time
	DeletionPolicy string
}

// StackEvent is one stack event.
type StackEvent struct {
	EventID    string
	LogicalID  string
	PhysicalID string
	Type       string
	Status     string
	Reason     string
	Time       time.Time
	Properties string
}

// New builds the backend and restores its stacks from cfg.Store. Stacks
// that were mid-operation when localcloud stopped are marked failed: the
// operation cannot be resumed.
func New(cfg Config) (*Backend, error) {
	if cfg.Handler == nil {
		return nil, errors.New("create cloudformation backend: Handler is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New(1)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	if cfg.Account == "" {
		cfg.Account = defaultAcct
	}
	b := &Backend{cfg: cfg, log: cfg.Logger}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	aws := sdkConfig(cfg.Handler, cfg.Region)
	b.provs = map[string]Provisioner{}
	for _, m := range []map[string]Provisioner{
		recordedProvisioners(),
		elbv2Provisioners(elb.NewFromConfig(aws)),
		cloudwatchProvisioners(cloudwatch.NewFromConfig(aws)),
		logsProvisioners(cwlogs.NewFromConfig(aws)),
		ecsProvisioners(ecs.NewFromConfig(aws)),
		ecrProvisioners(ecr.NewFromConfig(aws)),
		autoscalingProvisioners(aas.NewFromConfig(aws)),
		s3Provisioners(s3.NewFromConfig(aws, func(o *s3.Options) { o.UsePathStyle = true })),
		dynamodbProvisioners(dynamodb.NewFromConfig(aws)),
		sqsProvisioners(sqs.NewFromConfig(aws)),
		snsProvisioners(sns.NewFromConfig(aws)),
		eventsProvisioners(eventbridge.NewFromConfig(aws)),
		lambdaProvisioners(lambda.NewFromConfig(aws)),
		cfg.Provisioners,
	} {
		maps.Copy(b.provs, m)
	}
	if cfg.Store != nil {
		var saved struct{ Stacks []*Stack }
		if _, err := cfg.Store.Load(stateName, &saved); err != nil {
			return nil, fmt.Errorf("restore cloudformation: %w", err)
		}
		b.stacks = saved.Stacks
		now := cfg.Clock.Now()
		for _, st := range b.stacks {
			if !strings.HasSuffix(st.Status, "_IN_PROGRESS") {
				continue
			}
			to := map[string]string{
				"CREATE_IN_PROGRESS": "CREATE_FAILED", "ROLLBACK_IN_PROGRESS": "ROLLBACK_FAILED",
				"DELETE_IN_PROGRESS": "DELETE_FAILED", "UPDATE_IN_PROGRESS": "UPDATE_ROLLBACK_FAILED",
				"UPDATE_COMPLETE_CLEANUP_IN_PROGRESS": "UPDATE_COMPLETE", "UPDATE_ROLLBACK_IN_PROGRESS": "UPDATE_ROLLBACK_FAILED",
				"UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS": "UPDATE_ROLLBACK_COMPLETE", "REVIEW_IN_PROGRESS": "REVIEW_IN_PROGRESS",
			}[st.Status]
			if to == "" {
				to = "UPDATE_ROLLBACK_FAILED"
			}
			if to != st.Status {
				b.stackEvent(st, to, "localcloud restarted while the operation ran; it cannot be resumed", now)
			}
			for _, cs := range st.ChangeSets {
				if cs.ExecutionStatus == "EXECUTE_IN_PROGRESS" {
					cs.ExecutionStatus = "EXECUTE_FAILED"
				}
			}
		}
	}
	return b, nil
}

// Close stops running operations and waits for them.
func (b *Backend) Close() error {
	b.cancel()
	b.wg.Wait()
	return nil
}

// save persists every stack. Callers must not hold b.mu.
func (b *Backend) save() {
	if b.cfg.Store == nil {
		return
	}
	b.saveMu.Lock()
	defer b.saveMu.Unlock()
	// Encode under the lock (the stacks keep changing behind us), write
	// outside it, so API calls do not wait for the disk.
	b.mu.Lock()
	doc, err := json.Marshal(struct{ Stacks []*Stack }{Stacks: b.stacks})
	b.mu.Unlock()
	if err == nil {
		err = b.cfg.Store.Save(stateName, json.RawMessage(doc))
	}
	if err != nil {
		b.log.Error("save cloudformation state", "err", err)
	}
}

// find returns the live stack called name (or the stack, deleted or not,
// whose ARN is name). Callers hold b.mu.
func (b *Backend) find(name string) *Stack {
	if strings.HasPrefix(name, "arn:") {
		for _, st := range b.stacks {
			if st.ID == name {
				return st
			}
		}
		return nil
	}
	for _, st := range b.stacks {
		if st.Name == name && st.Status != "DELETE_COMPLETE" {
			return st
		}
	}
	return nil
}

func (b *Backend) stackARN(name string) string {
	return fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%s", b.cfg.Region, b.cfg.Account, name, newUUID())
}

// stackEvent sets the stack's status and records the event. Callers hold b.mu.
func (b *Backend) stackEvent(st *Stack, status, reason string, now time.Time) {
	if cs := st.executing; cs != nil && !strings.HasSuffix(status, "_IN_PROGRESS") {
		cs.ExecutionStatus = "EXECUTE_FAILED"
		if status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE" {
			cs.ExecutionStatus = "EXECUTE_COMPLETE"
		}
		st.executing = nil
	}
	st.Status = status
	st.StatusReason = reason
	st.Events = append(st.Events, StackEvent{
		EventID: newUUID(), LogicalID: st.Name, PhysicalID: st.ID, Type: "AWS::CloudFormation::Stack",
		Status: status, Reason: reason, Time: now,
	})
	b.log.Info("stack "+strings.ToLower(strings.ReplaceAll(status, "_", " ")), "stack", st.Name, "reason", reason)
}

// resourceEvent records a resource's new status. Callers hold b.mu.
func (b *Backend) resourceEvent(st *Stack, r *StackResource, status, reason string) {
	now := b.cfg.Clock.Now()
	r.Status, r.Reason, r.Updated = status, reason, now
	st.Events = append(st.Events, StackEvent{
		EventID: r.LogicalID + "-" + status + "-" + now.UTC().Format("2006-01-02T15:04:05.000Z") + "-" + randomHex(6), LogicalID: r.LogicalID,
		PhysicalID: r.PhysicalID, Type: r.Type, Status: status, Reason: reason, Time: now,
	})
	if strings.HasSuffix(status, "_FAILED") {
		b.log.Warn("resource "+strings.ToLower(strings.ReplaceAll(status, "_", " ")), "stack", st.Name, "resource", r.LogicalID, "type", r.Type, "reason", reason)
	} else {
		b.log.Debug("resource "+strings.ToLower(strings.ReplaceAll(status, "_", " ")), "stack", st.Name, "resource", r.LogicalID)
	}
}

// busy reports a stack that cannot take a new operation. Callers hold b.mu.
func busy(st *Stack, verb string) error {
	if strings.HasSuffix(st.Status, "_IN_PROGRESS") && st.Status != "REVIEW_IN_PROGRESS" {
		return validationError("Stack:%s is in %s state and can not be %s.", st.ID, st.Status, verb)
	}
	return nil
}

// iamTypes need a capability to be created.
var iamTypes = []string{"AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::User", "AWS::IAM::Group", "AWS::IAM::InstanceProfile", "AWS::IAM::AccessKey", "AWS::IAM::UserToGroupAddition"}

var iamNameProps = []string{"RoleName", "ManagedPolicyName", "UserName", "GroupName", "InstanceProfileName"}

// requiredCapabilities says which capability the template needs and why.
func requiredCapabilities(t *Template) (string, string) {
	need := ""
	var ids []string
	for id, r := range t.Resources {
		if !slices.Contains(iamTypes, r.Type) {
			continue
		}
		ids = append(ids, id)
		if need == "" {
			need = "CAPABILITY_IAM"
		}
		for _, p := range iamNameProps {
			if _, ok := r.Properties[p]; ok {
				need = "CAPABILITY_NAMED_IAM"
			}
		}
	}
	sort.Strings(ids)
	if need == "" {
		return "", ""
	}
	return need, "The following resource(s) require capabilities: [" + strings.Join(typesOf(t, ids), ", ") + "]"
}

func typesOf(t *Template, ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range ids {
		if typ := t.Resources[id].Type; !seen[typ] {
			seen[typ] = true
			out = append(out, typ)
		}
	}
	return out
}

func checkCapabilities(t *Template, given []string) error {
	need, _ := requiredCapabilities(t)
	if need == "" {
		return nil
	}
	if slices.Contains(given, "CAPABILITY_NAMED_IAM") || (need == "CAPABILITY_IAM" && slices.Contains(given, "CAPABILITY_IAM")) {
		return nil
	}
	return awsproto.Errorf(CodeInsufficientCaps, "Requires capabilities : [%s]", need)
}

// exports lists every live stack's exports: name → (value, exporting stack).
// Callers hold b.mu.
func (b *Backend) exports() map[string][2]string {
	out := map[string][2]string{}
	for _, st := range b.stacks {
		if st.Status == "DELETE_COMPLETE" {
			continue
		}
		for _, o := range st.Outputs {
			if o.ExportName != "" {
				out[o.ExportName] = [2]string{o.OutputValue, st.Name}
			}
		}
	}
	return out
}

// importers lists the stacks importing one of st's exports. Callers hold b.mu.
func (b *Backend) importers(st *Stack) map[string][]string {
	names := map[string]bool{}
	for _, o := range st.Outputs {
		if o.ExportName != "" {
			names[o.ExportName] = true
		}
	}
	out := map[string][]string{}
	if len(names) == 0 {
		return out
	}
	for _, other := range b.stacks {
		if other == st || other.Status == "DELETE_COMPLETE" || other.TemplateBody == "" {
			continue
		}
		t, err := ParseTemplate(other.TemplateBody)
		if err != nil {
			continue
		}
		for _, name := range importNames(t, other.Params) {
			if names[name] {
				out[name] = append(out[name], other.Name)
			}
		}
	}
	return out
}

// importNames lists the literal export names a template imports.
func importNames(t *Template, params map[string]string) []string {
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch c := v.(type) {
		case map[string]any:
			if a, ok := c["Fn::ImportValue"]; ok && len(c) == 1 {
				switch n := a.(type) {
				case string:
					out = append(out, n)
				case map[string]any:
					if s, ok := n["Fn::Sub"].(string); ok {
						s = strings.ReplaceAll(s, "${AWS::Region}", defaultRegion)
						for k, v := range params {
							s = strings.ReplaceAll(s, "${"+k+"}", v)
						}
						out = append(out, s)
					}
					if r, ok := n["Ref"].(string); ok {
						out = append(out, params[r])
					}
				}
				return
			}
			for _, e := range c {
				walk(e)
			}
		case []any:
			for _, e := range c {
				walk(e)
			}
		}
	}
	for _, r := range t.Resources {
		walk(r.Properties)
	}
	for _, o := range t.Outputs {
		walk(o.Value)
	}
	return out
}
