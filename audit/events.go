package audit

import "github.com/google/uuid"

// Event types, from the PREMIS event type vocabulary
// (id.loc.gov/vocabulary/preservation/eventType), and outcomes: one place
// for the words every package records.
const (
	TypeIngestion      = "ingestion"
	TypeFixityCheck    = "fixity check"
	TypeReplication    = "replication"
	TypeDissemination  = "dissemination"
	TypeRecovery       = "recovery"
	TypeFormatID       = "format identification"
	TypeValidation     = "validation"
	TypeDigest         = "message digest calculation"
	TypePackageCreated = "information package creation"
	TypeQuarantine     = "quarantine"
	TypeUnquarantine   = "unquarantine"
	TypeLegalHoldSet   = "legal hold set"
	TypeLegalHoldClear = "legal hold cleared"
	TypeScheduledRun   = "scheduled run"
	// Retention and disposition: PREMIS "policy assignment" and "deletion";
	// the steps of a disposal batch in archivd's own words.
	TypePolicyAssignment = "policy assignment"
	TypeDeletion         = "deletion"
	TypeDisposalProposed = "disposal proposed"
	TypeDisposalApproved = "disposal approved"
	TypeOffered          = "offered to the archive"
	TypeXdomeaAnswer     = "xdomea answer" // outcome success: written to the outbox; failure: not sent, and why

	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
)

// NewEventID is a fresh event identifier (a UUID) for an entry.
func NewEventID() string { return uuid.NewString() }
