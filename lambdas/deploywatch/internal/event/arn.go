package event

import (
	"fmt"
	"strings"
)

// ServiceRef names an ECS service: what deploywatch compares with its own
// configuration before acting on any event.
type ServiceRef struct {
	Region, Account string
	// Cluster is empty for a service ARN in the old format, which has no
	// cluster segment.
	Cluster, Service string
}

func (s ServiceRef) String() string { return s.Cluster + "/" + s.Service }

// ecsResource splits an ECS ARN into region, account and the resource part.
func ecsResource(arn string) (region, account, resource string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "ecs" || parts[5] == "" {
		return "", "", "", fmt.Errorf("%q is not an ECS ARN", arn)
	}
	return parts[3], parts[4], parts[5], nil
}

// ParseServiceArn reads arn:aws:ecs:<region>:<account>:service/<cluster>/<service>
// (or the old service/<service>).
func ParseServiceArn(arn string) (ServiceRef, error) {
	region, account, res, err := ecsResource(arn)
	if err != nil {
		return ServiceRef{}, err
	}
	seg := strings.Split(res, "/")
	if seg[0] != "service" || len(seg) < 2 || len(seg) > 3 {
		return ServiceRef{}, fmt.Errorf("%q is not an ECS service ARN", arn)
	}
	ref := ServiceRef{Region: region, Account: account}
	if len(seg) == 3 {
		ref.Cluster, ref.Service = seg[1], seg[2]
	} else {
		ref.Service = seg[1]
	}
	if ref.Service == "" || (len(seg) == 3 && ref.Cluster == "") {
		return ServiceRef{}, fmt.Errorf("%q has an empty cluster or service name", arn)
	}
	return ref, nil
}

// ParseServiceDeploymentArn reads
// arn:aws:ecs:<region>:<account>:service-deployment/<cluster>/<service>/<id>.
func ParseServiceDeploymentArn(arn string) (ServiceRef, string, error) {
	region, account, res, err := ecsResource(arn)
	if err != nil {
		return ServiceRef{}, "", err
	}
	seg := strings.Split(res, "/")
	if len(seg) != 4 || seg[0] != "service-deployment" || seg[1] == "" || seg[2] == "" || seg[3] == "" {
		return ServiceRef{}, "", fmt.Errorf("%q is not an ECS service deployment ARN", arn)
	}
	return ServiceRef{Region: region, Account: account, Cluster: seg[1], Service: seg[2]}, seg[3], nil
}

// ClusterName is the name in arn:aws:ecs:<region>:<account>:cluster/<name>.
func ClusterName(arn string) (string, error) {
	_, _, res, err := ecsResource(arn)
	if err != nil {
		return "", err
	}
	name, ok := strings.CutPrefix(res, "cluster/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", fmt.Errorf("%q is not an ECS cluster ARN", arn)
	}
	return name, nil
}
