"""The recovery tracker: per-topic positions, duplicate drops and gap
detection (PROTOCOL §4–5, docs/recovery.md). No I/O and no clock of its own:
the protocol passes the time in and sends the requests it asks for.
"""

from __future__ import annotations

from collections import deque

from .events import Event, Message, MissedData, Position, RecoveryResult, SubscribeResult

__all__ = ["Tracker"]

#: Messages held per topic while a recovery request is pending; later ones
#: are dropped (the replay brings them again).
MAX_HELD = 4096
#: Recent ids of unstamped messages remembered to drop duplicates.
ID_WINDOW = 1024


class _Topic:
    """What the tracker knows of one topic."""

    __slots__ = ("epoch", "offset", "known", "pending", "deadline", "no_recover", "held")

    def __init__(self) -> None:
        self.epoch = ""
        self.offset = 0
        self.known = False
        self.pending = False
        self.deadline = 0.0
        self.no_recover = False
        self.held: list[Message] = []

    def position(self) -> Position:
        return Position(self.epoch, self.offset)


class Tracker:
    """Keeps the last delivered position of every topic.

    A stamped message is delivered only when it is the next offset of the
    same epoch; one at or before the position is a duplicate and dropped;
    one past a gap is held while the tracker asks the server to replay from
    its position (``recover`` of :meth:`accept`'s output). When the server
    cannot replay, the tracker takes the server's position and reports a
    :class:`MissedData` event naming the lost range. Not thread-safe.
    """

    def __init__(self, timeout: float) -> None:
        #: Seconds a recovery request may go unanswered before a gap is
        #: handled as if it could not be recovered.
        self.timeout = timeout
        #: Whether the server replays and the client asks it to.
        self.recoverable = False
        self._topics: dict[str, _Topic] = {}
        self._ids: set[str] = set()
        self._id_ring: deque[str] = deque()

    def reset(self, recoverable: bool) -> None:
        """Start a new connection: nothing is pending or held any more."""
        self.recoverable = recoverable
        for st in self._topics.values():
            st.pending = False
            st.held = []
            st.no_recover = False

    def prepare(self, topics: list[str], now: float) -> dict[str, Position]:
        """Mark topics pending a subscription request sent now and return the
        positions to recover them from (known topics only)."""
        if not self.recoverable:
            return {}
        out: dict[str, Position] = {}
        for topic in topics:
            st = self._state(topic)
            st.pending = True
            st.deadline = now + self.timeout
            if st.known and st.epoch:
                out[topic] = Position(st.epoch, st.offset)
        return out

    def forget(self, topics: list[str] | tuple[str, ...]) -> None:
        """Drop what is known of topics."""
        for topic in topics:
            self._topics.pop(topic, None)

    def positions(self) -> dict[str, Position]:
        """The last position of every known topic."""
        return {t: st.position() for t, st in self._topics.items() if st.known}

    def _state(self, topic: str) -> _Topic:
        st = self._topics.get(topic)
        if st is None:
            st = self._topics[topic] = _Topic()
        return st

    def accept(self, m: Message, now: float, out: list[Event], recover: dict[str, Position]) -> None:
        """Run one message through the tracker: what to deliver is appended
        to out, topics to ask a replay for are put in recover."""
        topic = m.topic
        if topic is None:
            mid = m.id
            if mid is None:
                out.append(m)
            elif mid not in self._ids:
                self._ids.add(mid)
                ring = self._id_ring
                ring.append(mid)
                if len(ring) > ID_WINDOW:
                    self._ids.discard(ring.popleft())
                out.append(m)
            return
        st = self._topics.get(topic)
        if st is None:
            st = self._topics[topic] = _Topic()
        if not st.known:
            st.epoch, st.offset, st.known = m.epoch, m.offset, True
            out.append(m)
            return
        if m.epoch == st.epoch:
            if m.offset <= st.offset:
                return  # a duplicate: a replay overlapping what was delivered
            if m.offset == st.offset + 1:
                st.offset = m.offset
                out.append(m)
                return
        elif not st.epoch and st.offset == 0 and m.offset == 1:
            st.epoch, st.offset = m.epoch, 1
            out.append(m)
            return
        if st.pending and now < st.deadline:
            if len(st.held) < MAX_HELD:
                st.held.append(m)
            return
        if self.recoverable and not st.no_recover:
            if len(st.held) < MAX_HELD:
                st.held.append(m)
            self._ask(topic, st, m.epoch, now, recover)
            return
        out.append(MissedData(topic, st.position(), Position(m.epoch, m.offset - 1)))
        st.epoch, st.offset = m.epoch, m.offset
        out.append(m)

    def _ask(self, topic: str, st: _Topic, epoch: str, now: float, recover: dict[str, Position]) -> None:
        """Ask for a replay of topic from its position; epoch names the buffer
        when the position is the empty one."""
        st.pending = True
        st.deadline = now + self.timeout
        recover[topic] = Position(st.epoch or epoch, st.offset if st.epoch else 0)

    def reply(self, r: SubscribeResult, now: float, out: list[Event], recover: dict[str, Position]) -> None:
        """Apply the server's subscription reply."""
        if r.action == "unsubscribe":
            self.forget(r.granted)
            return
        for topic in r.granted:
            st = self._state(topic)
            res = r.recovery.get(topic)
            if res is not None:
                self._settle(topic, st, res, now, out, recover)
            elif st.pending:
                st.no_recover = True  # no position to recover from
                self._release(st, now, out, recover)
        for topic in r.failed:
            st2 = self._topics.get(topic)
            if st2 is not None and st2.pending:
                st2.no_recover = True
                self._release(st2, now, out, recover)

    def _settle(
        self, topic: str, st: _Topic, res: RecoveryResult, now: float, out: list[Event], recover: dict[str, Position]
    ) -> None:
        """Take the server's position for topic and release the held
        messages; ask again when the server replayed up to a position the
        held messages do not reach."""
        reached = st.known and st.epoch == res.epoch and st.offset >= res.offset
        if not st.known:
            st.epoch, st.offset, st.known = res.epoch, res.offset, True
        elif reached:
            pass
        elif res.recovered and self.recoverable:
            pass  # the replay follows in order; complete if the held reach it
        else:
            out.append(MissedData(topic, st.position(), Position(res.epoch, res.offset)))
            st.epoch, st.offset = res.epoch, res.offset
        self._release(st, now, out, recover)
        if (
            res.recovered
            and self.recoverable
            and not st.pending
            and not (st.epoch == res.epoch and st.offset >= res.offset)
        ):
            self._ask(topic, st, res.epoch, now, recover)

    def _release(self, st: _Topic, now: float, out: list[Event], recover: dict[str, Position]) -> None:
        """End the pending state and run the held messages through accept
        again, in arrival order."""
        st.pending = False
        held, st.held = st.held, []
        for m in held:
            self.accept(m, now, out, recover)
