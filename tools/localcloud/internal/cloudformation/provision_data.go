package cloudformation

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamodbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

func jsonText(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

func s3Provisioners(c *s3.Client) map[string]Provisioner {
	const svc = "S3"
	configure := func(ctx context.Context, r *Request, name string) error {
		b := aws.String(name)
		if v, ok := r.Properties["BucketEncryption"]; ok {
			enc, err := bucketEncryption(v)
			if err != nil {
				return err
			}
			if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: enc}); err != nil {
				return handlerError(r.Type, svc, err)
			}
		}
		if v, ok := r.Properties["VersioningConfiguration"]; ok {
			var vc s3types.VersioningConfiguration
			if err := convert(v, &vc); err != nil {
				return err
			}
			if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b, VersioningConfiguration: &vc}); err != nil {
				return handlerError(r.Type, svc, err)
			}
		}
		if v, ok := r.Properties["PublicAccessBlockConfiguration"]; ok {
			var pab s3types.PublicAccessBlockConfiguration
			if err := convert(v, &pab); err != nil {
				return err
			}
			if _, err := c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &pab}); err != nil {
				return handlerError(r.Type, svc, err)
			}
		}
		if v, ok := r.Properties["OwnershipControls"]; ok {
			var oc s3types.OwnershipControls
			if err := convert(v, &oc); err != nil {
				return err
			}
			if _, err := c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: b, OwnershipControls: &oc}); err != nil {
				return handlerError(r.Type, svc, err)
			}
		}
		if v, ok := r.Properties["LifecycleConfiguration"]; ok {
			lc, err := bucketLifecycle(v)
			if err != nil {
				return err
			}
			if _, err := c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b, LifecycleConfiguration: lc}); err != nil {
				return handlerError(r.Type, svc, err)
			}
		}
		return nil
	}
	result := func(r *Request, name string) Result {
		return Result{PhysicalID: name, Attributes: map[string]any{
			"Arn":                 "arn:aws:s3:::" + name,
			"DomainName":          name + ".s3.amazonaws.com",
			"RegionalDomainName":  name + ".s3." + r.Region + ".amazonaws.com",
			"DualStackDomainName": name + ".s3.dualstack." + r.Region + ".amazonaws.com",
			"WebsiteURL":          "http://" + name + ".s3-website-" + r.Region + ".amazonaws.com",
		}}
	}
	inPlace := map[string]bool{"BucketEncryption": true, "VersioningConfiguration": true, "PublicAccessBlockConfiguration": true, "Tags": true,
		"OwnershipControls": true, "LifecycleConfiguration": true}
	return map[string]Provisioner{
		"AWS::S3::Bucket": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				name := str(r.Properties, "BucketName")
				if name == "" {
					name = physicalName(r.StackName, r.LogicalID, 63, true)
				}
				if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				return result(r, name), configure(ctx, r, name)
			},
			update: func(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error) {
				for _, k := range changedKeys(old, r.Properties) {
					if !inPlace[k] {
						return Result{}, fmt.Errorf("localcloud cannot change %s of a bucket in place yet", k)
					}
				}
				return prev, configure(ctx, r, prev.PhysicalID)
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(prev.PhysicalID)})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
		"AWS::S3::BucketPolicy": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				doc, err := jsonText(r.Properties["PolicyDocument"])
				if err != nil {
					return Result{}, err
				}
				bucket := str(r.Properties, "Bucket")
				if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc)}); err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				return Result{PhysicalID: bucket, Attributes: map[string]any{}}, nil
			},
			update: func(ctx context.Context, r *Request, prev Result, _ map[string]any) (Result, error) {
				doc, err := jsonText(r.Properties["PolicyDocument"])
				if err != nil {
					return Result{}, err
				}
				if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(prev.PhysicalID), Policy: aws.String(doc)}); err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				return prev, nil
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(prev.PhysicalID)})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
	}
}

// bucketEncryption maps the template's BucketEncryption
// (ServerSideEncryptionConfiguration: [{ServerSideEncryptionByDefault}]) to
// the API's rules (ApplyServerSideEncryptionByDefault).
func bucketEncryption(v any) (*s3types.ServerSideEncryptionConfiguration, error) {
	var in struct {
		ServerSideEncryptionConfiguration []struct {
			ServerSideEncryptionByDefault *s3types.ServerSideEncryptionByDefault
			BucketKeyEnabled              *bool
		}
	}
	if err := convert(v, &in); err != nil {
		return nil, err
	}
	out := &s3types.ServerSideEncryptionConfiguration{}
	for _, r := range in.ServerSideEncryptionConfiguration {
		out.Rules = append(out.Rules, s3types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: r.ServerSideEncryptionByDefault, BucketKeyEnabled: r.BucketKeyEnabled})
	}
	return out, nil
}

