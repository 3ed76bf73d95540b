package scim

import "strings"

// Schema and message URNs (RFC 7643 §8.7, RFC 7644 §3.1).
const (
	URNUser           = "urn:ietf:params:scim:schemas:core:2.0:User"
	URNGroup          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	URNEnterpriseUser = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	// URNRosterUser is Roster's own extension for what SCIM has no
	// attribute for: the SSN, aliases, custom attributes and the values
	// other dialects keep (vendor extras).
	URNRosterUser = "urn:ietf:params:scim:schemas:extension:roster:2.0:User"

	URNListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	URNSearch       = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	URNPatchOp      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	URNBulkRequest  = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	URNBulkResponse = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
	URNError        = "urn:ietf:params:scim:api:messages:2.0:Error"

	URNServiceProviderConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	URNResourceType          = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	URNSchema                = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// Attribute characteristics (RFC 7643 §2.2, §7).
const (
	mutReadOnly  = "readOnly"
	mutReadWrite = "readWrite"
	mutImmutable = "immutable"
	mutWriteOnly = "writeOnly"

	retAlways  = "always"
	retNever   = "never"
	retDefault = "default"
	retRequest = "request"
)

// attr describes one attribute of a schema. It is both what /Schemas
// publishes and what PATCH paths, attribute projection and input
// canonicalisation consult, so the published schema cannot drift from what
// the server does.
type attr struct {
	Name            string   `json:"name"`
	Type            string   `json:"type"`
	MultiValued     bool     `json:"multiValued"`
	Description     string   `json:"description"`
	Required        bool     `json:"required"`
	CanonicalValues []string `json:"canonicalValues,omitempty"`
	CaseExact       bool     `json:"caseExact"`
	Mutability      string   `json:"mutability"`
	Returned        string   `json:"returned"`
	Uniqueness      string   `json:"uniqueness"`
	ReferenceTypes  []string `json:"referenceTypes,omitempty"`
	SubAttributes   []*attr  `json:"subAttributes,omitempty"`
}

// sub returns the sub-attribute named name (case-insensitive), or nil.
func (a *attr) sub(name string) *attr { return findAttr(a.SubAttributes, name) }

func findAttr(list []*attr, name string) *attr {
	for _, a := range list {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// schema is one SCIM schema: its URN and attributes.
type schema struct {
	ID          string
	Name        string
	Description string
	Attributes  []*attr
}

// resourceType pairs a core schema with its extensions.
type resourceType struct {
	Name       string // "User", "Group"
	Endpoint   string // "/Users"
	Core       *schema
	Extensions []*schema
}

// ext returns the extension with URN urn (case-insensitive), or nil.
func (rt *resourceType) ext(urn string) *schema {
	for _, s := range rt.Extensions {
		if strings.EqualFold(s.ID, urn) {
			return s
		}
	}
	return nil
}

func str(name, desc string) *attr {
	return &attr{Name: name, Type: "string", Description: desc, Mutability: mutReadWrite, Returned: retDefault, Uniqueness: "none"}
}

func boolean(name, desc string) *attr {
	return &attr{Name: name, Type: "boolean", Description: desc, Mutability: mutReadWrite, Returned: retDefault, Uniqueness: "none"}
}

// refAttr is a reference attribute (RFC 7643 §2.3.7) to resources of the
// given types ("User", "Group", "external", "uri").
func refAttr(name, desc string, types ...string) *attr {
	a := str(name, desc)
	a.Type, a.ReferenceTypes = "reference", types
	return a
}

func complexAttr(name, desc string, multi bool, subs ...*attr) *attr {
	return &attr{Name: name, Type: "complex", MultiValued: multi, Description: desc, Mutability: mutReadWrite,
		Returned: retDefault, Uniqueness: "none", SubAttributes: subs}
}

func readOnly(a *attr) *attr { a.Mutability = mutReadOnly; return a }

func immutableAttr(a *attr) *attr { a.Mutability = mutImmutable; return a }

func requiredAttr(a *attr) *attr { a.Required = true; return a }

func canonical(a *attr, values ...string) *attr { a.CanonicalValues = values; return a }

func caseExact(a *attr) *attr { a.CaseExact = true; return a }

// multiAttr is a multi-valued complex attribute with the sub-attributes
// RFC 7643 §2.4 gives every multi-valued attribute and §8.7.1 declares for
// emails, phoneNumbers, ims, photos, entitlements, roles and
// x509Certificates: value, display, type and primary. Roster keeps every
// value sent with all four; at most one is primary (RFC 7643 §2.4).
func multiAttr(name, desc string, value *attr, types ...string) *attr {
	return complexAttr(name, desc, true,
		value,
		str("display", "A human-readable name, primarily used for display purposes. Stored and returned as sent."),
		canonical(str("type", "A label indicating the value's function."), types...),
		boolean("primary", "Whether this is the primary (preferred) value of the attribute. At most one value is primary."),
	)
}

// userSchema follows RFC 7643 §8.7.1 attribute by attribute; the
// differences are listed in docs/scim-rfc-differences.md and checked by
// TestSchemasMatchRFC7643.
var userSchema = &schema{
	ID:          URNUser,
	Name:        "User",
	Description: "User Account",
	Attributes: []*attr{
		caseExact(str("externalId", "An identifier for the User as defined by the provisioning client (RFC 7643 §3.1).")),
		func() *attr {
			a := requiredAttr(str("userName", "Unique identifier for the User, used by the user to sign in. Unique in the tenant, compared case-insensitively. REQUIRED."))
			a.Uniqueness = "server"
			return a
		}(),
		complexAttr("name", "The components of the user's real name.", false,
			str("formatted", "The full name, formatted for display. Stored as sent; when a client sends none, the server derives it from givenName, middleName and familyName."),
			str("familyName", "The family name of the User."),
			str("givenName", "The given name of the User."),
			str("middleName", "The middle name(s) of the User."),
			str("honorificPrefix", "The honorific prefix(es) of the User."),
			str("honorificSuffix", "The honorific suffix(es) of the User."),
		),
		str("displayName", "The name of the User, suitable for display to end-users."),
		str("nickName", "The casual way to address the user."),
		refAttr("profileUrl", "A URI of the User's online profile.", "external"),
		str("title", "The user's title, such as \"Vice President\"."),
		str("userType", "Used to identify the relationship between the organization and the user."),
		str("preferredLanguage", "The User's preferred written or spoken language."),
		str("locale", "The User's default location for localization, e.g. en-US."),
		str("timezone", "The User's time zone in the Olson database format, e.g. America/Los_Angeles."),
		boolean("active", "The User's administrative status. false deactivates the user, who stays readable."),
		func() *attr {
			a := str("password", "The User's cleartext password. Accepted and discarded: Roster holds no passwords, so it is never stored or returned.")
			a.Mutability, a.Returned = mutWriteOnly, retNever
			return a
		}(),
		multiAttr("emails", "Email addresses for the User. Every value sent is kept, with its type, primary and display.",
			str("value", "An email address of the User."), "work", "home", "other"),
		multiAttr("phoneNumbers", "Phone numbers for the User, kept as sent (not normalised). Every value sent is kept, with its type, primary and display.",
			str("value", "A phone number of the User."), "work", "home", "mobile", "fax", "pager", "other"),
		multiAttr("ims", "Instant messaging addresses for the User. Every value sent is kept.",
			str("value", "An instant messaging address of the User."), "aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
		multiAttr("photos", "URLs of photos of the User. Every value sent is kept.",
			refAttr("value", "The URL of a photo of the User.", "external"), "photo", "thumbnail"),
		complexAttr("addresses", "Physical mailing addresses of the User. Every address sent is kept with every sub-attribute.", true,
			str("formatted", "The full mailing address, formatted for display or a mailing label. May contain newlines."),
			str("streetAddress", "The full street address, which may contain newlines."),
			str("locality", "The city or locality."),
			str("region", "The state or region."),
			str("postalCode", "The zip code or postal code."),
			str("country", "The country name component."),
			canonical(str("type", "A label indicating the address's function."), "work", "home", "other"),
			boolean("primary", "Whether this is the primary (preferred) address. At most one address is primary."),
		),
		readOnly(complexAttr("groups", "The groups the user is a direct member of. Read-only: change membership through /Groups.", true,
			readOnly(str("value", "The id of the group.")),
			readOnly(refAttr("$ref", "The URI of the Group resource.", "Group")),
			readOnly(str("display", "The group's displayName.")),
			readOnly(canonical(str("type", "How the membership was derived: always direct, Roster has no nested groups."), "direct")),
		)),
		multiAttr("entitlements", "A list of entitlements of the User. Every value sent is kept.",
			str("value", "The value of an entitlement.")),
		multiAttr("roles", "A list of roles of the User. Every value sent is kept.",
			str("value", "The value of a role.")),
		multiAttr("x509Certificates", "A list of certificates issued to the User. Every value sent is kept.",
			func() *attr {
				a := caseExact(str("value", "A DER-encoded X.509 certificate, base64-encoded (compared case-exactly, RFC 7643 §2.3.6)."))
				a.Type = "binary"
				return a
			}()),
	},
}

var enterpriseSchema = &schema{
	ID:          URNEnterpriseUser,
	Name:        "EnterpriseUser",
	Description: "Enterprise User",
	Attributes: []*attr{
		str("employeeNumber", "Numeric or alphanumeric identifier assigned to a person."),
		str("costCenter", "Identifies the name of a cost center."),
		str("organization", "Identifies the name of an organization."),
		str("division", "Identifies the name of a division."),
		str("department", "Identifies the name of a department."),
		complexAttr("manager", "The User's manager.", false,
			str("value", "The id of the SCIM resource representing the User's manager."),
			refAttr("$ref", "The URI of the SCIM resource representing the User's manager.", "User"),
			readOnly(str("displayName", "The displayName of the User's manager.")),
		),
	},
}

var rosterUserSchema = &schema{
	ID:          URNRosterUser,
	Name:        "RosterUser",
	Description: "Roster extension: values SCIM has no attribute for.",
	Attributes: []*attr{
		func() *attr {
			a := str("ssn", "US Social Security Number, 9 digits (dashes allowed). Write-only: stored encrypted, never returned.")
			a.Mutability, a.Returned = mutWriteOnly, retNever
			return a
		}(),
		complexAttr("aliases", "Additional login names of the user. They share one namespace with userName: unique in the tenant, compared case-insensitively.", true,
			str("value", "The alias."),
			str("type", "A label for the alias, e.g. CUSTOM."),
		),
		complexAttr("attributes", "Named custom values.", true,
			str("name", "The name of the value."),
			str("value", "The value."),
		),
		complexAttr("extras", "Vendor-specific values kept for other Roster dialects (e.g. Ownli tosAnswer, CL2C walletAddress).", true,
			str("name", "The name of the value."),
			str("value", "The value."),
		),
	},
}

// groupSchema follows RFC 7643 §8.7.1; see userSchema for the differences.
var groupSchema = &schema{
	ID:          URNGroup,
	Name:        "Group",
	Description: "Group",
	Attributes: []*attr{
		func() *attr {
			a := requiredAttr(str("displayName", "A human-readable name for the Group. REQUIRED. Unique in the tenant, compared case-insensitively."))
			a.Uniqueness = "server"
			return a
		}(),
		caseExact(str("externalId", "An identifier for the Group as defined by the provisioning client (RFC 7643 §3.1).")),
		complexAttr("members", "A list of members of the Group: users of the same tenant. Members are added and removed; their sub-attributes are immutable.", true,
			immutableAttr(str("value", "The id of the member User (a UUID, accepted in any case).")),
			immutableAttr(refAttr("$ref", "The URI of the member User resource. Derived from value when not sent.", "User")),
			immutableAttr(str("display", "The member's display name (RFC 7643 §2.4).")),
			immutableAttr(canonical(str("type", "The type of the member: always User, Roster has no nested groups."), "User")),
		),
	},
}

var (
	userType  = &resourceType{Name: "User", Endpoint: "/Users", Core: userSchema, Extensions: []*schema{enterpriseSchema, rosterUserSchema}}
	groupType = &resourceType{Name: "Group", Endpoint: "/Groups", Core: groupSchema}
)

// commonAttrs are the attributes every resource has (RFC 7643 §3.1).
var commonAttrs = []*attr{
	func() *attr {
		a := caseExact(readOnly(str("id", "A unique identifier for a SCIM resource as defined by the service provider.")))
		a.Returned, a.Uniqueness = retAlways, "server"
		return a
	}(),
	readOnly(complexAttr("meta", "Resource metadata.", false,
		readOnly(str("resourceType", "The name of the resource type of the resource.")),
		readOnly(func() *attr { a := str("created", "When the resource was added."); a.Type = "dateTime"; return a }()),
		readOnly(func() *attr {
			a := str("lastModified", "When the resource was last updated.")
			a.Type = "dateTime"
			return a
		}()),
		readOnly(func() *attr { a := str("location", "The URI of the resource."); a.Type = "reference"; return a }()),
		readOnly(str("version", "The version (weak ETag) of the resource.")),
	)),
}

// lookupAttr finds an attribute of a resource type by name: a core
// attribute, a common one (id, meta, schemas is not an attribute), or, with
// urn, one of an extension. It returns nil when there is none.
func lookupAttr(rt *resourceType, urn, name string) *attr {
	if urn == "" || strings.EqualFold(urn, rt.Core.ID) {
		if a := findAttr(rt.Core.Attributes, name); a != nil {
			return a
		}
		return findAttr(commonAttrs, name)
	}
	if s := rt.ext(urn); s != nil {
		return findAttr(s.Attributes, name)
	}
	return nil
}
