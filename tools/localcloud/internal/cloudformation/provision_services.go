package cloudformation

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	aas "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling"
	aastypes "github.com/aws/aws-sdk-go-v2/service/applicationautoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwlogs "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
)

func cloudwatchProvisioners(c *cloudwatch.Client) map[string]Provisioner {
	const svc = "CloudWatch"
	put := func(ctx context.Context, r *Request, name string) (Result, error) {
		var in cloudwatch.PutMetricAlarmInput
		if err := convert(r.Properties, &in); err != nil {
			return Result{}, err
		}
		in.AlarmName = aws.String(name)
		if _, err := c.PutMetricAlarm(ctx, &in); err != nil {
			return Result{}, handlerError(r.Type, svc, err)
		}
		return Result{PhysicalID: name, Attributes: map[string]any{
			"Arn": fmt.Sprintf("arn:aws:cloudwatch:%s:%s:alarm:%s", r.Region, r.Account, name),
		}}, nil
	}
	return map[string]Provisioner{
		"AWS::CloudWatch::Alarm": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				name := str(r.Properties, "AlarmName")
				if name == "" {
					name = physicalName(r.StackName, r.LogicalID, 255, false)
				}
				return put(ctx, r, name)
			},
			// PutMetricAlarm replaces the whole alarm definition.
			update: func(ctx context.Context, r *Request, prev Result, _ map[string]any) (Result, error) {
				return put(ctx, r, prev.PhysicalID)
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.DeleteAlarms(ctx, &cloudwatch.DeleteAlarmsInput{AlarmNames: []string{prev.PhysicalID}})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
	}
}

func logsProvisioners(c *cwlogs.Client) map[string]Provisioner {
	const svc = "CloudWatchLogs"
	retention := func(ctx context.Context, r *Request, name string) error {
		if _, ok := r.Properties["RetentionInDays"]; !ok {
			_, err := c.DeleteRetentionPolicy(ctx, &cwlogs.DeleteRetentionPolicyInput{LogGroupName: aws.String(name)})
			return handlerError(r.Type, svc, err)
		}
		var in cwlogs.PutRetentionPolicyInput
		if err := convert(map[string]any{"RetentionInDays": r.Properties["RetentionInDays"]}, &in); err != nil {
			return err
		}
		in.LogGroupName = aws.String(name)
		_, err := c.PutRetentionPolicy(ctx, &in)
		return handlerError(r.Type, svc, err)
	}
	result := func(r *Request, name string) Result {
		return Result{PhysicalID: name, Attributes: map[string]any{
			"Arn": fmt.Sprintf("arn:aws:logs:%s:%s:log-group:%s:*", r.Region, r.Account, name),
		}}
	}
	return map[string]Provisioner{
		"AWS::Logs::LogGroup": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				name := str(r.Properties, "LogGroupName")
				if name == "" {
					name = physicalName(r.StackName, r.LogicalID, 512, false)
				}
				in := cwlogs.CreateLogGroupInput{LogGroupName: aws.String(name), KmsKeyId: optString(r.Properties, "KmsKeyId")}
				if _, err := c.CreateLogGroup(ctx, &in); err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				if _, ok := r.Properties["RetentionInDays"]; ok {
					if err := retention(ctx, r, name); err != nil {
						return result(r, name), err
					}
				}
				return result(r, name), nil
			},
			update: func(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error) {
				for _, k := range changedKeys(old, r.Properties) {
					switch k {
					case "RetentionInDays", "Tags":
					default:
						return Result{}, fmt.Errorf("localcloud cannot change %s of a log group in place yet", k)
					}
				}
				return prev, retention(ctx, r, prev.PhysicalID)
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.DeleteLogGroup(ctx, &cwlogs.DeleteLogGroupInput{LogGroupName: aws.String(prev.PhysicalID)})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
	}
}

func optString(props map[string]any, key string) *string {
	if _, ok := props[key]; !ok {
		return nil
	}
	return aws.String(str(props, key))
}

func ecsProvisioners(c *ecs.Client) map[string]Provisioner {
	const svc = "Ecs"
	return map[string]Provisioner{
		"AWS::ECS::Cluster": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				var in ecs.CreateClusterInput
				p := map[string]any{}
				for k, v := range r.Properties {
					switch k {
					case "ClusterSettings":
						p["Settings"] = v
					case "Configuration", "CapacityProviders", "DefaultCapacityProviderStrategy", "ServiceConnectDefaults", "Tags":
						p[k] = v
					}
				}
				if err := convert(p, &in); err != nil {
					return Result{}, err
				}
				name := str(r.Properties, "ClusterName")
				if name == "" {
					name = physicalName(r.StackName, r.LogicalID, 255, false)
				}
				in.ClusterName = aws.String(name)
				out, err := c.CreateCluster(ctx, &in)
				if err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				return Result{PhysicalID: name, Attributes: map[string]any{"Arn": aws.ToString(out.Cluster.ClusterArn)}}, nil
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String(prev.PhysicalID)})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
	}
}