// bucketLifecycle maps the template's LifecycleConfiguration to the API's:
// ExpirationInDays and Prefix move into Expiration and Filter.
func bucketLifecycle(v any) (*s3types.BucketLifecycleConfiguration, error) {
	var in struct {
		Rules []map[string]any
	}
	if err := convert(v, &in); err != nil {
		return nil, err
	}
	out := &s3types.BucketLifecycleConfiguration{}
	for _, raw := range in.Rules {
		var rule s3types.LifecycleRule
		if err := convert(raw, &rule); err != nil {
			return nil, err
		}
		if d, ok := raw["ExpirationInDays"]; ok {
			var e s3types.LifecycleExpiration
			if err := convert(map[string]any{"Days": d}, &e); err != nil {
				return nil, err
			}
			rule.Expiration = &e
		}
		if rule.Filter == nil {
			rule.Filter = &s3types.LifecycleRuleFilter{Prefix: aws.String(str(raw, "Prefix"))}
		}
		out.Rules = append(out.Rules, rule)
	}
	return out, nil
}

func dynamodbProvisioners(c *dynamodb.Client) map[string]Provisioner {
	const svc = "DynamoDb"
	// backups applies point-in-time recovery and TTL, which are calls of
	// their own after CreateTable.
	backups := func(ctx context.Context, r *Request, name string, old map[string]any) error {
		if v, ok := r.Properties["PointInTimeRecoverySpecification"]; ok || old["PointInTimeRecoverySpecification"] != nil {
			var spec dynamodbtypes.PointInTimeRecoverySpecification
			if err := convert(v, &spec); err != nil {
				return err
			}
			if spec.PointInTimeRecoveryEnabled == nil {
				spec.PointInTimeRecoveryEnabled = aws.Bool(false)
			}
			if _, err := c.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(name), PointInTimeRecoverySpecification: &spec}); err != nil {
				return handlerError(r.Type, svc, err)
			}
		}
		if v, ok := r.Properties["TimeToLiveSpecification"]; ok {
			var spec dynamodbtypes.TimeToLiveSpecification
			if err := convert(v, &spec); err != nil {
				return err
			}
			if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(name), TimeToLiveSpecification: &spec}); err != nil {
				return handlerError(r.Type, svc, err)
			}
		}
		return nil
	}
	return map[string]Provisioner{
		"AWS::DynamoDB::Table": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				var in dynamodb.CreateTableInput
				p := map[string]any{}
				for k, v := range r.Properties {
					switch k {
					case "PointInTimeRecoverySpecification", "TimeToLiveSpecification":
						// Applied after the table exists.
					case "ContributorInsightsSpecification", "KinesisStreamSpecification", "ImportSourceSpecification":
						// Kept in the stack only.
					default:
						p[k] = v
					}
				}
				if err := convert(p, &in); err != nil {
					return Result{}, err
				}
				name := str(r.Properties, "TableName")
				if name == "" {
					name = physicalName(r.StackName, r.LogicalID, 255, false)
				}
				in.TableName = aws.String(name)
				out, err := c.CreateTable(ctx, &in)
				if err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				attrs := map[string]any{"Arn": fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", r.Region, r.Account, name)}
				if out.TableDescription != nil {
					if a := aws.ToString(out.TableDescription.TableArn); a != "" {
						attrs["Arn"] = a
					}
					if s := aws.ToString(out.TableDescription.LatestStreamArn); s != "" {
						attrs["StreamArn"] = s
					}
				}
				res := Result{PhysicalID: name, Attributes: attrs}
				return res, backups(ctx, r, name, nil)
			},
			update: func(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error) {
				table := false
				for _, k := range changedKeys(old, r.Properties) {
					switch k {
					case "PointInTimeRecoverySpecification", "TimeToLiveSpecification", "ContributorInsightsSpecification", "Tags":
					case "BillingMode", "ProvisionedThroughput", "StreamSpecification", "SSESpecification", "DeletionProtectionEnabled", "TableClass":
						table = true
					default:
						return Result{}, msgf("localcloud cannot change %s of a table in place yet", k)
					}
				}
				if table {
					var in dynamodb.UpdateTableInput
					p := map[string]any{}
					for _, k := range []string{"BillingMode", "ProvisionedThroughput", "StreamSpecification", "SSESpecification", "DeletionProtectionEnabled", "TableClass"} {
						if v, ok := r.Properties[k]; ok {
							p[k] = v
						}
					}
					if err := convert(p, &in); err != nil {
						return Result{}, err
					}
					in.TableName = aws.String(prev.PhysicalID)
					if _, err := c.UpdateTable(ctx, &in); err != nil {
						return Result{}, handlerError(r.Type, svc, err)
					}
				}
				return prev, backups(ctx, r, prev.PhysicalID, old)
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(prev.PhysicalID)})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
	}
}

