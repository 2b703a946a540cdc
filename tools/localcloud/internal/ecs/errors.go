package ecs

import (
	"fmt"
	"net/http"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// The ECS error codes this emulator answers, as the SDK's types name them.
const (
	CodeClusterNotFound           = "ClusterNotFoundException"
	CodeServiceNotFound           = "ServiceNotFoundException"
	CodeServiceNotActive          = "ServiceNotActiveException"
	CodeInvalidParameter          = "InvalidParameterException"
	CodeClient                    = "ClientException"
	CodeConflict                  = "ConflictException"
	CodeServiceDeploymentNotFound = "ServiceDeploymentNotFoundException"
	CodeClusterContainsServices   = "ClusterContainsServicesException"
	CodeClusterContainsTasks      = "ClusterContainsTasksException"
	CodeResourceNotFound          = "ResourceNotFoundException"
	CodeUnsupportedFeature        = "UnsupportedFeatureException"
	CodeServer                    = "ServerException"
)

func apiErr(code, format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func invalidParam(format string, args ...any) *awsproto.Error {
	return apiErr(CodeInvalidParameter, format, args...)
}

func clusterNotFound() *awsproto.Error { return apiErr(CodeClusterNotFound, "Cluster not found.") }

func serviceNotFound() *awsproto.Error { return apiErr(CodeServiceNotFound, "Service not found.") }

// required answers a missing required member in ECS's words.
func required(field string) *awsproto.Error {
	return awsproto.Validation(CodeInvalidParameter, awsproto.Required(field))
}
