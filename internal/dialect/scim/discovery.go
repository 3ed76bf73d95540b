package scim

import (
	"net/http"
	"strings"
)

// supported is a ServiceProviderConfig capability flag.
type supported struct {
	Supported bool `json:"supported"`
}

type bulkConfig struct {
	Supported      bool `json:"supported"`
	MaxOperations  int  `json:"maxOperations"`
	MaxPayloadSize int  `json:"maxPayloadSize"`
}

type filterConfig struct {
	Supported  bool `json:"supported"`
	MaxResults int  `json:"maxResults"`
}

type authScheme struct {
	Type        string `json:"type"`
	Name        string `json:"name"`
	Description string `json:"description"`
	SpecURI     string `json:"specUri,omitempty"`
	DocURI      string `json:"documentationUri,omitempty"`
	Primary     bool   `json:"primary"`
}

type discoveryMeta struct {
	ResourceType string `json:"resourceType"`
	Location     string `json:"location"`
}

type serviceProviderConfig struct {
	Schemas               []string      `json:"schemas"`
	DocumentationURI      string        `json:"documentationUri,omitempty"`
	Patch                 supported     `json:"patch"`
	Bulk                  bulkConfig    `json:"bulk"`
	Filter                filterConfig  `json:"filter"`
	ChangePassword        supported     `json:"changePassword"`
	Sort                  supported     `json:"sort"`
	Etag                  supported     `json:"etag"`
	AuthenticationSchemes []authScheme  `json:"authenticationSchemes"`
	Meta                  discoveryMeta `json:"meta"`
}

// RFC 7644 §4: "/ServiceProviderConfig: An HTTP GET to this endpoint will
// return a JSON structure that describes the SCIM specification features
// available on a service provider." Every flag here is what the server
// does: PATCH, Bulk (limits enforced with 413), filter (count capped at
// maxResults), sort, ETags (If-Match, If-None-Match); no password change:
// Roster stores no passwords.
func (h *Handler) serviceProviderConfig(w http.ResponseWriter, r *http.Request) error {
	base := h.baseURL(r)
	return writeSCIM(w, http.StatusOK, serviceProviderConfig{
		Schemas:        []string{URNServiceProviderConfig},
		Patch:          supported{true},
		Bulk:           bulkConfig{Supported: true, MaxOperations: MaxBulkOperations, MaxPayloadSize: MaxBulkPayload},
		Filter:         filterConfig{Supported: true, MaxResults: MaxResults},
		ChangePassword: supported{false},
		Sort:           supported{true},
		Etag:           supported{true},
		AuthenticationSchemes: []authScheme{{
			Type:        "oauthbearertoken",
			Name:        "OAuth Bearer Token",
			Description: "Authentication with a Roster credential secret sent as Authorization: Bearer <secret>.",
			SpecURI:     "https://www.rfc-editor.org/info/rfc6750",
			Primary:     true,
		}},
		Meta: discoveryMeta{ResourceType: "ServiceProviderConfig", Location: base + "/ServiceProviderConfig"},
	})
}

type schemaExtension struct {
	Schema   string `json:"schema"`
	Required bool   `json:"required"`
}

type resourceTypeDoc struct {
	Schemas          []string          `json:"schemas"`
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Endpoint         string            `json:"endpoint"`
	Description      string            `json:"description"`
	Schema           string            `json:"schema"`
	SchemaExtensions []schemaExtension `json:"schemaExtensions,omitempty"`
	Meta             discoveryMeta     `json:"meta"`
}

func resourceTypeDocOf(rt *resourceType, base string) resourceTypeDoc {
	d := resourceTypeDoc{
		Schemas:     []string{URNResourceType},
		ID:          rt.Name,
		Name:        rt.Name,
		Endpoint:    rt.Endpoint,
		Description: rt.Core.Description,
		Schema:      rt.Core.ID,
		Meta:        discoveryMeta{ResourceType: "ResourceType", Location: base + "/ResourceTypes/" + rt.Name},
	}
	for _, e := range rt.Extensions {
		d.SchemaExtensions = append(d.SchemaExtensions, schemaExtension{Schema: e.ID})
	}
	return d
}

var resourceTypesList = []*resourceType{userType, groupType}

// RFC 7644 §4: "/ResourceTypes: An HTTP GET to this endpoint is used to
// discover the types of resources available on a SCIM service provider."
func (h *Handler) resourceTypes(w http.ResponseWriter, r *http.Request) error {
	base := h.baseURL(r)
	var res []any
	for _, rt := range resourceTypesList {
		res = append(res, resourceTypeDocOf(rt, base))
	}
	return writeSCIM(w, http.StatusOK, newListResponse(len(res), 1, res))
}

func (h *Handler) resourceType(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	for _, rt := range resourceTypesList {
		if strings.EqualFold(rt.Name, id) {
			return writeSCIM(w, http.StatusOK, resourceTypeDocOf(rt, h.baseURL(r)))
		}
	}
	return notFound("ResourceType", id)
}

type schemaDoc struct {
	Schemas     []string      `json:"schemas"`
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	Description string        `json:"description"`
	Attributes  []*attr       `json:"attributes"`
	Meta        discoveryMeta `json:"meta"`
}

var allSchemas = []*schema{userSchema, enterpriseSchema, rosterUserSchema, groupSchema}

func schemaDocOf(s *schema, base string) schemaDoc {
	return schemaDoc{
		Schemas:     []string{URNSchema},
		ID:          s.ID,
		Name:        s.Name,
		Description: s.Description,
		Attributes:  s.Attributes,
		Meta:        discoveryMeta{ResourceType: "Schema", Location: base + "/Schemas/" + s.ID},
	}
}

// RFC 7644 §4: "/Schemas: An HTTP GET to this endpoint is used to retrieve
// information about resource schemas supported by a SCIM service
// provider."
func (h *Handler) schemas(w http.ResponseWriter, r *http.Request) error {
	base := h.baseURL(r)
	var res []any
	for _, s := range allSchemas {
		res = append(res, schemaDocOf(s, base))
	}
	return writeSCIM(w, http.StatusOK, newListResponse(len(res), 1, res))
}

func (h *Handler) schema(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	for _, s := range allSchemas {
		if strings.EqualFold(s.ID, id) {
			return writeSCIM(w, http.StatusOK, schemaDocOf(s, h.baseURL(r)))
		}
	}
	return notFound("Schema", id)
}
