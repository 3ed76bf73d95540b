package truv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/httpapi"
)

// Bridge tokens. Roster issues them so that a Truv client's next call after
// creating a user (POST /v1/users/{id}/tokens/, in every Truv quickstart)
// succeeds, but Roster does not run Truv Bridge: nothing in Roster accepts
// the token. It is an opaque random value, stored only as its hash with its
// expiry, bound to the user (docs/truv.md).
const (
	bridgeTokenKind = "truv_bridge"
	// bridgeTokenTTL is Truv's: "bridge_token valid 6 h" (errors page,
	// 410 expired_token).
	bridgeTokenTTL = 6 * time.Hour
)

// maxListItems bounds allowed_products and data_sources.
const maxListItems = 100

// productTypes are the values Truv documents for product_type and
// allowed_products.
var productTypes = []string{"income", "employment", "deposit_switch", "pll", "insurance", "transactions", "assets"}

// bridgeRequest is a validated "Create a bridge token" body. Optional
// values absent, null or "" are nil.
type bridgeRequest struct {
	productType      string
	trackingInfo     *string
	allowedProducts  []string
	companyMappingID *string
	providerID       *string
	accessToken      *string
	templateID       *string
	useCase          *string
	dataSources      []string
}

// bridgeTokenJSON is Truv's bridge token object, in the key order of
// Truv's example, then the attributes its newer object page adds, then the
// user's id.
type bridgeTokenJSON struct {
	BridgeToken      string   `json:"bridge_token"`
	TrackingInfo     *string  `json:"tracking_info"`
	ClientName       string   `json:"client_name"`
	ProductType      string   `json:"product_type"`
	AllowedProducts  []string `json:"allowed_products"`
	CompanyMappingID *string  `json:"company_mapping_id"`
	ProviderID       *string  `json:"provider_id"`
	AccessToken      *string  `json:"access_token"`
	TemplateID       *string  `json:"template_id"`
	UseCase          *string  `json:"use_case"`
	DataSources      []string `json:"data_sources"`
	UserID           string   `json:"user_id"`
}

// createBridgeToken implements Truv's "Create a bridge token":
//
//	POST /v1/users/{user_id}/tokens/
//	Body: product_type (required; income, employment, deposit_switch, pll,
//	insurance, transactions, assets), tracking_info, allowed_products
//	("If not passed, only type from the product_type field will be
//	allowed"), company_mapping_id, provider_id, access_token, account
//	(bank account info), template_id, use_case, data_sources.
//	Response: {"bridge_token", "tracking_info", "client_name",
//	"product_type", "allowed_products", "company_mapping_id",
//	"access_token", ...}.
//
// As PATCH does, a malformed id is 404 before the body is read; for a
// well-formed id the body is checked first, then the user is looked up.
// The account is checked for shape and not kept: Roster moves no money.
func (h *Handler) createBridgeToken(w http.ResponseWriter, r *http.Request, p directory.Principal) error {
	id := r.PathValue("id")
	if _, ok := directory.ParseID(id); !ok {
		return directory.ErrNotFound
	}
	var raw map[string]json.RawMessage
	if err := decodeBody(w, r, &raw); err != nil {
		return err
	}
	req, err := parseBridgeBody(raw)
	if err != nil {
		return err
	}
	tok, _, u, err := h.svc.IssueUserToken(r.Context(), p, bridgeTokenKind, id, bridgeTokenTTL)
	if err != nil {
		return err
	}
	allowed := req.allowedProducts
	if len(allowed) == 0 {
		allowed = []string{req.productType}
	}
	w.Header().Set("Cache-Control", "no-store")
	return httpapi.WriteJSON(w, http.StatusOK, bridgeTokenJSON{
		BridgeToken:      tok,
		TrackingInfo:     req.trackingInfo,
		ClientName:       p.TenantName,
		ProductType:      req.productType,
		AllowedProducts:  allowed,
		CompanyMappingID: req.companyMappingID,
		ProviderID:       req.providerID,
		AccessToken:      req.accessToken,
		TemplateID:       req.templateID,
		UseCase:          req.useCase,
		DataSources:      req.dataSources,
		UserID:           directory.HexID(u.ID),
	})
}

// paramErrors is a 400 incorrect_parameters listing several fields.
type paramErrors []paramJSON

func (e paramErrors) Error() string { return fmt.Sprintf("%d invalid parameters", len(e)) }