// sqsAttributes turns Queue properties into CreateQueue/SetQueueAttributes
// attributes (all strings; RedrivePolicy and friends as JSON).
func sqsAttributes(props map[string]any) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range props {
		switch k {
		case "QueueName", "Tags":
			continue
		case "RedrivePolicy", "RedriveAllowPolicy":
			s, err := jsonText(v)
			if err != nil {
				return nil, err
			}
			out[k] = s
		default:
			out[k] = scalarString(v)
		}
	}
	return out, nil
}

func sqsProvisioners(c *sqs.Client) map[string]Provisioner {
	const svc = "Sqs"
	return map[string]Provisioner{
		"AWS::SQS::Queue": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				name := str(r.Properties, "QueueName")
				if name == "" {
					name = physicalName(r.StackName, r.LogicalID, 80, false)
					if truthy(r.Properties["FifoQueue"]) {
						name = physicalName(r.StackName, r.LogicalID, 75, false) + ".fifo"
					}
				}
				attrs, err := sqsAttributes(r.Properties)
				if err != nil {
					return Result{}, err
				}
				out, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
				if err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				url := aws.ToString(out.QueueUrl)
				return Result{PhysicalID: url, Attributes: map[string]any{
					"Arn":       fmt.Sprintf("arn:aws:sqs:%s:%s:%s", r.Region, r.Account, name),
					"QueueName": name,
					"QueueUrl":  url,
				}}, nil
			},
			update: func(ctx context.Context, r *Request, prev Result, _ map[string]any) (Result, error) {
				attrs, err := sqsAttributes(r.Properties)
				if err != nil {
					return Result{}, err
				}
				delete(attrs, "FifoQueue")
				if len(attrs) > 0 {
					if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(prev.PhysicalID), Attributes: attrs}); err != nil {
						return Result{}, handlerError(r.Type, svc, err)
					}
				}
				return prev, nil
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(prev.PhysicalID)})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
		"AWS::SQS::QueuePolicy": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				if err := setQueuePolicies(ctx, c, r, r.Properties); err != nil {
					return Result{}, err
				}
				id := physicalName(r.StackName, r.LogicalID, 128, false)
				return Result{PhysicalID: id, Attributes: map[string]any{"Id": id}}, nil
			},
			update: func(ctx context.Context, r *Request, prev Result, _ map[string]any) (Result, error) {
				return prev, setQueuePolicies(ctx, c, r, r.Properties)
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				for _, q := range listOf(r.Properties["Queues"]) {
					_, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(q), Attributes: map[string]string{"Policy": ""}})
					if err != nil && !isNotFound(err) {
						return handlerError(r.Type, svc, err)
					}
				}
				return nil
			},
		},
	}
}

func setQueuePolicies(ctx context.Context, c *sqs.Client, r *Request, props map[string]any) error {
	doc, err := jsonText(props["PolicyDocument"])
	if err != nil {
		return err
	}
	for _, q := range listOf(props["Queues"]) {
		if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(q), Attributes: map[string]string{"Policy": doc}}); err != nil {
			return handlerError(r.Type, "Sqs", err)
		}
	}
	return nil
}

func listOf(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, e := range l {
		out = append(out, scalarString(e))
	}
	return out
}

