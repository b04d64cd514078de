"""Every Redis key name the application uses, built in this one module under a tenant prefix.

Ids that reach a key are checked against a strict pattern first: nothing from outside (a channel id, an agent id
from the API, digits a caller typed) becomes part of a key unvalidated.
"""

from __future__ import annotations

import re

# An id (``$(?!\n)``: also as a search pattern, as JSON Schema and OpenAPI apply it, no trailing newline passes).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.;+-]{0,127}$(?!\n)"
_SAFE = re.compile(ID_PATTERN)


class InvalidId(ValueError):
    """An id that may not be used in a Redis key."""


def checked(value: str, what: str = "id") -> str:
    if not _SAFE.fullmatch(value):
        raise InvalidId(f"{what} {value[:40]!r} is not a valid identifier")
    return value


class Keys:
    """Key names for one tenant: ``<prefix>:<tenant>:<kind>[:<id>]``; with ``hash_tag`` (Redis Cluster)
    ``<prefix>:{<tenant>}:<kind>[:<id>]``, so that every key of the tenant hashes to one slot: each Lua script and
    each transaction of the stores touches one slot whatever keys it takes, and a tenant's batch goes to one node
    (tests/store/test_key_slots.py holds every script call path to it). The tenants of a platform spread over the
    cluster's nodes; one tenant's keys are on one node (and its replicas)."""

    __slots__ = ("base",)

    def __init__(self, prefix: str, tenant: str, *, hash_tag: bool = False) -> None:
        tenant = checked(tenant, "tenant")
        self.base = f"{checked(prefix, 'key prefix')}:{f'{{{tenant}}}' if hash_tag else tenant}"

    def call(self, call_id: str) -> str:
        return f"{self.base}:call:{checked(call_id, 'call id')}"

    def batch(self, token: str) -> str:
        """A write batch's marker while it may be sent again (store/commit.py): a batch is written once."""
        return f"{self.base}:batch:{checked(token, 'batch token')}"

    def live_calls(self, node: str) -> str:
        """Set of the ids of one node's calls not yet ended (a node serves one Asterisk: its recovery compares
        exactly these with what that Asterisk lists)."""
        return f"{self.base}:calls:live:{checked(node, 'node')}"

    @property
    def legacy_live_calls(self) -> str:
        """The live set as versions before nodes kept it (one per tenant); adopted on start."""
        return f"{self.base}:calls:live"

    def node_holder(self, node: str) -> str:
        """A hot standby's lease of a node (``store/lease.py``): the instance acting for it, expiring."""
        return f"{self.base}:node:{checked(node, 'node')}:holder"

    def node_fence(self, node: str) -> str:
        """The node's fencing token: one more at each taking of its lease."""
        return f"{self.base}:node:{checked(node, 'node')}:fence"

    def node_waiting(self, node: str) -> str:
        """A standby waiting for the node's lease (expiring): a stop hands over instead of draining."""
        return f"{self.base}:node:{checked(node, 'node')}:waiting"

    def node_vacant(self, node: str) -> str:
        """Since when nobody could take the node back, after Redis lost its data."""
        return f"{self.base}:node:{checked(node, 'node')}:vacant"

    def agent(self, agent_id: str) -> str:
        """Hash: ``state``, ``call_id``, ``version`` and ``record`` (the agent's JSON). Redis is the authority."""
        return f"{self.base}:agent:{checked(agent_id, 'agent id')}"

    @property
    def agents(self) -> str:
        return f"{self.base}:agents"

    @property
    def agent_changes(self) -> str:
        """Stream of every agent write (agent, version, record, origin), capped: how each process's board learns
        what the others changed."""
        return f"{self.base}:agents:changes"

    @property
    def seats(self) -> str:
        """Sorted set of logged-in agents scored by their seat lease's expiry (Redis time, seconds)."""
        return f"{self.base}:agents:seats"

    @property
    def instances(self) -> str:
        """Sorted set of running processes (instance ids) scored by their lease's expiry (Redis time)."""
        return f"{self.base}:instances"

    def instance(self, instance_id: str) -> str:
        """A running process's marker, alive for its lease: other processes count it while it is there."""
        return f"{self.base}:instance:{checked(instance_id, 'instance id')}"

    def instance_witness(self, instance_id: str) -> str:
        """A running process's witness, kept a day past its last renewal: it vanishing means Redis lost its data
        (the marker also vanishes when the process merely stalled past its lease)."""
        return f"{self.base}:instance:{checked(instance_id, 'instance id')}:witness"

    def trunk_lines(self, trunk: str) -> str:
        """Hash: channel id -> node, for every channel using one of the trunk's lines (inbound and outbound)."""
        return f"{self.base}:trunk:{checked(trunk, 'trunk')}:lines"

    def callback(self, callback_id: str) -> str:
        """Hash: ``entry`` (the callback's JSON), ``version`` (bumped by every write), ``owner`` (the process
        connecting it while it is dialing)."""
        return f"{self.base}:callback:{checked(callback_id, 'callback id')}"

    @property
    def callbacks_live(self) -> str:
        """Sorted set of the callbacks not yet ended, scored by their place in line."""
        return f"{self.base}:callbacks:live"

    @property
    def callbacks_done(self) -> str:
        """Sorted set of ended callbacks (connected, expired, cancelled), scored by when they ended."""
        return f"{self.base}:callbacks:done"

    def callbacks_pending(self, queue_id: str) -> str:
        """Hash: E.164 number -> the id of its one live callback for the queue."""
        return f"{self.base}:callbacks:pending:{checked(queue_id, 'queue id')}"

    @property
    def round_robin(self) -> str:
        """Hash: queue id -> the member order of the agent its round-robin strategy offered last."""
        return f"{self.base}:acd:round-robin"

    def handle_times(self, queue_id: str) -> str:
        """List of a queue's latest handle times (seconds), newest last, at most two estimation windows long."""
        return f"{self.base}:acd:handle:{checked(queue_id, 'queue id')}"

    @property
    def lines(self) -> str:
        """Hash: persistent agent id -> the channel id of their standing line."""
        return f"{self.base}:agents:lines"

    def queue(self, queue_id: str) -> str:
        """Sorted set of waiting call ids, scored by priority then enqueue time."""
        return f"{self.base}:queue:{checked(queue_id, 'queue id')}"

    def waiters(self, queue_id: str) -> str:
        """Hash: waiting call id -> who waits, where and for what (JSON, ``acd/global_order.py``'s ``Waiter``), for
        the other processes' global order."""
        return f"{self.base}:queue:{checked(queue_id, 'queue id')}:waiters"

    def directory(self, kind: str) -> str:
        """Hash: agent or queue id -> its configuration as the API set it (JSON), or ``null`` for one removed."""
        if kind not in ("agents", "queues"):
            raise InvalidId(f"directory {kind[:40]!r} is not a valid kind")
        return f"{self.base}:directory:{kind}"

    @property
    def events(self) -> str:
        """The append-only event stream that reports, the wallboard and webhooks read."""
        return f"{self.base}:events"

    @property
    def surge(self) -> str:
        """The tenant's surge announcement, as set by a supervisor."""
        return f"{self.base}:ivr:surge"

    @property
    def pattern(self) -> str:
        """Matches every key of this tenant (tests clean up with it)."""
        return f"{self.base}:*"

    # ---- webhooks (the outbox) ---------------------------------------------------------------------------

    @property
    def webhook_subscriptions(self) -> str:
        """Hash: subscription id -> subscription JSON."""
        return f"{self.base}:webhooks:subscriptions"

    @property
    def webhook_subscriptions_version(self) -> str:
        """A token changed with every change of the subscriptions (absent while there are none): what a cached
        copy of them is checked against."""
        return f"{self.base}:webhooks:subscriptions-version"

    def webhook_delivery(self, delivery_id: str) -> str:
        """One delivery's JSON (its body, attempts, status)."""
        return f"{self.base}:webhooks:delivery:{checked(delivery_id, 'delivery id')}"

    def webhook_schedule(self, subscription_id: str) -> str:
        """Sorted set of one subscription's pending delivery ids, scored by next-attempt time."""
        return f"{self.base}:webhooks:schedule:{checked(subscription_id, 'subscription id')}"

    def webhook_log(self, subscription_id: str) -> str:
        """Capped list of one subscription's delivery attempts, newest first."""
        return f"{self.base}:webhooks:log:{checked(subscription_id, 'subscription id')}"

    @property
    def webhook_dead(self) -> str:
        """Sorted set of dead-lettered delivery ids, scored by the time of the last attempt."""
        return f"{self.base}:webhooks:dead"

    # ---- tickets -------------------------------------------------------------------------------------------

    def ticket(self, number: str) -> str:
        return f"{self.base}:ticket:{checked(number, 'ticket number')}"

    @property
    def tickets_guard(self) -> str:
        """Present while ticket numbers may be issued; gone after Redis lost its data, until every running process
        has written back the highest number it issued."""
        return f"{self.base}:tickets:guard"

    def ticket_sequence(self, year: int) -> str:
        """Counter behind the ticket numbers of one year (T-<year>-<n>)."""
        return f"{self.base}:tickets:seq:{int(year)}"

    @property
    def tickets_by_call(self) -> str:
        """Hash: call id -> ticket number (one ticket per call)."""
        return f"{self.base}:tickets:by-call"

    def tickets_by_caller(self, digits: str) -> str:
        """Sorted set of ticket numbers for one caller number (digits only), scored by creation time."""
        return f"{self.base}:tickets:caller:{checked(digits, 'caller number')}"

    @property
    def tickets_by_name(self) -> str:
        """Lexicographic index: ``<casefolded customer name>\\0<ticket number>``, all scored 0."""
        return f"{self.base}:tickets:names"

    @property
    def tickets_due(self) -> str:
        """Sorted set of open ticket numbers scored by the time they become overdue."""
        return f"{self.base}:tickets:due"

    def monitor_sessions(self, node: str) -> str:
        """Hash of the supervisors' monitoring sessions on the node's calls: session id -> record (JSON), for
        recovery to adopt or end (calls/monitoring.py)."""
        return f"{self.base}:monitor:sessions:{checked(node, 'node')}"

    # ---- recordings and quality assurance -------------------------------------------------------------------

    def recording(self, name: str) -> str:
        """One recording's metadata (JSON)."""
        return f"{self.base}:recording:{checked(name, 'recording name')}"

    def recording_played(self, name: str) -> str:
        """Set of who played a recording (agent ids, or token names), for self-review."""
        return f"{self.base}:recording:{checked(name, 'recording name')}:played"

    @property
    def recordings(self) -> str:
        """Sorted set of every recording name, scored by start time (retention walks it oldest first)."""
        return f"{self.base}:recordings"

    def recordings_by_agent(self, agent_id: str) -> str:
        return f"{self.base}:recordings:agent:{checked(agent_id, 'agent id')}"

    def recordings_by_call(self, call_id: str) -> str:
        return f"{self.base}:recordings:call:{checked(call_id, 'call id')}"

    @property
    def recordings_audit(self) -> str:
        """List of deletion audit entries (JSON), newest first; never trimmed."""
        return f"{self.base}:recordings:audit"

    def qa_scores(self, name: str) -> str:
        """Hash: reviewer -> score JSON, for one recording."""
        return f"{self.base}:qa:scores:{checked(name, 'recording name')}"

    def qa_agent_scores(self, agent_id: str) -> str:
        """Sorted set of ``<recording>\\x00<reviewer>`` scored by the time of the score: an agent's grade history."""
        return f"{self.base}:qa:agent:{checked(agent_id, 'agent id')}"

    def qa_sample(self, period: str) -> str:
        """One period's QA sample (JSON)."""
        return f"{self.base}:qa:sample:{checked(period, 'period')}"

    # ---- outbound campaigns ---------------------------------------------------------------------------------

    def campaign(self, campaign_id: str) -> str:
        """One campaign's spec and state (JSON)."""
        return f"{self.base}:campaign:{checked(campaign_id, 'campaign id')}"

    @property
    def campaigns(self) -> str:
        """Set of every campaign id."""
        return f"{self.base}:campaigns"

    def campaign_part(self, campaign_id: str, part: str) -> str:
        """A campaign's lead data: ``leads`` (hash lead id -> lead JSON), ``numbers`` (hash E.164 -> lead id),
        ``due`` (sorted set of new and scheduled lead ids by the time they may be tried), ``dialing`` (sorted set
        of claimed lead ids by lease end), ``stats`` (hash of counters), ``imports`` (sorted set of import ids by
        start time), ``ledger`` (the dialer's abandon ledger: list of entries, JSON, oldest first)."""
        if part not in _CAMPAIGN_PARTS:
            raise InvalidId(f"campaign part {part[:40]!r} is not a valid part")
        return f"{self.base}:campaign:{checked(campaign_id, 'campaign id')}:{part}"

    def campaign_calls(self, campaign_id: str, day: str) -> str:
        """Counter of a campaign's calls on one day of its own zone (YYYY-MM-DD)."""
        if not _DAY.fullmatch(day):
            raise InvalidId(f"day {day[:40]!r} is not a date")
        return f"{self.base}:campaign:{checked(campaign_id, 'campaign id')}:calls:{day}"

    def lead_import(self, import_id: str, part: str = "") -> str:
        """One import's record (JSON); with ``part``: ``rejects`` (list of rejected rows, JSON) or ``seen`` (a dry
        run's numbers so far, hash E.164 -> lead id)."""
        if part not in ("", "rejects", "seen"):
            raise InvalidId(f"import part {part[:40]!r} is not a valid part")
        key = f"{self.base}:import:{checked(import_id, 'import id')}"
        return f"{key}:{part}" if part else key

    @property
    def do_not_call(self) -> str:
        """Hash: E.164 number -> its do-not-call entry (JSON), for every campaign of the tenant."""
        return f"{self.base}:dnc"

    @property
    def do_not_call_imports(self) -> str:
        """Sorted set of the do-not-call list's import ids by start time."""
        return f"{self.base}:dnc:imports"

    @property
    def abandoned_numbers(self) -> str:
        """Sorted set: E.164 number -> when a campaign last abandoned a call to it (no redial for 72 hours)."""
        return f"{self.base}:campaigns:abandoned"


_CAMPAIGN_PARTS = frozenset({"leads", "numbers", "due", "dialing", "stats", "imports", "ledger"})
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
