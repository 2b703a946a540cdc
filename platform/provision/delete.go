package provision

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
)

// deleter is the part of the CloudFormation client Delete uses beyond
// DescribeStacks.
type deleter interface {
	DeleteStack(ctx context.Context, in *cloudformation.DeleteStackInput, optFns ...func(*cloudformation.Options)) (*cloudformation.DeleteStackOutput, error)
}

// Delete deletes a stack and waits until it is gone, handing each new stack
// event to progress. It reports whether the stack existed. A stack that
// ends DELETE_FAILED is an error naming the resources CloudFormation could
// not delete and why.
//
// After the delete the stack is looked up by its id: by name, a deleted
// stack "does not exist", and its events could no longer be read.
func (p *Provisioner) Delete(ctx context.Context, name string, progress func(Event)) (bool, error) {
	d, ok := p.CF.(deleter)
	if !ok {
		return false, fmt.Errorf("delete stack %s: the CloudFormation client cannot delete stacks", name)
	}
	st, err := p.status(ctx, name)
	if err != nil {
		return false, err
	}
	if st.StackStatus == "" || st.StackStatus == types.StackStatusDeleteComplete {
		return false, nil
	}
	// A stack in REVIEW_IN_PROGRESS (a first change set never executed) waits
	// for nothing, so it is deleted like any settled stack.
	if s := string(st.StackStatus); strings.HasSuffix(s, "_IN_PROGRESS") &&
		st.StackStatus != types.StackStatusDeleteInProgress && st.StackStatus != types.StackStatusReviewInProgress {
		return true, fmt.Errorf("delete stack %s: it is %s; wait for that to finish, then run ship destroy again", name, s)
	}
	id := aws.ToString(st.StackId)
	if id == "" {
		id = name
	}
	since := p.now().Add(-time.Second)
	if _, err := d.DeleteStack(ctx, &cloudformation.DeleteStackInput{StackName: aws.String(id)}); err != nil {
		return true, fmt.Errorf("delete stack %s: %w", name, err)
	}
	err = p.wait(ctx, name, id, since, progress, "ship destroy", func(s types.StackStatus) end {
		switch s {
		case "", types.StackStatusDeleteComplete:
			return succeeded
		case types.StackStatusDeleteFailed:
			return failed
		}
		return waiting
	})
	return true, err
}
