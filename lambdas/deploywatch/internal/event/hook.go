package event

import (
	"bytes"
	"encoding/json"
	"errors"
)

// HookInvocation is what ECS sends a Lambda lifecycle hook.
type HookInvocation struct {
	ExecutionID    string
	LifecycleStage string
	// ResourceArn is the service deployment ARN.
	ResourceArn  string
	DeploymentID string
	Service      ServiceRef
	// TargetRevisionArn is green's service revision, also during a rollback.
	TargetRevisionArn        string
	TestTrafficWeights       map[string]float64
	ProductionTrafficWeights map[string]float64
	// HookDetails is the configured object merged with what an earlier
	// IN_PROGRESS answer returned; nil when absent.
	HookDetails map[string]any
}

// RollingBack reports whether ECS re-invokes the hook during a rollback:
// green's production weight is 0 and another revision has it all.
func (h *HookInvocation) RollingBack() bool {
	w := h.ProductionTrafficWeights
	green, ok := w[h.TargetRevisionArn]
	if !ok || green != 0 {
		return false
	}
	for rev, v := range w {
		if rev != h.TargetRevisionArn && v > 0 {
			return true
		}
	}
	return false
}

func decodeHook(data []byte) (*HookInvocation, error) {
	var r rawHook
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, malformedHook(idOfHook(data), err)
	}
	id := deref(r.ExecutionID)
	if id == "" {
		return nil, malformed("", "executionId", "missing")
	}
	h := &HookInvocation{ExecutionID: id, LifecycleStage: deref(r.LifecycleStage), ResourceArn: deref(r.ResourceArn)}
	if h.LifecycleStage == "" {
		return nil, malformed(id, "lifecycleStage", "missing")
	}
	svc, depID, err := ParseServiceDeploymentArn(h.ResourceArn)
	if err != nil {
		return nil, malformed(id, "resourceArn", "%v", err)
	}
	h.Service, h.DeploymentID = svc, depID
	if r.ExecutionDetails == nil {
		return nil, malformed(id, "executionDetails", "missing")
	}
	x := r.ExecutionDetails
	if sa := deref(x.ServiceArn); sa != "" {
		ref, err := ParseServiceArn(sa)
		if err != nil {
			return nil, malformed(id, "executionDetails.serviceArn", "%v", err)
		}
		if ref.Service != svc.Service || (ref.Cluster != "" && ref.Cluster != svc.Cluster) {
			return nil, malformed(id, "executionDetails.serviceArn", "%q is not the service of %q", sa, h.ResourceArn)
		}
	}
	h.TargetRevisionArn = deref(x.TargetServiceRevisionArn)
	if h.TargetRevisionArn == "" {
		return nil, malformed(id, "executionDetails.targetServiceRevisionArn", "missing")
	}
	h.TestTrafficWeights, h.ProductionTrafficWeights = x.TestTrafficWeights, x.ProductionTrafficWeights
	if d := bytes.TrimSpace(r.HookDetails); len(d) > 0 && !bytes.Equal(d, []byte("null")) {
		if err := json.Unmarshal(d, &h.HookDetails); err != nil {
			return nil, malformed(id, "hookDetails", "want a JSON object")
		}
	}
	return h, nil
}

func malformedHook(id string, err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return malformed(id, te.Field, "want %s, got JSON %s", te.Type, te.Value)
	}
	return malformed(id, "", "decode lifecycle hook invocation: %v", err)
}

func idOfHook(data []byte) string {
	var v struct {
		ID json.RawMessage `json:"executionId"`
	}
	if json.Unmarshal(data, &v) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(v.ID, &s) != nil {
		return ""
	}
	return s
}
