"""The booking domain: pure deciders, their commands, events and errors.

A newcomer's map, one concept per module:

- `commands`, `events`, `errors`, `values`: what is asked, what happened, what is refused,
  and the small values they share;
- `venue`, `table`, `service_day`, `booking`: one decider per kind of stream
  (`decide(command, state) -> events`, `evolve(state, event) -> state`, `initial_state`);
- `time_rules`: wall clock, shifts past midnight, service dates, the slot grid;
- `placement`, `lifecycle`, `floor`: decisions that span streams (booking a table,
  moving or ending a booking, adding, retiring and blocking tables), each returning a
  `decision.Decision` to append atomically;
- `streams`, `folding`: stream ids, and from events back to state.

Nothing here reads a clock, makes an id or does I/O: `now`, ids and the actor come in on
the command, and `booking_core.handlers` does the loading and appending (through
`booking_core.codec`, the only place that knows how an event is stored).
"""

from booking_core.domain.commands import Actor
from booking_core.domain.errors import DomainError
from booking_core.domain.events import ALL_EVENTS

__all__ = ["ALL_EVENTS", "Actor", "DomainError"]