func snsProvisioners(c *sns.Client) map[string]Provisioner {
	const svc = "Sns"
	subAttrs := []string{"RawMessageDelivery", "FilterPolicy", "FilterPolicyScope", "RedrivePolicy", "DeliveryPolicy", "SubscriptionRoleArn"}
	subAttr := func(v any) (string, error) {
		if _, ok := v.(map[string]any); ok {
			return jsonText(v)
		}
		return scalarString(v), nil
	}
	setPolicies := func(ctx context.Context, r *Request, doc string) error {
		for _, arn := range listOf(r.Properties["Topics"]) {
			if _, err := c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(arn), AttributeName: aws.String("Policy"), AttributeValue: aws.String(doc)}); err != nil && !isNotFound(err) {
				return handlerError(r.Type, svc, err)
			}
		}
		return nil
	}
	return map[string]Provisioner{
		"AWS::SNS::Subscription": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				attrs := map[string]string{}
				for _, k := range subAttrs {
					if v, ok := r.Properties[k]; ok {
						s, err := subAttr(v)
						if err != nil {
							return Result{}, err
						}
						attrs[k] = s
					}
				}
				out, err := c.Subscribe(ctx, &sns.SubscribeInput{
					TopicArn: aws.String(str(r.Properties, "TopicArn")), Protocol: aws.String(str(r.Properties, "Protocol")),
					Endpoint: optString(r.Properties, "Endpoint"), Attributes: attrs, ReturnSubscriptionArn: true,
				})
				if err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				arn := aws.ToString(out.SubscriptionArn)
				return Result{PhysicalID: arn, Attributes: map[string]any{"Arn": arn}}, nil
			},
			update: func(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error) {
				for _, k := range changedKeys(old, r.Properties) {
					if !slices.Contains(subAttrs, k) {
						return Result{}, msgf("localcloud cannot change %s of a subscription in place yet", k)
					}
					v, err := subAttr(r.Properties[k])
					if err != nil {
						return Result{}, err
					}
					if _, err := c.SetSubscriptionAttributes(ctx, &sns.SetSubscriptionAttributesInput{SubscriptionArn: aws.String(prev.PhysicalID), AttributeName: aws.String(k), AttributeValue: aws.String(v)}); err != nil {
						return Result{}, handlerError(r.Type, svc, err)
					}
				}
				return prev, nil
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.Unsubscribe(ctx, &sns.UnsubscribeInput{SubscriptionArn: aws.String(prev.PhysicalID)})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
		"AWS::SNS::TopicPolicy": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				doc, err := jsonText(r.Properties["PolicyDocument"])
				if err != nil {
					return Result{}, err
				}
				if err := setPolicies(ctx, r, doc); err != nil {
					return Result{}, err
				}
				id := physicalName(r.StackName, r.LogicalID, 128, false)
				return Result{PhysicalID: id, Attributes: map[string]any{"Id": id}}, nil
			},
			update: func(ctx context.Context, r *Request, prev Result, _ map[string]any) (Result, error) {
				doc, err := jsonText(r.Properties["PolicyDocument"])
				if err != nil {
					return Result{}, err
				}
				return prev, setPolicies(ctx, r, doc)
			},
			// Deleting the policy leaves the topic with an empty one, as
			// localcloud's SNS takes it.
			delete: func(ctx context.Context, r *Request, _ Result) error {
				return setPolicies(ctx, r, "")
			},
		},
		"AWS::SNS::Topic": funcs{
			create: func(ctx context.Context, r *Request) (Result, error) {
				name := str(r.Properties, "TopicName")
				if name == "" {
					name = physicalName(r.StackName, r.LogicalID, 256, false)
					if truthy(r.Properties["FifoTopic"]) {
						name = physicalName(r.StackName, r.LogicalID, 251, false) + ".fifo"
					}
				}
				attrs := map[string]string{}
				for _, k := range []string{"DisplayName", "KmsMasterKeyId", "FifoTopic", "ContentBasedDeduplication"} {
					if _, ok := r.Properties[k]; ok {
						attrs[k] = str(r.Properties, k)
					}
				}
				out, err := c.CreateTopic(ctx, &sns.CreateTopicInput{Name: aws.String(name), Attributes: attrs})
				if err != nil {
					return Result{}, handlerError(r.Type, svc, err)
				}
				arn := aws.ToString(out.TopicArn)
				if subs, ok := r.Properties["Subscription"].([]any); ok {
					for _, s := range subs {
						sm, _ := s.(map[string]any)
						if _, err := c.Subscribe(ctx, &sns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String(str(sm, "Protocol")), Endpoint: aws.String(str(sm, "Endpoint"))}); err != nil {
							return Result{PhysicalID: arn}, handlerError(r.Type, svc, err)
						}
					}
				}
				return Result{PhysicalID: arn, Attributes: map[string]any{"TopicArn": arn, "TopicName": name}}, nil
			},
			update: func(ctx context.Context, r *Request, prev Result, old map[string]any) (Result, error) {
				for _, k := range changedKeys(old, r.Properties) {
					switch k {
					case "DisplayName", "KmsMasterKeyId", "ContentBasedDeduplication":
						if _, err := c.SetTopicAttributes(ctx, &sns.SetTopicAttributesInput{TopicArn: aws.String(prev.PhysicalID), AttributeName: aws.String(k), AttributeValue: aws.String(str(r.Properties, k))}); err != nil {
							return Result{}, handlerError(r.Type, svc, err)
						}
					case "Tags":
					default:
						return Result{}, msgf("localcloud cannot change %s of a topic in place yet", k)
					}
				}
				return prev, nil
			},
			delete: func(ctx context.Context, r *Request, prev Result) error {
				_, err := c.DeleteTopic(ctx, &sns.DeleteTopicInput{TopicArn: aws.String(prev.PhysicalID)})
				if isNotFound(err) {
					return nil
				}
				return handlerError(r.Type, svc, err)
			},
		},
	}
}
