package directory

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// BulkStore is what a Store implements to take a bulk import many new users
// per transaction (internal/store: multi-row INSERTs). It is a capability
// beside Store, not part of it: the Service falls back to ImportUser row by
// row when its store lacks it.
type BulkStore interface {
	// EncodeBulk computes the store's own form of r (its row values, the
	// sealed SSN, the audit row) into r.Encoded. It reads only r, is safe
	// for concurrent use, and is called by the import's validators in
	// parallel, so that the one writer does nothing but SQL.
	EncodeBulk(r *BulkRow) error
	// InsertUsers inserts the rows' users, every one new to tenantID and
	// encoded by EncodeBulk, with their claims, aliases, values and audit
	// entries, in one transaction, and returns once it has committed. The
	// rows are applied in order, exactly as if each were created alone
	// after the ones before it (an earlier row wins a claim two rows
	// want), and each row's outcome is set in its result fields:
	//
	//   - KeyHolders > 0: a user of the tenant (or an earlier row) already
	//     has the row's Key; KeyHolder is one of them. Nothing is written.
	//   - Conflict != nil: a claim of the row is held by another user
	//     (named, read in the same transaction). Nothing of the row is
	//     written: the database's unique keys decide, and a row that loses
	//     one is removed whole before the commit.
	//   - otherwise the row is inserted.
	//
	// A generated partner code (RedrawCode set) that collides is drawn
	// again. An error means nothing of the batch is committed.
	InsertUsers(ctx context.Context, tenantID string, rows []*BulkRow) error
}

// BulkRow is one user of a bulk insert, prepared by the Service.
type BulkRow struct {
	User   *User   // prepared and validated; ID, timestamps and partner code set
	Claims []Claim // its claims under the tenant's policy
	// Key is the field that identifies the row as a user that may exist
	// already (see ImportUser): FieldID, FieldUsername or
	// FieldExternalID, or "" when the row has none. The store looks the
	// key up by column (users.id, username_norm or external_id).
	Key    Field
	Change *Change // the audit entry; no idempotency mark
	// RedrawCode draws a new partner code when the row's was generated;
	// nil when the row gave its own, whose collision is a conflict.
	RedrawCode func() string
	Encoded    any // the store's form, set by EncodeBulk

	// Results, set by InsertUsers.
	KeyHolder  string
	KeyHolders int
	Conflict   *ClaimConflict
}

// KeyValue returns the normalised value of the row's key, as the store
// looks it up.
func (r *BulkRow) KeyValue() string {
	switch r.Key {
	case FieldID:
		return r.User.ID
	case FieldUsername:
		return r.User.UsernameNorm
	case FieldExternalID:
		return r.User.ExternalID
	}
	return ""
}

// ImportRow is one row of a bulk import, prepared by PrepareImport and
// written by ImportRows.
type ImportRow struct {
	in    *User
	rules Rules
	bulk  BulkRow

	// Outcome and Err are ImportRows' result for the row: Err is a
	// *ConflictError when the row was rejected; otherwise Outcome says
	// what was done.
	Outcome ImportOutcome
	Err     error
}

// User returns the row's prepared user (its id set): the stored user once
// ImportRows imported it.
func (r *ImportRow) User() *User { return r.bulk.User }

