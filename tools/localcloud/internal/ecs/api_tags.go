package ecs

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
)

// paginate pages a sorted list with an opaque offset token.
func paginate[T any](all []T, maxResults *int32, token string, limit int32) ([]T, *string, error) {
	n := limit
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > limit {
			return nil, nil, invalidParam("maxResults must be between 1 and %d.", limit)
		}
		n = *maxResults
	}
	start := 0
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return nil, nil, invalidParam("Invalid nextToken.")
		}
		start, err = strconv.Atoi(string(raw))
		if err != nil || start < 0 || start > len(all) {
			return nil, nil, invalidParam("Invalid nextToken.")
		}
	}
	end := min(start+int(n), len(all))
	page := all[start:end]
	if page == nil {
		page = []T{}
	}
	if end < len(all) {
		t := base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
		return page, &t, nil
	}
	return page, nil, nil
}

func validTags(tags []Tag) error {
	if len(tags) > 50 {
		return invalidParam("The number of tags exceeds the limit of 50.")
	}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return invalidParam("Tag keys must be 1 to 128 characters and values at most 256 characters.")
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return invalidParam("Tag keys may not start with the reserved prefix aws:.")
		}
	}
	return nil
}

// resourceExists reports whether an ARN names a taggable ECS resource.
func (b *Backend) resourceExists(arn string) bool {
	for _, c := range b.st.Clusters {
		if c.ClusterArn == arn && c.Status == "ACTIVE" {
			return true
		}
	}
	for _, s := range b.st.Services {
		if s.ServiceArn == arn && s.Status != "INACTIVE" {
			return true
		}
	}
	for _, t := range b.st.Tasks {
		if t.TaskArn == arn {
			return true
		}
	}
	for _, revs := range b.st.TaskDefs {
		for _, td := range revs {
			if td.TaskDefinitionArn == arn {
				return true
			}
		}
	}
	return false
}

type tagResourceIn struct {
	ResourceArn *string  `json:"resourceArn"`
	Tags        []Tag    `json:"tags"`
	TagKeys     []string `json:"tagKeys"`
}

func (b *Backend) taggable(in *tagResourceIn) (string, error) {
	if in.ResourceArn == nil {
		return "", required("resourceArn")
	}
	arn := *in.ResourceArn
	if !strings.HasPrefix(arn, "arn:aws:ecs:") {
		return "", invalidParam("The ARN provided is invalid.")
	}
	if !b.resourceExists(arn) {
		return "", apiErr(CodeResourceNotFound, "The specified resource could not be found.")
	}
	return arn, nil
}

func (b *Backend) apiTagResource(_ context.Context, in *tagResourceIn) (any, error) {
	arn, err := b.taggable(in)
	if err != nil {
		return nil, err
	}
	if in.Tags == nil {
		return nil, required("tags")
	}
	if err := validTags(in.Tags); err != nil {
		return nil, err
	}
	cur := b.st.Tags[arn]
	for _, t := range in.Tags {
		replaced := false
		for i := range cur {
			if cur[i].Key == t.Key {
				cur[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			cur = append(cur, t)
		}
	}
	if err := validTags(cur); err != nil {
		return nil, err
	}
	b.st.Tags[arn] = cur
	b.dirty = true
	return map[string]any{}, nil
}

func (b *Backend) apiUntagResource(_ context.Context, in *tagResourceIn) (any, error) {
	arn, err := b.taggable(in)
	if err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, required("tagKeys")
	}
	var kept []Tag
	for _, t := range b.st.Tags[arn] {
		drop := false
		for _, k := range in.TagKeys {
			drop = drop || k == t.Key
		}
		if !drop {
			kept = append(kept, t)
		}
	}
	b.st.Tags[arn] = kept
	b.dirty = true
	return map[string]any{}, nil
}

func (b *Backend) apiListTagsForResource(_ context.Context, in *tagResourceIn) (any, error) {
	arn, err := b.taggable(in)
	if err != nil {
		return nil, err
	}
	tags := b.st.Tags[arn]
	if tags == nil {
		tags = []Tag{}
	}
	return map[string]any{"tags": tags}, nil
}