func ecrProvisioners(c *ecr.Client) map[string]Provisioner {
	const svc = "Ecr"
	return map[string]Provisioner{
		"AWS::ECR::Repository": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				var in ecr.CreateRepositoryInput
				p := map[string]any{}
				for k, v := range r.Properties {
					switch k {
					case "ImageTagMutability", "ImageScanningConfiguration", "EncryptionConfiguration", "Tags":
						p[k] = v
					}
				}
				if err := convert(p, &in); err != nil {
					return Result{}, err
				}
				name := str(r.Properties, "RepositoryName")
				if name == "" {
					name = strings.ToLower(physicalName(r.StackName, r.LogicalID, 256, true))
				}
				in.RepositoryName = aws.String(name)
				out, err := c.CreateRepository(ctx, &in)
				if err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				repo := out.Repository
				return Result{PhysicalID: name, Attributes: map[string]any{
					"Arn":           aws.ToString(repo.RepositoryArn),
					"RepositoryUri": aws.ToString(repo.RepositoryUri),
				}}, nil
			},
			// Only the lifecycle policy and tags may change in place here:
			// localcloud's ECR records neither, so there is nothing to call.
			update: func(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error) {
				for _, k := range changedKeys(old, r.Properties) {
					switch k {
					case "LifecyclePolicy", "Tags", "EmptyOnDelete":
					default:
						return Result{}, fmt.Errorf("localcloud cannot change %s of a repository in place yet", k)
					}
				}
				return prev, nil
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.DeleteRepository(ctx, &ecr.DeleteRepositoryInput{RepositoryName: aws.String(prev.PhysicalID), Force: truthy(r.Properties["EmptyOnDelete"])})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
	}
}

func autoscalingProvisioners(c *aas.Client) map[string]Provisioner {
	const svc = "ApplicationAutoScaling"
	register := func(ctx context.Context, r *Request) (Result, error) {
		var in aas.RegisterScalableTargetInput
		if err := convert(r.Properties, &in); err != nil {
			return Result{}, err
		}
		if _, err := c.RegisterScalableTarget(ctx, &in); err != nil {
			return Result{}, handlerError(r.Type, svc, err)
		}
		id := aws.ToString(in.ResourceId) + "|" + string(in.ScalableDimension) + "|" + string(in.ServiceNamespace)
		return Result{PhysicalID: id, Attributes: map[string]any{"Id": id}}, nil
	}
	putPolicy := func(ctx context.Context, r *Request) (Result, error) {
		var in aas.PutScalingPolicyInput
		if err := convert(r.Properties, &in); err != nil {
			return Result{}, err
		}
		if tid := str(r.Properties, "ScalingTargetId"); tid != "" {
			parts := strings.Split(tid, "|")
			if len(parts) != 3 {
				return Result{}, msgf("ScalingTargetId %q is not a scalable target's id (resource|dimension|namespace)", tid)
			}
			in.ResourceId = aws.String(parts[0])
			in.ScalableDimension = aastypes.ScalableDimension(parts[1])
			in.ServiceNamespace = aastypes.ServiceNamespace(parts[2])
		}
		out, err := c.PutScalingPolicy(ctx, &in)
		if err != nil {
			return Result{}, handlerError(r.Type, svc, err)
		}
		arn := aws.ToString(out.PolicyARN)
		return Result{PhysicalID: arn, Attributes: map[string]any{"Arn": arn}}, nil
	}
	return map[string]Provisioner{
		"AWS::ApplicationAutoScaling::ScalableTarget": funcs{
			create: register,
			update: func(ctx context.Context, r *Request, _ Result, _ map[string]any) (Result, error) {
				return register(ctx, r)
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				parts := strings.Split(prev.PhysicalID, "|")
				if len(parts) != 3 {
					return nil
				}
				_, err := c.DeregisterScalableTarget(ctx, &aas.DeregisterScalableTargetInput{
					ResourceId: aws.String(parts[0]), ScalableDimension: aastypes.ScalableDimension(parts[1]), ServiceNamespace: aastypes.ServiceNamespace(parts[2]),
				})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
		"AWS::ApplicationAutoScaling::ScalingPolicy": funcs{
			create: putPolicy,
			update: func(ctx context.Context, r *Request, _ Result, _ map[string]any) (Result, error) {
				return putPolicy(ctx, r)
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				var in aas.DeleteScalingPolicyInput
				if err := convert(r.Properties, &in); err != nil {
					return err
				}
				if tid := str(r.Properties, "ScalingTargetId"); tid != "" {
					if parts := strings.Split(tid, "|"); len(parts) == 3 {
						in.ResourceId = aws.String(parts[0])
						in.ScalableDimension = aastypes.ScalableDimension(parts[1])
						in.ServiceNamespace = aastypes.ServiceNamespace(parts[2])
					}
				}
				_, err := c.DeleteScalingPolicy(ctx, &in)
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
	}
}
