package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/directory/userrecord"
)

// Event types a subscription may receive.
const (
	UserCreated = "user.created"
	UserUpdated = "user.updated"
	UserDeleted = "user.deleted"
)

// EventTypes lists every event type, in the order help texts show them.
var EventTypes = []string{UserCreated, UserUpdated, UserDeleted}

// EventTypeOf returns the event type of a change's audit action, or ""
// when the action sends no event (groups, tenants, credentials).
func EventTypeOf(action string) string {
	switch action {
	case directory.ActionUserCreate:
		return UserCreated
	case directory.ActionUserUpdate:
		return UserUpdated
	case directory.ActionUserDelete:
		return UserDeleted
	}
	return ""
}

// ParseEvents parses a comma-separated list of event types ("" is every
// type) into a sorted list without duplicates.
func ParseEvents(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return slices.Sorted(slices.Values(EventTypes)), nil
	}
	seen := map[string]bool{}
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if !slices.Contains(EventTypes, e) {
			return nil, fmt.Errorf("unknown event type %q: want a list of %s", e, strings.Join(EventTypes, ", "))
		}
		seen[e] = true
	}
	return slices.Sorted(maps.Keys(seen)), nil
}

// Delivery states, as stored in the outbox and shown by `roster webhook
// deliveries`.
const (
	StatePending   = "pending"   // to send, or being sent (leased)
	StateDelivered = "delivered" // a 2xx answered it
	StateDead      = "dead"      // every attempt failed; it is not retried
)

// Subscription is one tenant's webhook: where events go and which.
type Subscription struct {
	ID        string // UUID v7
	TenantID  string
	URL       string
	Events    []string
	CreatedAt time.Time
}

// payload is the JSON body of every event (docs/WEBHOOKS.md). Its field
// names are a contract with receivers: change them only compatibly.
type payload struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	OccurredAt string `json:"occurred_at"`
	TenantID   string `json:"tenant_id"`
	UserID     string `json:"user_id"`
	// Fields names the fields the change set (create) or changed
	// (update): names only, as in the audit log.
	Fields []string `json:"fields"`
	// User is the user as written; absent for user.deleted.
	User *userJSON `json:"user,omitempty"`
}

// userJSON is the user in an event: the field names of `roster user
// export` (docs/OPERATIONS.md), without the SSN, which never leaves
// Roster in an event. It is not the export's record type (internal/cli) on
// purpose: docs/WEBHOOKS.md promises that the booleans, version and times
// are always present, where the export omits them when empty; the
// structured parts are userrecord's, shared by both.
type userJSON struct {
	ID             string                        `json:"id"`
	Username       string                        `json:"username,omitempty"`
	ExternalID     string                        `json:"external_id,omitempty"`
	ExternalSource string                        `json:"external_source,omitempty"`
	FirstName      string                        `json:"first_name,omitempty"`
	LastName       string                        `json:"last_name,omitempty"`
	Email          string                        `json:"email,omitempty"`
	EmailVerified  bool                          `json:"email_verified"`
	Phone          string                        `json:"phone,omitempty"`
	PhoneVerified  bool                          `json:"phone_verified"`
	Mobile         string                        `json:"mobile,omitempty"`
	Locale         string                        `json:"locale,omitempty"`
	State          string                        `json:"state,omitempty"`
	Locked         bool                          `json:"locked"`
	Address        *userrecord.Address           `json:"address,omitempty"`
	Values         map[string][]userrecord.Value `json:"values,omitempty"`
	Aliases        []userrecord.Alias            `json:"aliases,omitempty"`
	Attributes     []userrecord.Attribute        `json:"attributes,omitempty"`
	Extras         map[string]string             `json:"extras,omitempty"`
	PartnerCode    string                        `json:"partner_code,omitempty"`
	Version        int64                         `json:"version"`
	CreatedAt      string                        `json:"created_at"`
	UpdatedAt      string                        `json:"updated_at"`
}

// timeFormat is how events write times: RFC 3339 in UTC with
// microseconds, the precision Roster stores.
const timeFormat = "2006-01-02T15:04:05.000000Z07:00"

// EncodeEvent returns the JSON body of the event ch is (EventTypeOf its
// action must not be ""). The event id is the audit entry's id, so an
// event can be looked up in `roster audit`.
func EncodeEvent(ch *directory.Change) ([]byte, error) {
	a := ch.Audit
	typ := EventTypeOf(a.Action)
	if typ == "" {
		return nil, fmt.Errorf("encode event: action %q sends no event", a.Action)
	}
	p := payload{
		ID: a.ID, Type: typ, OccurredAt: a.At.UTC().Format(timeFormat),
		TenantID: a.TenantID, UserID: a.TargetID, Fields: a.Fields,
	}
	if p.Fields == nil {
		p.Fields = []string{}
	}
	if typ != UserDeleted {
		if ch.User == nil {
			return nil, errors.New("encode event: no user")
		}
		p.User = toUserJSON(ch.User)
	}
	b, err := json.Marshal(&p)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}
	return b, nil
}

func toUserJSON(u *directory.User) *userJSON {
	j := &userJSON{
		ID: u.ID, Username: u.Username, ExternalID: u.ExternalID, ExternalSource: u.ExternalSource,
		FirstName: u.FirstName, LastName: u.LastName, Email: u.Email, EmailVerified: u.EmailVerified,
		Phone: u.Phone, PhoneVerified: u.PhoneVerified, Mobile: u.Mobile, Locale: u.Locale,
		State: u.State, Locked: u.Locked, Extras: u.Extras, PartnerCode: u.PartnerCode,
		Version:   u.Version,
		CreatedAt: u.CreatedAt.UTC().Format(timeFormat), UpdatedAt: u.UpdatedAt.UTC().Format(timeFormat),
	}
	j.Address = userrecord.FromAddress(u.Address)
	j.Values = userrecord.FromValues(u.Values)
	j.Aliases = userrecord.FromAliases(u.Aliases)
	j.Attributes = userrecord.FromAttributes(u.Attributes)
	return j
}
