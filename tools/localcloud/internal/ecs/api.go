package ecs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// TargetPrefix is ECS's X-Amz-Target prefix.
const TargetPrefix = "AmazonEC2ContainerServiceV20141113"

// op adapts a typed operation that runs under the backend's lock.
func op[In any](b *Backend, f func(context.Context, *In) (any, error)) awsproto.JSONOp {
	return awsproto.Op[In](func(ctx context.Context, in *In) (any, error) {
		b.mu.Lock()
		defer func() {
			b.saveLocked()
			b.mu.Unlock()
		}()
		_ = ctx // requests never bound what they start: tasks outlive the call
		out, err := f(b.ctx, in)
		if err != nil {
			return nil, err
		}
		// Encode under the lock: outputs share structure with live state.
		raw, err := json.Marshal(out)
		if err != nil {
			return nil, fmt.Errorf("encode ecs output: %w", err)
		}
		return json.RawMessage(raw), nil
	}).JSON()
}

// Register answers the ECS API (JSON 1.1).
func (b *Backend) Register(m *awsproto.Mux) {
	m.HandleJSON(awsproto.JSONService{TargetPrefix: TargetPrefix, Version: "1.1", Ops: map[string]awsproto.JSONOp{
		"CreateCluster":              op(b, b.apiCreateCluster),
		"DescribeClusters":           op(b, b.apiDescribeClusters),
		"DeleteCluster":              op(b, b.apiDeleteCluster),
		"ListClusters":               op(b, b.apiListClusters),
		"RegisterTaskDefinition":     op(b, b.apiRegisterTaskDefinition),
		"DescribeTaskDefinition":     op(b, b.apiDescribeTaskDefinition),
		"ListTaskDefinitions":        op(b, b.apiListTaskDefinitions),
		"DeregisterTaskDefinition":   op(b, b.apiDeregisterTaskDefinition),
		"CreateService":              op(b, b.apiCreateService),
		"UpdateService":              op(b, b.apiUpdateService),
		"DescribeServices":           op(b, b.apiDescribeServices),
		"DeleteService":              op(b, b.apiDeleteService),
		"ListServices":               op(b, b.apiListServices),
		"ListTasks":                  op(b, b.apiListTasks),
		"DescribeTasks":              op(b, b.apiDescribeTasks),
		"StopTask":                   op(b, b.apiStopTask),
		"ListServiceDeployments":     op(b, b.apiListServiceDeployments),
		"DescribeServiceDeployments": op(b, b.apiDescribeServiceDeployments),
		"StopServiceDeployment":      op(b, b.apiStopServiceDeployment),
		"ContinueServiceDeployment":  op(b, b.apiContinueServiceDeployment),
		"DescribeServiceRevisions":   op(b, b.apiDescribeServiceRevisions),
		"TagResource":                op(b, b.apiTagResource),
		"UntagResource":              op(b, b.apiUntagResource),
		"ListTagsForResource":        op(b, b.apiListTagsForResource),
	}})
}
