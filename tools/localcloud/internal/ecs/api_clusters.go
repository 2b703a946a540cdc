package ecs

import (
	"context"
	"encoding/json"
	"regexp"
	"sort"
	"strings"
)

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,255}$`)

// clusterName resolves a cluster name or ARN; empty means "default".
func clusterName(s string) string {
	if s == "" {
		return "default"
	}
	if strings.HasPrefix(s, "arn:") {
		if i := strings.Index(s, ":cluster/"); i >= 0 {
			return s[i+len(":cluster/"):]
		}
	}
	return s
}

// cluster finds an ACTIVE cluster.
func (b *Backend) cluster(nameOrARN string) (*clusterRec, error) {
	c, ok := b.st.Clusters[clusterName(nameOrARN)]
	if !ok || c.Status != "ACTIVE" {
		return nil, clusterNotFound()
	}
	return c, nil
}

func (b *Backend) clusterView(c *clusterRec) Cluster {
	out := c.Cluster
	out.RunningTasksCount, out.PendingTasksCount, out.ActiveServicesCount = 0, 0, 0
	for _, t := range b.st.Tasks {
		if t.Cluster != c.ClusterName {
			continue
		}
		switch t.LastStatus {
		case "RUNNING":
			out.RunningTasksCount++
		case "PROVISIONING", "PENDING":
			out.PendingTasksCount++
		}
	}
	for _, s := range b.st.Services {
		if s.Cluster == c.ClusterName && s.Status == "ACTIVE" {
			out.ActiveServicesCount++
		}
	}
	if out.CapacityProviders == nil {
		out.CapacityProviders = []string{}
	}
	out.Tags = b.st.Tags[c.ClusterArn]
	return out
}

type createClusterIn struct {
	ClusterName       string          `json:"clusterName"`
	Tags              []Tag           `json:"tags"`
	Settings          json.RawMessage `json:"settings"`
	Configuration     json.RawMessage `json:"configuration"`
	CapacityProviders []string        `json:"capacityProviders"`
}

func (b *Backend) apiCreateCluster(_ context.Context, in *createClusterIn) (any, error) {
	name := in.ClusterName
	if name == "" {
		name = "default"
	}
	if !namePattern.MatchString(name) {
		return nil, invalidParam("Cluster name can contain only letters, numbers, underscores and hyphens, and be at most 255 characters long.")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	c, ok := b.st.Clusters[name]
	if !ok || c.Status != "ACTIVE" {
		// Creating an existing cluster returns it, as ECS does.
		c = &clusterRec{Cluster: Cluster{
			ClusterArn: b.arn("cluster/" + name), ClusterName: name, Status: "ACTIVE",
			Settings: in.Settings, Configuration: in.Configuration, CapacityProviders: in.CapacityProviders,
		}}
		if c.Settings == nil {
			c.Settings = json.RawMessage(`[{"name":"containerInsights","value":"disabled"}]`)
		}
		b.st.Clusters[name] = c
		if len(in.Tags) > 0 {
			b.st.Tags[c.ClusterArn] = in.Tags
		}
		b.dirty = true
		b.log.Info("cluster created", "cluster", name)
	}
	return map[string]any{"cluster": b.clusterView(c)}, nil
}

type failure struct {
	Arn    string `json:"arn"`
	Reason string `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

type describeClustersIn struct {
	Clusters []string `json:"clusters"`
	Include  []string `json:"include"`
}

func (b *Backend) apiDescribeClusters(_ context.Context, in *describeClustersIn) (any, error) {
	names := in.Clusters
	if len(names) == 0 {
		names = []string{"default"}
	}
	if len(names) > 100 {
		return nil, invalidParam("The clusters parameter can contain at most 100 clusters.")
	}
	out := []Cluster{}
	fails := []failure{}
	for _, n := range names {
		c, ok := b.st.Clusters[clusterName(n)]
		if !ok {
			arn := n
			if !strings.HasPrefix(n, "arn:") {
				arn = b.arn("cluster/" + n)
			}
			fails = append(fails, failure{Arn: arn, Reason: "MISSING"})
			continue
		}
		out = append(out, b.clusterView(c))
	}
	return map[string]any{"clusters": out, "failures": fails}, nil
}

type clusterIn struct {
	Cluster *string `json:"cluster"`
}

func (b *Backend) apiDeleteCluster(_ context.Context, in *clusterIn) (any, error) {
	if in.Cluster == nil {
		return nil, required("cluster")
	}
	c, err := b.cluster(*in.Cluster)
	if err != nil {
		return nil, err
	}
	for _, s := range b.st.Services {
		if s.Cluster == c.ClusterName && s.Status != "INACTIVE" {
			return nil, apiErr(CodeClusterContainsServices, "The Cluster cannot be deleted while Services are active.")
		}
	}
	for _, t := range b.st.Tasks {
		if t.Cluster == c.ClusterName && t.running() {
			return nil, apiErr(CodeClusterContainsTasks, "The Cluster cannot be deleted while Tasks are active.")
		}
	}
	c.Status = "INACTIVE"
	b.dirty = true
	b.log.Info("cluster deleted", "cluster", c.ClusterName)
	return map[string]any{"cluster": b.clusterView(c)}, nil
}

type listIn struct {
	MaxResults *int32 `json:"maxResults"`
	NextToken  string `json:"nextToken"`
}

func (b *Backend) apiListClusters(_ context.Context, in *listIn) (any, error) {
	var arns []string
	for _, c := range b.st.Clusters {
		if c.Status == "ACTIVE" {
			arns = append(arns, c.ClusterArn)
		}
	}
	sort.Strings(arns)
	page, next, err := paginate(arns, in.MaxResults, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	return map[string]any{"clusterArns": page, "nextToken": next}, nil
}