// PrepareImport validates and prepares one row of a bulk import for p's
// tenant exactly as ImportUser does (the same identity rules, checks and
// claims), and encodes it for the store, SSN sealing included. It touches
// no database and is safe for concurrent use: an import runs it on every
// core. A row that fails validation is a *ValidationError.
func (s *Service) PrepareImport(ctx context.Context, p Principal, in *User, r Rules) (*ImportRow, error) {
	u := in.Clone()
	u.TenantID = p.TenantID
	explicitCode := u.PartnerCode != ""
	if err := prepareImport(u, s.Now()); err != nil {
		return nil, err
	}
	if err := prepare(u, nil, r); err != nil {
		return nil, err
	}
	row := &ImportRow{in: in, rules: r}
	switch {
	case strings.TrimSpace(in.ID) != "":
		row.bulk.Key = FieldID
	case u.UsernameNorm != "":
		row.bulk.Key = FieldUsername
	case u.ExternalID != "":
		row.bulk.Key = FieldExternalID
	}
	if u.ID == "" {
		u.ID = newID()
	}
	if !explicitCode {
		u.PartnerCode = newPartnerCode()
		row.bulk.RedrawCode = newPartnerCode
	}
	row.bulk.User = u
	row.bulk.Claims = claims(u, p.Unique)
	row.bulk.Change = s.change(ctx, &p, p.TenantID, ActionUserCreate, TargetUser, u.ID, userFields(nil, u), u.UpdatedAt)
	if row.bulk.Change != nil {
		row.bulk.Change.User = u // the webhook payload's user, as in CreateUser
	}
	if bs, ok := s.store.(BulkStore); ok {
		if err := bs.EncodeBulk(&row.bulk); err != nil {
			return nil, fmt.Errorf("import user: %w", err)
		}
	}
	return row, nil
}

// ImportRows writes prepared rows of one tenant, in order, as ImportUser
// would one by one, and sets each row's Outcome or Err. New users go to the
// store in one transaction (BulkStore); rows whose key is held are then
// skipped, rejected or, under ConflictUpdate, updated one by one. The
// returned error is not a row's: the write failed, and no row of the batch
// is committed.
func (s *Service) ImportRows(ctx context.Context, p Principal, rows []*ImportRow, onConflict OnConflict) error {
	bs, ok := s.store.(BulkStore)
	if !ok {
		for _, row := range rows {
			u, outcome, err := s.ImportUser(ctx, p, row.in, row.rules, onConflict)
			if err != nil && !errors.Is(err, ErrConflict) {
				var ve *ValidationError
				if !errors.As(err, &ve) {
					return err
				}
			}
			row.Outcome, row.Err = outcome, err
			if u != nil {
				row.bulk.User = u
			}
		}
		return nil
	}
	batch := make([]*BulkRow, len(rows))
	for i, row := range rows {
		if row.bulk.User.TenantID != p.TenantID {
			return fmt.Errorf("import users: row %d was prepared for another tenant", i)
		}
		batch[i] = &row.bulk
	}
	if err := bs.InsertUsers(ctx, p.TenantID, batch); err != nil {
		return fmt.Errorf("import users: %w", err)
	}
	for _, row := range rows {
		b := &row.bulk
		switch {
		case b.KeyHolders > 1:
			row.Err = fmt.Errorf("import user: several users have this external id: %w",
				&ConflictError{Field: b.Key, Value: b.KeyValue(), ExistingID: b.KeyHolder})
		case b.KeyHolders == 1:
			row.Outcome, row.Err = s.importHeldKey(ctx, p, row, onConflict)
		case b.Conflict != nil:
			row.Err = fmt.Errorf("import user: %w", conflictFor(b.User, b.Conflict))
		default:
			row.Outcome = Imported
		}
	}
	return nil
}

// importHeldKey applies onConflict to a row whose key a user holds.
func (s *Service) importHeldKey(ctx context.Context, p Principal, row *ImportRow, onConflict OnConflict) (ImportOutcome, error) {
	b := &row.bulk
	switch onConflict {
	case ConflictSkip:
		return Skipped, nil
	case ConflictUpdate:
	default:
		return 0, fmt.Errorf("import user: %w", &ConflictError{Field: b.Key, Value: keyValue(row.in, b.Key), ExistingID: b.KeyHolder})
	}
	existing, err := s.store.GetUser(ctx, p.TenantID, b.KeyHolder)
	if err != nil {
		if errors.Is(err, ErrNotFound) { // deleted since the lookup
			return 0, fmt.Errorf("import user: %w", &ConflictError{Field: b.Key, Value: keyValue(row.in, b.Key)})
		}
		return 0, fmt.Errorf("import user: %w", err)
	}
	u, outcome, err := s.importExisting(ctx, p, row.in, existing, b.Key, row.rules, onConflict)
	if err != nil {
		return 0, err
	}
	b.User = u
	return outcome, nil
}
