"""Change records: who acts, what the SOP allows, and the sealed history of each change.

    from spse_change.records import NewRecord, RecordStore, items_of
    store = RecordStore(project)
    record = store.create(NewRecord(title=..., items=items_of("db1", report)), actor="budi")
    store.approve(record.id, "sari", reason="...")
    store.start_applying(record.id, "budi")
    store.mark_verified(record.id, "budi", after={"db1": after_id}, before={"db1": before_id})
    major = store.create(observed_record(project, ObservedChange("db1@-1", "db1@latest", "RAM", "beban")),
                         actor="budi")                                  # consultation
    store.consult_outcome(major.id, "ani", "internal", "ITO: ditangani internal")
    store.close(major.id, "sari", baselines=["db1@latest"])

Format and rules: docs/records.md.
"""

from spse_change.records.fields import NewRecord, items_of, parse_window, read_new_record
from spse_change.records.observed import ObservedChange, observed_record
from spse_change.records.operators import STEP_ROLES, Operator, Operators, acting_name
from spse_change.records.record import Record
from spse_change.records.sop import Sop, load_sop
from spse_change.records.states import STEPS
from spse_change.records.store import AuditResult, RecordStore, checked_id

__all__ = ["STEPS", "STEP_ROLES", "AuditResult", "NewRecord", "ObservedChange", "Operator", "Operators",
           "Record", "RecordStore", "Sop", "acting_name", "checked_id", "items_of", "load_sop",
           "observed_record", "parse_window", "read_new_record"]
