package cloudformation

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

func eventsProvisioners(c *eventbridge.Client) map[string]Provisioner {
	const svc = "EventBridge"
	put := func(ctx context.Context, r *Request, name string, oldTargets []ebtypes.Target) (Result, error) {
		in := eventbridge.PutRuleInput{
			Name:               aws.String(name),
			Description:        optString(r.Properties, "Description"),
			ScheduleExpression: optString(r.Properties, "ScheduleExpression"),
			RoleArn:            optString(r.Properties, "RoleArn"),
			EventBusName:       optString(r.Properties, "EventBusName"),
		}
		if s := str(r.Properties, "State"); s != "" {
			in.State = ebtypes.RuleState(s)
		}
		if p, ok := r.Properties["EventPattern"]; ok {
			doc, err := jsonText(p)
			if err != nil {
				return Result{}, err
			}
			in.EventPattern = aws.String(doc)
		}
		out, err := c.PutRule(ctx, &in)
		if err != nil {
			return Result{}, handlerError(r.Type, svc, err)
		}
		var targets []ebtypes.Target
		if t, ok := r.Properties["Targets"]; ok {
			if err := convert(t, &targets); err != nil {
				return Result{}, err
			}
		}
		keepIDs := map[string]bool{}
		for _, t := range targets {
			keepIDs[aws.ToString(t.Id)] = true
		}
		var remove []string
		for _, t := range oldTargets {
			if !keepIDs[aws.ToString(t.Id)] {
				remove = append(remove, aws.ToString(t.Id))
			}
		}
		if len(remove) > 0 {
			if _, err := c.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(name), EventBusName: in.EventBusName, Ids: remove}); err != nil {
				return Result{}, handlerError(r.Type, svc, err)
			}
		}
		if len(targets) > 0 {
			tout, err := c.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String(name), EventBusName: in.EventBusName, Targets: targets})
			if err != nil {
				return Result{}, handlerError(r.Type, svc, err)
			}
			if tout.FailedEntryCount > 0 {
				e := tout.FailedEntries[0]
				return Result{}, msgf("Resource handler returned message: \"target %s: %s\" (Service: %s, HandlerErrorCode: %s)", aws.ToString(e.TargetId), aws.ToString(e.ErrorMessage), svc, aws.ToString(e.ErrorCode))
			}
		}
		return Result{PhysicalID: name, Attributes: map[string]any{"Arn": aws.ToString(out.RuleArn)}}, nil
	}
	// oldTargets reads targets the rule was made with: they converted once
	// already, so an error here cannot happen and leaves none to remove.
	oldTargets := func(props map[string]any) []ebtypes.Target {
		var t []ebtypes.Target
		if err := convert(props["Targets"], &t); err != nil {
			return nil
		}
		return t
	}
	return map[string]Provisioner{
		"AWS::Events::Rule": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				name := str(r.Properties, "Name")
				if name == "" {
					name = physicalName(r.StackName, r.LogicalID, 64, false)
				}
				return put(ctx, r, name, nil)
			},
			update: func(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error) {
				return put(ctx, r, prev.PhysicalID, oldTargets(old))
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				bus := optString(r.Properties, "EventBusName")
				if ts := oldTargets(r.Properties); len(ts) > 0 {
					ids := make([]string, len(ts))
					for i, t := range ts {
						ids[i] = aws.ToString(t.Id)
					}
					if _, err := c.RemoveTargets(ctx, &eventbridge.RemoveTargetsInput{Rule: aws.String(prev.PhysicalID), EventBusName: bus, Ids: ids}); err != nil && !isNotFound(err) {
						return handlerError(r.Type, svc, err)
					}
				}
				_, err := c.DeleteRule(ctx, &eventbridge.DeleteRuleInput{Name: aws.String(prev.PhysicalID), EventBusName: bus})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
	}
}

func lambdaProvisioners(c *lambda.Client) map[string]Provisioner {
	const svc = "Lambda"
	config := func(r *Request) map[string]any {
		p := map[string]any{}
		for k, v := range r.Properties {
			switch k {
			case "Code", "Tags", "FunctionName", "CodeSigningConfigArn", "ReservedConcurrentExecutions":
			default:
				p[k] = v
			}
		}
		return p
	}
	return map[string]Provisioner{
		"AWS::Lambda::Function": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				var in lambda.CreateFunctionInput
				p := config(r)
				if code, ok := r.Properties["Code"].(map[string]any); ok {
					if _, inline := code["ZipFile"]; inline {
						return Result{}, msgf("Code.ZipFile (inline code) is not supported by localcloud; upload a package to S3 and use S3Bucket/S3Key")
					}
					p["Code"] = code
				}
				if err := convert(p, &in); err != nil {
					return Result{}, err
				}
				name := str(r.Properties, "FunctionName")
				if name == "" {
					name = physicalName(r.StackName, r.LogicalID, 64, false)
				}
				in.FunctionName = aws.String(name)
				out, err := c.CreateFunction(ctx, &in)
				if err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				return Result{PhysicalID: name, Attributes: map[string]any{
					"Arn": aws.ToString(out.FunctionArn),
				}}, nil
			},
			update: func(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error) {
				codeChanged, confChanged := false, false
				for _, k := range changedKeys(old, r.Properties) {
					switch k {
					case "Code":
						codeChanged = true
					case "Tags":
					default:
						confChanged = true
					}
				}
				if confChanged {
					var in lambda.UpdateFunctionConfigurationInput
					if err := convert(config(r), &in); err != nil {
						return Result{}, err
					}
					in.FunctionName = aws.String(prev.PhysicalID)
					if _, err := c.UpdateFunctionConfiguration(ctx, &in); err != nil {
						return Result{}, handlerError(r.Type, svc, err)
					}
				}
				if codeChanged {
					var in lambda.UpdateFunctionCodeInput
					if err := convert(r.Properties["Code"], &in); err != nil {
						return Result{}, err
					}
					in.FunctionName = aws.String(prev.PhysicalID)
					if _, err := c.UpdateFunctionCode(ctx, &in); err != nil {
						return Result{}, handlerError(r.Type, svc, err)
					}
				}
				return prev, nil
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.DeleteFunction(ctx, &lambda.DeleteFunctionInput{FunctionName: aws.String(prev.PhysicalID)})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
		"AWS::Lambda::Permission": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				var in lambda.AddPermissionInput
				if err := convert(r.Properties, &in); err != nil {
					return Result{}, err
				}
				sid := physicalName(r.StackName, r.LogicalID, 100, false)
				in.StatementId = aws.String(sid)
				if _, err := c.AddPermission(ctx, &in); err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				id := aws.ToString(in.FunctionName) + "|" + sid
				return Result{PhysicalID: id, Attributes: map[string]any{"Id": sid}}, nil
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				sid, _ := prev.Attributes["Id"].(string)
				_, err := c.RemovePermission(ctx, &lambda.RemovePermissionInput{FunctionName: aws.String(str(r.Properties, "FunctionName")), StatementId: aws.String(sid)})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
	}
}
