package events

import (
	"errors"
	"testing"
)

const ecsEvent = `{
  "version": "0", "id": "7f1c2a9e-2b1d-4c55-9a0e-3f2d1c0b9a11",
  "detail-type": "ECS Deployment State Change", "source": "aws.ecs",
  "account": "111122223333", "time": "2026-09-01T10:15:02Z", "region": "eu-west-1",
  "resources": ["arn:aws:ecs:eu-west-1:111122223333:service/prod-cluster/web"],
  "detail": {
    "eventType": "INFO", "eventName": "SERVICE_DEPLOYMENT_IN_PROGRESS",
    "clusterArn": "arn:aws:ecs:eu-west-1:111122223333:cluster/prod-cluster",
    "deploymentId": "ecs-svc/4503962209113548126",
    "reason": "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/8802134481127734015.",
    "count": 5, "ratio": 0.25, "enabled": true, "nothing": null, "empty": "",
    "sourceIp": "10.0.1.17",
    "containers": [{"name": "web", "exitCode": 137}, {"name": "sidecar", "exitCode": 0}],
    "tags": ["blue", "prod"]
  }
}`

func TestPatternMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pattern string
		want    bool
	}{
		{"exact source and detail-type", `{"source":["aws.ecs"],"detail-type":["ECS Deployment State Change"]}`, true},
		{"wrong source", `{"source":["aws.cloudwatch"]}`, false},
		{"any of several values", `{"source":["aws.cloudwatch","aws.ecs"]}`, true},
		{"nested detail field", `{"detail":{"eventName":["SERVICE_DEPLOYMENT_IN_PROGRESS"]}}`, true},
		{"nested detail field mismatch", `{"detail":{"eventName":["SERVICE_DEPLOYMENT_COMPLETED"]}}`, false},
		{"missing field does not match a value", `{"detail":{"nope":["x"]}}`, false},
		{"all fields must match", `{"source":["aws.ecs"],"detail":{"eventType":["ERROR"]}}`, false},
		{"prefix on resources array", `{"resources":[{"prefix":"arn:aws:ecs:eu-west-1:111122223333:service/prod-cluster/"}]}`, true},
		{"prefix mismatch", `{"resources":[{"prefix":"arn:aws:ecs:us-east-1:"}]}`, false},
		{"prefix ignore case", `{"detail":{"eventName":[{"prefix":{"equals-ignore-case":"service_deployment"}}]}}`, true},
		{"suffix", `{"detail":{"deploymentId":[{"suffix":"548126"}]}}`, true},
		{"suffix mismatch", `{"detail":{"deploymentId":[{"suffix":"999"}]}}`, false},
		{"equals-ignore-case", `{"detail":{"eventType":[{"equals-ignore-case":"info"}]}}`, true},
		{"anything-but value", `{"detail":{"eventType":[{"anything-but":"ERROR"}]}}`, true},
		{"anything-but excluded value", `{"detail":{"eventType":[{"anything-but":["INFO","WARN"]}]}}`, false},
		{"anything-but prefix", `{"detail":{"eventName":[{"anything-but":{"prefix":"HOOK_"}}]}}`, true},
		{"anything-but prefix excluded", `{"detail":{"eventName":[{"anything-but":{"prefix":"SERVICE_"}}]}}`, false},
		{"anything-but suffix excluded", `{"detail":{"eventName":[{"anything-but":{"suffix":"_PROGRESS"}}]}}`, false},
		{"anything-but ignore case excluded", `{"detail":{"eventType":[{"anything-but":{"equals-ignore-case":["info"]}}]}}`, false},
		{"anything-but needs the field", `{"detail":{"nope":[{"anything-but":"x"}]}}`, false},
		{"anything-but number", `{"detail":{"count":[{"anything-but":[1,2]}]}}`, true},
		{"exists true", `{"detail":{"deploymentId":[{"exists":true}]}}`, true},
		{"exists true on missing", `{"detail":{"nope":[{"exists":true}]}}`, false},
		{"exists false on missing", `{"detail":{"nope":[{"exists":false}]}}`, true},
		{"exists false on present", `{"detail":{"reason":[{"exists":false}]}}`, false},
		{"exists true on an object is false", `{"detail":[{"exists":true}]}`, false},
		{"numeric range", `{"detail":{"count":[{"numeric":[">",0,"<=",5]}]}}`, true},
		{"numeric range excluded", `{"detail":{"count":[{"numeric":[">",5]}]}}`, false},
		{"numeric equals", `{"detail":{"ratio":[{"numeric":["=",0.25]}]}}`, true},
		{"numeric on a string is false", `{"detail":{"eventType":[{"numeric":[">",0]}]}}`, false},
		{"exact number compares numerically", `{"detail":{"count":[5.0]}}`, true},
		{"number does not match its string", `{"detail":{"count":["5"]}}`, false},
		{"boolean", `{"detail":{"enabled":[true]}}`, true},
		{"boolean mismatch", `{"detail":{"enabled":[false]}}`, false},
		{"null matches null", `{"detail":{"nothing":[null]}}`, true},
		{"null does not match missing", `{"detail":{"nope":[null]}}`, false},
		{"empty string", `{"detail":{"empty":[""]}}`, true},
		{"empty string is not null", `{"detail":{"nothing":[""]}}`, false},
		{"array field matches any element", `{"detail":{"tags":["prod"]}}`, true},
		{"array field no element", `{"detail":{"tags":["dev"]}}`, false},
		{"nested through array of objects", `{"detail":{"containers":{"exitCode":[137]}}}`, true},
		{"nested through array no element", `{"detail":{"containers":{"exitCode":[1]}}}`, false},
		{"cidr", `{"detail":{"sourceIp":[{"cidr":"10.0.0.0/16"}]}}`, true},
		{"cidr mismatch", `{"detail":{"sourceIp":[{"cidr":"10.1.0.0/16"}]}}`, false},
		{"wildcard", `{"resources":[{"wildcard":"arn:aws:ecs:*:service/prod-cluster/*"}]}`, true},
		{"wildcard mismatch", `{"resources":[{"wildcard":"arn:aws:ecs:*:service/dev/*"}]}`, false},
		{"$or one side", `{"source":["aws.ecs"],"$or":[{"detail":{"eventType":["ERROR"]}},{"detail":{"count":[{"numeric":[">=",5]}]}}]}`, true},
		{"$or neither side", `{"$or":[{"detail":{"eventType":["ERROR"]}},{"detail":{"count":[{"numeric":["<",5]}]}}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := CompilePattern(tt.pattern)
			if err != nil {
				t.Fatalf("CompilePattern(%s): %v", tt.pattern, err)
			}
			got, err := p.Match([]byte(ecsEvent))
			if err != nil {
				t.Fatalf("Match: %v", err)
			}
			if got != tt.want {
				t.Errorf("Match(%s) = %v, want %v", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestPatternInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, pattern string }{
		{"not json", `{"source":`},
		{"not an object", `["aws.ecs"]`},
		{"leaf not an array", `{"source":"aws.ecs"}`},
		{"empty array", `{"source":[]}`},
		{"unknown operator", `{"source":[{"startswith":"aws"}]}`},
		{"two operators in one object", `{"source":[{"prefix":"a","suffix":"b"}]}`},
		{"numeric odd arguments", `{"detail":{"n":[{"numeric":[">"]}]}}`},
		{"numeric bad operator", `{"detail":{"n":[{"numeric":["!=",1]}]}}`},
		{"numeric empty range", `{"detail":{"n":[{"numeric":[">",5,"<",1]}]}}`},
		{"exists not boolean", `{"detail":{"n":[{"exists":"yes"}]}}`},
		{"prefix not string", `{"source":[{"prefix":1}]}`},
		{"bad cidr", `{"detail":{"ip":[{"cidr":"10.0.0.0/99"}]}}`},
		{"$or with one branch", `{"$or":[{"source":["a"]}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := CompilePattern(tt.pattern)
			var pe *PatternError
			if !errors.As(err, &pe) {
				t.Errorf("CompilePattern(%s) = %v, want a *PatternError", tt.pattern, err)
			}
		})
	}
}

func TestTargetInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		target Target
		want   string
	}{
		{"whole event", Target{}, `{"a":{"b":"x y","n":[1,2]}}`},
		{"constant input", Target{Input: `{"k":1}`}, `{"k":1}`},
		{"input path object", Target{InputPath: "$.a"}, `{"b":"x y","n":[1,2]}`},
		{"input path index", Target{InputPath: "$.a.n[1]"}, `2`},
		{"input path missing", Target{InputPath: "$.z"}, `null`},
		{"transformer", Target{InputTransformer: &InputTransformer{
			InputPathsMap: map[string]string{"b": "$.a.b", "n": "$.a.n"},
			InputTemplate: `{"said":"<b>","val":<b>,"nums":<n>}`,
		}}, `{"said":"x y","val":"x y","nums":[1,2]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := targetInput(tt.target, []byte(`{"a":{"b":"x y","n":[1,2]}}`))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("targetInput(%+v) = %s, want %s", tt.target, got, tt.want)
			}
		})
	}
}
