"""The catalog flow engine: one implementation for every catalog resource.

Guarantees, each with a test: every batch that is opened is closed, on exceptions too;
the ``version_date`` recorded is the ``modified_date`` read at fetch time, so a change
made while a batch is in flight is sent by a later run; an object is recorded as sent
only when the channel returned a success row for its matching key; one bad object gets
an error report and never stops the others; an empty run opens no batch.

Bad rows are bad objects, not bad runs: a row Omnitron sent that does not fit its model is
committed as failed (error action, error report) so the pending view stops returning it;
a ``modified_date`` the engine must not record (unparseable, missing, in the future) is
reported once and left out of every batch until it is sane.

The modules, by role: :mod:`._engine` (the runs: send, retry, resend, check),
:mod:`._cursor` (pending views read by pk, within a :class:`PkWindow` for fan-out),
:mod:`._gate` (the :data:`CommitGate`: one committed batch per content type),
:mod:`._screen` (what of a page is sent), :mod:`._pipeline` (one batch: commit, prepare,
call), :mod:`._settle` (result rows into outcomes, now or when the job is done),
:mod:`._batches` (closing, repairing and reporting batches), :mod:`._summary` (options,
summaries). Their loggers are children of this package's, so one logger name covers the
engine's log lines.
"""

from channel_app_template.core.engine.flows._cursor import PkWindow
from channel_app_template.core.engine.flows._engine import CatalogEngine
from channel_app_template.core.engine.flows._gate import CommitGate, local_gate
from channel_app_template.core.engine.flows._settle import row_key
from channel_app_template.core.engine.flows._summary import EngineOptions, FlowSummary, Progress

__all__ = [
    "CatalogEngine",
    "CommitGate",
    "EngineOptions",
    "FlowSummary",
    "PkWindow",
    "Progress",
    "local_gate",
    "row_key",
]
