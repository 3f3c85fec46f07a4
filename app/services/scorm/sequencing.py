"""SCORM 2004 sequencing (`imsss:*`) of one item: what HocSo honours of it, and the rest listed as ignored.

HocSo plays SCOs in the organization's order and does not run sequencing. Two things of it still decide how a
lesson is met and played: the primary objective's passing score (when it is satisfied by measure) and the limit
conditions (`attemptLimit`, `attemptAbsoluteDurationLimit`). Both may be written on the item or come from the
manifest's `<imsss:sequencingCollection>` through `IDRef`, as the golf examples share theirs.
"""

from typing import TYPE_CHECKING

from app.core.i18n import messages
from app.services.scorm.data_model import DURATION
from app.services.scorm.xml_tree import Element

if TYPE_CHECKING:
    from app.services.scorm.manifest import ScoSpec, _Reader

messages({
    "scorm_missing_sequencing": (
        "Mục “{item}” dùng trình tự “{ref}” không có trong <imsss:sequencingCollection>.",
        "Item “{item}” uses sequencing “{ref}”, which is not in <imsss:sequencingCollection>."),
})


def read_sequencing(reader: "_Reader", sco: "ScoSpec", sequencing: Element) -> None:
    """2004: the primary objective's minNormalizedMeasure when it is satisfied by measure, and the limit
    conditions; the rest of the sequencing definition is listed as ignored. An `IDRef` names a definition of the
    sequencingCollection whose elements apply where the item has none of its own (the local element wins)."""
    children = sequencing.children
    if ref := (sequencing.get("IDRef") or "").strip():
        shared = reader.collection.get(ref)
        if shared is None:
            reader.error("scorm_missing_sequencing", sequencing.line, item=sco.identifier, ref=ref[:100])
        else:
            reader.referenced.add(ref)
            local = {child.name for child in children}
            children = [*children, *(child for child in shared.children if child.name not in local)]
    for child in children:
        if child.name == "objectives" and (primary := child.find("primaryObjective")) is not None:
            if (primary.get("satisfiedByMeasure") or "false").strip() == "true":
                measure = primary.find("minNormalizedMeasure")
                sco.scaled_passing_score = reader.decimal(measure.text if measure is not None else "1.0",
                                                    measure.line if measure is not None else primary.line,
                                                    "imsss:minNormalizedMeasure", -1, 1)
            if len(child.children) > 1 or any(c.name != "minNormalizedMeasure" for c in primary.children):
                reader.notice("scorm_ignored", child.line, what="<imsss:objectives>")
        elif child.name == "limitConditions":
            _limit_conditions(reader, sco, child)
        else:
            reader.notice("scorm_ignored", child.line, what=f"<imsss:{child.name}>")


def _limit_conditions(reader: "_Reader", sco: "ScoSpec", limits: Element) -> None:
    """SCORM 2004's two limit conditions: attempts allowed, each attempt's time (`cmi.max_time_allowed`)."""
    if (count := (limits.get("attemptLimit") or "").strip()):
        if not count.isdigit():
            reader.error("scorm_bad_value", limits.line, name="imsss:attemptLimit", value=count[:50])
        else:
            sco.attempt_limit = int(count) or None
    if (duration := (limits.get("attemptAbsoluteDurationLimit") or "").strip()):
        if not DURATION.fullmatch(duration) or duration in ("P", "PT"):
            reader.error("scorm_bad_value", limits.line, name="imsss:attemptAbsoluteDurationLimit",
                         value=duration[:50])
        else:
            sco.max_time_allowed = duration[:50]
