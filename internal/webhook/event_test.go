package webhook_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/roster-dev/roster/internal/directory"
	"github.com/roster-dev/roster/internal/secret"
	"github.com/roster-dev/roster/internal/webhook"
)

// TestEncodeEventPayload pins the body docs/WEBHOOKS.md documents: the
// booleans, version and times always present, empty strings omitted, the
// structured parts by the export's names, and never the SSN.
func TestEncodeEventPayload(t *testing.T) {
	at := time.Date(2026, 12, 4, 1, 47, 22, 314159000, time.UTC)
	full := &directory.User{
		ID: "019ae0c5-1234-7abc-8def-0123456789ab", Username: "ann", FirstName: "Ann", SSN: secret.Value("222233333"),
		Address:    directory.Address{City: "Springfield"},
		Values:     map[directory.ValueKind][]directory.Value{directory.KindEmail: {{Value: "ann@example.com", Primary: true}}, directory.KindPhone: {}},
		Aliases:    []directory.Alias{{Value: "annie"}},
		Attributes: []directory.Attribute{{Name: "team", Value: "blue"}},
		Version:    2, CreatedAt: at, UpdatedAt: at,
	}
	tests := []struct {
		name   string
		action string
		fields []string
		user   *directory.User
		want   string
	}{
		{"created with every part", directory.ActionUserCreate, []string{"first_name", "ssn"}, full,
			`{"id":"e1","type":"user.created","occurred_at":"2026-12-04T01:47:22.314159Z","tenant_id":"t1","user_id":"u1","fields":["first_name","ssn"],` +
				`"user":{"id":"019ae0c5-1234-7abc-8def-0123456789ab","username":"ann","first_name":"Ann","email_verified":false,"phone_verified":false,"locked":false,` +
				`"address":{"city":"Springfield"},"values":{"email":[{"value":"ann@example.com","primary":true}]},"aliases":[{"value":"annie"}],` +
				`"attributes":[{"name":"team","value":"blue"}],"version":2,"created_at":"2026-12-04T01:47:22.314159Z","updated_at":"2026-12-04T01:47:22.314159Z"}}`},
		{"updated, bare user", directory.ActionUserUpdate, nil, &directory.User{ID: "u1"},
			`{"id":"e1","type":"user.updated","occurred_at":"2026-12-04T01:47:22.314159Z","tenant_id":"t1","user_id":"u1","fields":[],` +
				`"user":{"id":"u1","email_verified":false,"phone_verified":false,"locked":false,"version":0,"created_at":"0001-01-01T00:00:00.000000Z","updated_at":"0001-01-01T00:00:00.000000Z"}}`},
		{"deleted", directory.ActionUserDelete, nil, nil,
			`{"id":"e1","type":"user.deleted","occurred_at":"2026-12-04T01:47:22.314159Z","tenant_id":"t1","user_id":"u1","fields":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := &directory.Change{
				Audit: directory.AuditEntry{ID: "e1", TenantID: "t1", At: at, Action: tt.action, TargetID: "u1", Fields: tt.fields},
				User:  tt.user,
			}
			b, err := webhook.EncodeEvent(ch)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("payload:\ngot  %s\nwant %s", b, tt.want)
			}
			if !json.Valid(b) {
				t.Errorf("payload is not JSON: %s", b)
			}
		})
	}
}
