"""The data-subject aggregate: its consents, given and withdrawn, and whether it was erased.

The decisions on it have a module each: ``consent`` (give, withdraw) and ``erasure``.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from careledger.contracts.events import ConsentGiven, ConsentWithdrawn, Event, SubjectErased


@dataclass(frozen=True)
class ConsentState:
    purposes: tuple[str, ...]
    active: tuple[str, ...]


@dataclass(frozen=True)
class SubjectState:
    erased: bool = False
    consents: Mapping[str, ConsentState] = field(default_factory=dict)


def evolve(state: SubjectState, event: Event) -> SubjectState:
    match event:
        case ConsentGiven():
            purposes = tuple(dict.fromkeys(event.purposes))
            consent = ConsentState(purposes=purposes, active=purposes)
            return replace(state, consents={**state.consents, event.consent_id: consent})
        case ConsentWithdrawn() if event.consent_id in state.consents:
            given = state.consents[event.consent_id]
            active = tuple(p for p in given.active if p not in event.purposes)
            consent = replace(given, active=active)
            return replace(state, consents={**state.consents, event.consent_id: consent})
        case SubjectErased():
            return replace(state, erased=True)
    return state