// parseBridgeBody checks a bridge token body field by field, as DRF's
// serializer would, and reports every problem at once in Truv's field
// order. Unknown keys (client_name, which Truv's older docs listed and its
// Go quickstart still sends, among them) are ignored.
func parseBridgeBody(raw map[string]json.RawMessage) (bridgeRequest, error) {
	var req bridgeRequest
	var errs paramErrors
	fail := func(field, msg string) { errs = append(errs, paramJSON{field, msg}) }

	switch v, ok := raw["product_type"]; {
	case !ok:
		fail("product_type", "This field is required.")
	case string(v) == "null":
		fail("product_type", "This field may not be null.")
	default:
		s, err := drfText(v)
		if err != nil || !slices.Contains(productTypes, s) {
			fail("product_type", invalidChoice(v, s, err))
		}
		req.productType = s
	}
	optional := func(name string, dst **string) {
		v, ok := raw[name]
		if !ok || string(v) == "null" {
			return
		}
		s, err := drfText(v)
		switch {
		case err != nil:
			fail(name, "Not a valid string.")
		case !plainText(s) || len(s) > 1024:
			fail(name, "Ensure this field is a plain text of at most 1024 characters.")
		case strings.TrimSpace(s) != "":
			s = strings.TrimSpace(s)
			*dst = &s
		}
	}
	list := func(name string, choices []string) []string {
		v, ok := raw[name]
		if !ok || string(v) == "null" {
			return nil
		}
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err != nil {
			fail(name, fmt.Sprintf("Expected a list of items but got type %q.", pythonType(jsonKindOf(v))))
			return nil
		}
		out := make([]string, 0, len(items))
		for _, it := range items {
			s, err := drfText(it)
			switch {
			case err != nil && choices == nil:
				fail(name, "Not a valid string.")
			case choices != nil && (err != nil || !slices.Contains(choices, s)):
				fail(name, invalidChoice(it, s, err))
			case !plainText(s) || len(s) > 1024:
				fail(name, "Ensure this field is a plain text of at most 1024 characters.")
			default:
				out = append(out, s)
			}
		}
		if len(items) > maxListItems {
			fail(name, fmt.Sprintf("Ensure this field has no more than %d elements.", maxListItems))
		}
		return out
	}
	optional("tracking_info", &req.trackingInfo)
	req.allowedProducts = list("allowed_products", productTypes)
	optional("company_mapping_id", &req.companyMappingID)
	optional("provider_id", &req.providerID)
	optional("access_token", &req.accessToken)
	checkAccount(raw["account"], fail)
	optional("template_id", &req.templateID)
	optional("use_case", &req.useCase)
	req.dataSources = list("data_sources", nil)
	if len(errs) > 0 {
		return req, errs
	}
	return req, nil
}

// accountFields are the members of Truv's bank account object (account
// number and type, routing number, bank name, and for pll the deposit type
// and value).
var accountFields = []string{"account_number", "account_type", "routing_number", "bank_name", "deposit_type", "deposit_value"}

// checkAccount checks the shape of an account object: an object whose
// documented members are strings. Roster keeps none of it.
func checkAccount(v json.RawMessage, fail func(field, msg string)) {
	if v == nil || string(v) == "null" {
		return
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(v, &m); err != nil {
		fail("account", fmt.Sprintf("Invalid data. Expected a dictionary, but got %s.", pythonType(jsonKindOf(v))))
		return
	}
	for _, f := range accountFields {
		if fv, ok := m[f]; ok && string(fv) != "null" {
			if _, err := drfText(fv); err != nil {
				fail("account."+f, "Not a valid string.")
			}
		}
	}
}

// invalidChoice words a ChoiceField error as DRF does: "\"x\" is not a
// valid choice."
func invalidChoice(raw json.RawMessage, s string, err error) string {
	if err != nil {
		s = string(raw)
		if len(s) > 64 {
			s = s[:64] + "…"
		}
	}
	return fmt.Sprintf("%q is not a valid choice.", s)
}

// jsonKindOf names the kind of a JSON value as encoding/json's errors do.
func jsonKindOf(v json.RawMessage) string {
	s := strings.TrimSpace(string(v))
	if s == "" {
		return "null"
	}
	switch s[0] {
	case '"':
		return "string"
	case '{':
		return "object"
	case '[':
		return "array"
	case 't', 'f':
		return "bool"
	case 'n':
		return "null"
	}
	return "number"
}
