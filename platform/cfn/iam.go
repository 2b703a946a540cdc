package cfn

// OIDCProvider is an IAM OpenID Connect identity provider: AWS trusts the
// tokens its issuer at Url signs for the audiences in ClientIdList. IAM
// verifies the token issuers it knows (GitHub's among them) by their CA, so
// the thumbprints are optional.
type OIDCProvider struct {
	Url            string   `json:"Url"`
	ClientIdList   []string `json:"ClientIdList"`
	ThumbprintList []string `json:"ThumbprintList,omitempty"`
	Tags           []Tag    `json:"Tags,omitempty"`
}

func (OIDCProvider) ResourceType() string { return "AWS::IAM::OIDCProvider" }

// ManagedPolicy is a customer managed IAM policy, attached to Roles.
type ManagedPolicy struct {
	Description    string         `json:"Description,omitempty"`
	PolicyDocument PolicyDocument `json:"PolicyDocument"`
	Roles          []Value        `json:"Roles,omitempty"`
}

func (ManagedPolicy) ResourceType() string { return "AWS::IAM::ManagedPolicy" }
