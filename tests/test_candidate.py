"""The candidate's live status machine (docs/domain.md "Statuses", flow steps 6-13)."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from vigie.core import candidate
from vigie.core.candidate import (
    ACTION_LABELS,
    STATUS_LABELS,
    AlertPending,
    Answer,
    AuthorizeResume,
    CancelPresence,
    CandidateState,
    Command,
    ConfirmPresence,
    Disconnect,
    DismissAlert,
    EndByInvigilator,
    Event,
    Finalize,
    Finish,
    GrantTime,
    NoAlert,
    RaiseAlert,
    Reconnect,
    Resume,
    ResumeExpired,
    Start,
    Status,
    ValidateAlert,
    apply,
)
from vigie.exceptions import InvalidInput, Refused, TransitionRefused

S = Status
T0 = 1_750_000_000.0
"""A session's start, epoch seconds."""
MIN = 60.0
BASE = 105 * MIN
SESSION, CANDIDATE = 4242, 7

# One instance of every command class, with valid arguments.
COMMANDS: dict[type[Command], Command] = {
    ConfirmPresence: ConfirmPresence(),
    CancelPresence: CancelPresence(),
    Start: Start(),
    Answer: Answer(question_number=2),
    Finish: Finish(),
    Disconnect: Disconnect(reason="silent"),
    Reconnect: Reconnect(),
    AuthorizeResume: AuthorizeResume(),
    Resume: Resume(),
    EndByInvigilator: EndByInvigilator(),
    Finalize: Finalize(),
    GrantTime: GrantTime(minutes=10, reason="  panne du poste  "),
    RaiseAlert: RaiseAlert(category="E1"),
    ValidateAlert: ValidateAlert(subcategory="E2"),
    DismissAlert: DismissAlert(),
}

# The rules of docs/domain.md "Statuses", written out by hand: (status, command) -> new status.
# Every pair not listed must be refused.
EXPECTED: dict[tuple[Status, type[Command]], Status] = {
    (S.REGISTERED, ConfirmPresence): S.PRESENT,
    (S.REGISTERED, Finalize): S.ABSENT,
    (S.REGISTERED, GrantTime): S.REGISTERED,
    (S.PRESENT, CancelPresence): S.REGISTERED,
    (S.PRESENT, Start): S.IN_PROGRESS,
    (S.PRESENT, Finalize): S.ABSENT,
    (S.PRESENT, GrantTime): S.PRESENT,
    (S.IN_PROGRESS, Answer): S.IN_PROGRESS,
    (S.IN_PROGRESS, Finish): S.FINISHED,
    (S.IN_PROGRESS, Disconnect): S.DISCONNECTED,
    (S.IN_PROGRESS, EndByInvigilator): S.ENDED_BY_INVIGILATOR,
    (S.IN_PROGRESS, Finalize): S.ENDED_BY_FINALIZATION,
    (S.IN_PROGRESS, GrantTime): S.IN_PROGRESS,
    (S.IN_PROGRESS, RaiseAlert): S.IN_PROGRESS,
    (S.IN_PROGRESS, ValidateAlert): S.IN_PROGRESS,
    (S.IN_PROGRESS, DismissAlert): S.IN_PROGRESS,
    (S.DISCONNECTED, Reconnect): S.IN_PROGRESS,
    (S.DISCONNECTED, AuthorizeResume): S.RESUME_AUTHORIZED,
    (S.DISCONNECTED, EndByInvigilator): S.ENDED_BY_INVIGILATOR,
    (S.DISCONNECTED, Finalize): S.ENDED_BY_FINALIZATION,
    (S.DISCONNECTED, GrantTime): S.DISCONNECTED,
    (S.DISCONNECTED, ValidateAlert): S.DISCONNECTED,
    (S.DISCONNECTED, DismissAlert): S.DISCONNECTED,
    (S.RESUME_AUTHORIZED, AuthorizeResume): S.RESUME_AUTHORIZED,
    (S.RESUME_AUTHORIZED, Resume): S.IN_PROGRESS,
    (S.RESUME_AUTHORIZED, EndByInvigilator): S.ENDED_BY_INVIGILATOR,
    (S.RESUME_AUTHORIZED, Finalize): S.ENDED_BY_FINALIZATION,
    (S.RESUME_AUTHORIZED, GrantTime): S.RESUME_AUTHORIZED,
    (S.RESUME_AUTHORIZED, ValidateAlert): S.RESUME_AUTHORIZED,
    (S.RESUME_AUTHORIZED, DismissAlert): S.RESUME_AUTHORIZED,
}

# How each status is reached from "registered", one command a minute from T0.
PATHS: dict[Status, list[Command]] = {
    S.REGISTERED: [],
    S.PRESENT: [ConfirmPresence()],
    S.IN_PROGRESS: [ConfirmPresence(), Start()],
    S.DISCONNECTED: [ConfirmPresence(), Start(), Disconnect()],
    S.RESUME_AUTHORIZED: [ConfirmPresence(), Start(), Disconnect(), AuthorizeResume()],
    S.FINISHED: [ConfirmPresence(), Start(), Finish()],
    S.ENDED_BY_INVIGILATOR: [ConfirmPresence(), Start(), EndByInvigilator()],
    S.ENDED_BY_FINALIZATION: [ConfirmPresence(), Start(), Finalize()],
    S.ABSENT: [Finalize()],
}


def fresh(**fields: object) -> CandidateState:
    return CandidateState(session_id=SESSION, candidate_id=CANDIDATE, **fields)  # type: ignore[arg-type]


def run(state: CandidateState, commands: list[Command], start: float = T0) -> CandidateState:
    for i, command in enumerate(commands):
        state, _ = apply(state, command, start + i * MIN)
    return state


def reach(status: Status, *, alert: bool = False, extra_time: float = 0.0) -> CandidateState:
    """A state in ``status`` reached through the machine; ``alert`` raises one on the way."""
    path = list(PATHS[status])
    if alert:
        path.insert(2, RaiseAlert(category="E4"))
    state = run(fresh(extra_time=extra_time), path)
    assert state.status is status
    assert (state.alert is not None) is alert
    return state


def test_paths_cover_every_status_and_expected_covers_every_command() -> None:
    assert set(PATHS) == set(Status)
    assert {cls for _, cls in EXPECTED} == set(COMMANDS)
    assert {type(c).name for c in COMMANDS.values()} == candidate.COMMAND_NAMES


@pytest.mark.parametrize(
    ("status", "command_class"),
    list(itertools.product(Status, COMMANDS)),
    ids=lambda v: v.value if isinstance(v, Status) else v.__name__,
)
def test_every_status_command_pair(status: Status, command_class: type[Command]) -> None:
    command = COMMANDS[command_class]
    needs_alert = command_class in (ValidateAlert, DismissAlert)
    state = reach(status, alert=needs_alert and status in candidate.RUNNING)
    now = state_time(state) + MIN
    target = EXPECTED.get((status, command_class))
    if target is None:
        with pytest.raises(TransitionRefused) as refused:
            apply(state, command, now)
        assert refused.value.command == command.name
        assert refused.value.status == status.value
        assert (refused.value.command, refused.value.status) == (command.name, status.value)
        # people read it in French: the action and the status by their French names
        assert ACTION_LABELS[command.name] in refused.value.message
        assert STATUS_LABELS[status] in refused.value.message
        assert refused.value.code == "transition_refused"
        return
    new, event = apply(state, command, now)
    assert new.status is target
    assert new.version == state.version + 1
    assert event == Event(
        command.name, SESSION, CANDIDATE, now, new.version, {**event.data, "status": target.value}
    )
    check_effects(state, command, now, new, event)


def state_time(state: CandidateState) -> float:
    """The time of the last command applied to a state built by ``reach``."""
    return T0 + (state.version - 1) * MIN if state.version else T0


def check_effects(
    old: CandidateState, command: Command, now: float, new: CandidateState, event: Event
) -> None:
    """What each command must change besides the status, and what its event must say."""
    unchanged = {f.name: getattr(old, f.name) for f in dataclasses.fields(old)}
    expected_data: dict[str, object] = {"status": new.status.value}
    match command:
        case Start():
            deadline = now + BASE
            unchanged |= {"started_at": now, "question_number": 1}
            expected_data |= {"started_at": now, "question_number": 1, "deadline": deadline}
        case Answer():
            unchanged |= {"question_number": 2}
            expected_data |= {"question_number": 2}
        case Disconnect():
            unchanged |= {"disconnected_at": now}
            expected_data |= {"reason": "silent"}
        case Reconnect() | Resume():
            assert old.disconnected_at is not None
            lost = now - old.disconnected_at
            unchanged |= {
                "disconnected_at": None,
                "resume_authorized_at": None,
                "time_lost": old.time_lost + lost,
            }
            expected_data |= {"time_lost": old.time_lost + lost, "deadline": old.deadline}
        case AuthorizeResume():
            unchanged |= {"resume_authorized_at": now}
            expected_data |= {"expires_at": now + 15 * MIN}
        case Finish() | EndByInvigilator() | Finalize():
            unchanged |= {"ended_at": now, "alert": None}
            if old.disconnected_at is not None:
                unchanged |= {
                    "disconnected_at": None,
                    "time_lost": old.time_lost + now - old.disconnected_at,
                }
            expected_data |= {"ended_at": now}
        case GrantTime():
            unchanged |= {"granted_minutes": old.granted_minutes + 10}
            deadline = None if old.started_at is None else old.started_at + BASE + 10 * MIN
            expected_data |= {
                "minutes": 10,
                "granted_minutes": old.granted_minutes + 10,
                "reason": "panne du poste",
                "deadline": deadline,
            }
        case RaiseAlert():
            unchanged |= {"alert": "E1"}
            expected_data |= {"category": "E1", "question_number": old.question_number}
        case ValidateAlert():
            unchanged |= {"alert": None}
            expected_data |= {"subcategory": "E2"}
        case DismissAlert():
            unchanged |= {"alert": None}
        case ConfirmPresence() | CancelPresence():
            pass
        case _:  # pragma: no cover - every command class is listed above
            raise AssertionError(command)
    unchanged |= {"status": new.status, "version": old.version + 1}
    assert dataclasses.asdict(new) == unchanged
    assert dict(event.data) == expected_data


# --- immutability, versions, events -------------------------------------------------------


def test_apply_never_mutates_its_input() -> None:
    state = reach(S.IN_PROGRESS)
    before = dataclasses.asdict(state)
    new, _ = apply(state, Answer(question_number=5), T0 + 10 * MIN)
    assert dataclasses.asdict(state) == before
    assert new is not state
    assert new.question_number == 5 and state.question_number == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.status = S.FINISHED  # type: ignore[misc]


def test_events_and_commands_are_frozen() -> None:
    _, event = apply(fresh(), ConfirmPresence(), T0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.kind = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        COMMANDS[Answer].question_number = 3  # type: ignore[attr-defined]


def test_version_increments_by_one_along_a_whole_test() -> None:
    state = fresh(version=41)
    commands: list[Command] = [
        ConfirmPresence(),
        Start(),
        Answer(question_number=2),
        Disconnect(),
        Reconnect(),
        Answer(question_number=3),
        Finish(),
    ]
    for i, command in enumerate(commands, start=1):
        state, event = apply(state, command, T0 + i)
        assert state.version == 41 + i
        assert event.version == state.version
        assert (event.session_id, event.candidate_id, event.at) == (SESSION, CANDIDATE, T0 + i)
        assert event.kind == command.name
    assert state.status is S.FINISHED


def test_a_refused_command_changes_nothing() -> None:
    state = reach(S.FINISHED)
    before = dataclasses.asdict(state)
    with pytest.raises(TransitionRefused):
        apply(state, Start(), T0 + 99 * MIN)
    assert dataclasses.asdict(state) == before


# --- deadlines ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra_time", "granted", "expected_seconds"),
    [
        (0.0, 0.0, 105 * 60),
        (0.33, 0.0, 105 * 60 * 1.33),
        (0.5, 15.0, 105 * 60 * 1.5 + 15 * 60),
        (1.0, 0.0, 210 * 60),
        (9.99, 0.0, 105 * 60 * 10.99),  # the most extra time: 19 h 14 min
        (9.99, 300.0, 24 * 3600),  # 19 h 14 min + 5 h > 24 h: capped
        (0.0, 1440.0, 24 * 3600),  # 105 min + 24 h: capped
    ],
)
def test_deadline_is_105_minutes_times_extra_plus_granted_capped_at_24h(
    extra_time: float, granted: float, expected_seconds: float
) -> None:
    state = fresh(status=S.PRESENT, extra_time=extra_time, granted_minutes=granted)
    assert state.deadline is None  # not started yet
    started, event = apply(state, Start(), T0)
    assert started.deadline == pytest.approx(T0 + expected_seconds, abs=1e-6)
    assert event.data["deadline"] == started.deadline


def test_time_granted_live_moves_the_deadline_and_adds_up() -> None:
    state = reach(S.IN_PROGRESS, extra_time=0.33)
    first_deadline = state.deadline
    assert first_deadline is not None
    state, event = apply(state, GrantTime(minutes=5, reason="panne"), T0 + 30 * MIN)
    assert event.data["deadline"] == pytest.approx(first_deadline + 5 * MIN, abs=1e-6)
    state, event = apply(state, GrantTime(minutes=7.5, reason="accompagnement"), T0 + 40 * MIN)
    assert state.granted_minutes == 12.5
    assert state.deadline == pytest.approx(first_deadline + 12.5 * MIN, abs=1e-6)
    assert event.data["deadline"] == state.deadline


def test_time_granted_before_the_start_counts_at_the_start() -> None:
    state, event = apply(fresh(), GrantTime(minutes=20, reason="aménagement"), T0)
    assert event.data["deadline"] is None
    state = run(state, [ConfirmPresence(), Start()], T0 + MIN)
    assert state.deadline == T0 + 2 * MIN + BASE + 20 * MIN


def test_is_overdue_only_while_the_test_runs() -> None:
    state = reach(S.IN_PROGRESS)
    end = state.deadline
    assert end is not None
    assert not state.is_overdue(end - 1)
    assert state.is_overdue(end)
    disconnected, _ = apply(state, Disconnect(), end - 10)
    assert disconnected.is_overdue(end + 1)
    finished, _ = apply(state, Finish(), end - 10)
    assert not finished.is_overdue(end + 1)
    assert not fresh().is_overdue(end + 1)


# --- time lost, resume --------------------------------------------------------------------


def test_time_lost_accumulates_over_disconnections() -> None:
    state = reach(S.IN_PROGRESS)  # started at T0 + 1 min
    deadline = state.deadline
    state, event = apply(state, Disconnect(reason="closed"), T0 + 10 * MIN)
    assert event.data == {"status": "disconnected", "reason": "closed"}
    state, event = apply(state, Reconnect(), T0 + 10 * MIN + 8)
    assert state.time_lost == 8
    assert state.disconnected_at is None
    assert event.data["time_lost"] == 8
    state = run(state, [Disconnect(), AuthorizeResume()], T0 + 20 * MIN)
    state, event = apply(state, Resume(), T0 + 25 * MIN)
    assert state.time_lost == 8 + 5 * MIN
    assert event.data["time_lost"] == 8 + 5 * MIN
    assert state.resume_authorized_at is None
    # Time lost is reported for the invigilator to grant, never added silently.
    assert state.deadline == deadline
    assert event.data["deadline"] == deadline
    state, _ = apply(state, Disconnect(), T0 + 30 * MIN)
    state, event = apply(state, EndByInvigilator(), T0 + 33 * MIN)
    assert state.time_lost == 8 + 5 * MIN + 3 * MIN
    assert state.disconnected_at is None
    assert state.ended_at == T0 + 33 * MIN
    assert event.data == {"status": "ended_by_invigilator", "ended_at": T0 + 33 * MIN}


def test_finalization_of_a_disconnected_test_counts_the_time_lost() -> None:
    state = run(reach(S.IN_PROGRESS), [Disconnect(), AuthorizeResume()], T0 + 10 * MIN)
    state, _ = apply(state, Finalize(), T0 + 70 * MIN)
    assert state.status is S.ENDED_BY_FINALIZATION
    assert state.time_lost == 60 * MIN
    assert state.disconnected_at is None


def test_a_clock_going_backwards_never_gives_negative_time_lost() -> None:
    state, _ = apply(reach(S.IN_PROGRESS), Disconnect(), T0 + 10 * MIN)
    state, _ = apply(state, Reconnect(), T0 + 9 * MIN)
    assert state.time_lost == 0.0
    state, _ = apply(state, Disconnect(), T0 + 10 * MIN)
    state, _ = apply(state, EndByInvigilator(), T0 + 9 * MIN)
    assert state.time_lost == 0.0


def test_resume_is_valid_15_minutes_then_expires() -> None:
    state = run(reach(S.IN_PROGRESS), [Disconnect(), AuthorizeResume()], T0 + 10 * MIN)
    authorized_at = T0 + 11 * MIN
    assert state.resume_authorized_at == authorized_at
    resumed, _ = apply(state, Resume(), authorized_at + 15 * MIN)
    assert resumed.status is S.IN_PROGRESS
    with pytest.raises(ResumeExpired) as expired:
        apply(state, Resume(), authorized_at + 15 * MIN + 0.001)
    assert isinstance(expired.value, Refused)
    assert expired.value.code == "resume_expired"
    # The invigilator renews the authorization: 15 more minutes from then.
    renewed, event = apply(state, AuthorizeResume(), authorized_at + 20 * MIN)
    assert renewed.status is S.RESUME_AUTHORIZED
    assert event.data["expires_at"] == authorized_at + 35 * MIN
    resumed, _ = apply(renewed, Resume(), authorized_at + 34 * MIN)
    assert resumed.status is S.IN_PROGRESS
    assert resumed.time_lost == 35 * MIN  # disconnected at authorized_at - 1 min


def test_resume_without_an_authorization_time_is_expired() -> None:
    state = fresh(status=S.RESUME_AUTHORIZED, started_at=T0, disconnected_at=T0)
    with pytest.raises(ResumeExpired):
        apply(state, Resume(), T0 + MIN)


# --- live alerts ----------------------------------------------------------------------------


def test_an_alert_blocks_answering_and_finishing_until_decided() -> None:
    state = reach(S.IN_PROGRESS)
    state, _ = apply(state, Answer(question_number=4), T0 + 5 * MIN)
    alerted, event = apply(state, RaiseAlert(category="E3"), T0 + 6 * MIN)
    assert alerted.alert == "E3"
    assert event.data == {"status": "in_progress", "category": "E3", "question_number": 4}
    for command in (Answer(question_number=5), Finish(), RaiseAlert(category="E1")):
        with pytest.raises(AlertPending) as pending:
            apply(alerted, command, T0 + 7 * MIN)
        assert pending.value.code == "alert_pending"
    validated, event = apply(alerted, ValidateAlert(subcategory="E3"), T0 + 8 * MIN)
    assert validated.alert is None
    assert event.data == {"status": "in_progress", "subcategory": "E3"}
    dismissed, event = apply(alerted, DismissAlert(), T0 + 8 * MIN)
    assert dismissed.alert is None
    assert event.data == {"status": "in_progress"}
    for decided in (validated, dismissed):
        answered, _ = apply(decided, Answer(question_number=5), T0 + 9 * MIN)
        assert answered.question_number == 5


def test_an_alert_survives_a_disconnection_and_is_cleared_by_the_end() -> None:
    state = reach(S.DISCONNECTED, alert=True)
    back, _ = apply(state, Reconnect(), T0 + 20 * MIN)
    assert back.alert == "E4"
    ended, _ = apply(back, EndByInvigilator(), T0 + 21 * MIN)
    assert ended.alert is None


@pytest.mark.parametrize("command", [ValidateAlert(subcategory="E1"), DismissAlert()])
@pytest.mark.parametrize("status", sorted(candidate.RUNNING))
def test_deciding_without_an_alert_is_refused(command: Command, status: Status) -> None:
    state = reach(status)
    with pytest.raises(NoAlert) as refused:
        apply(state, command, T0 + 30 * MIN)
    assert refused.value.code == "no_alert"


@pytest.mark.parametrize("category", ["C1", "C6", "E6", "E13", "e1", "", "E1 "])
def test_an_alert_needs_a_question_category(category: str) -> None:
    with pytest.raises(InvalidInput) as invalid:
        apply(reach(S.IN_PROGRESS), RaiseAlert(category=category), T0 + 5 * MIN)
    assert invalid.value.code == "invalid_category"


@pytest.mark.parametrize("subcategory", ["C7", "E7", "X", ""])
def test_validating_needs_a_question_subcategory(subcategory: str) -> None:
    state = reach(S.IN_PROGRESS, alert=True)
    with pytest.raises(InvalidInput) as invalid:
        apply(state, ValidateAlert(subcategory=subcategory), T0 + 5 * MIN)
    assert invalid.value.code == "invalid_category"


@pytest.mark.parametrize("category", sorted(f"E{n}" for n in (1, 2, 3, 4, 5, 8, 9, 10, 11, 12)))
def test_every_question_category_may_be_raised(category: str) -> None:
    state, _ = apply(reach(S.IN_PROGRESS), RaiseAlert(category=category), T0 + 5 * MIN)
    assert state.alert == category


# --- time granted live --------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [1, 7.5, 60, 1440])
def test_grant_time_accepts_up_to_24_hours(minutes: float) -> None:
    state, event = apply(reach(S.IN_PROGRESS), GrantTime(minutes, "panne"), T0 + 5 * MIN)
    assert state.granted_minutes == minutes
    assert event.data["minutes"] == minutes


@pytest.mark.parametrize("minutes", [0, 0.5, 0.999, -1, 1440.5, 10_000, float("inf"), float("nan")])
def test_grant_time_refuses_minutes_out_of_bounds(minutes: float) -> None:
    state = reach(S.IN_PROGRESS)
    with pytest.raises(InvalidInput) as invalid:
        apply(state, GrantTime(minutes, "panne"), T0 + 5 * MIN)
    assert invalid.value.code == "invalid_minutes"


@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_grant_time_needs_a_reason(reason: str) -> None:
    with pytest.raises(InvalidInput) as invalid:
        apply(reach(S.IN_PROGRESS), GrantTime(10, reason), T0 + 5 * MIN)
    assert invalid.value.code == "reason_required"


# --- the table itself -----------------------------------------------------------------------


def test_the_table_check_holds() -> None:
    candidate._check_table()  # also ran at import
    assert not any(origin in candidate.FINAL for origin, _ in candidate.TRANSITIONS)


def test_the_table_check_finds_an_unreachable_status(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(candidate.TRANSITIONS, (S.REGISTERED, "finalize"))
    monkeypatch.delitem(candidate.TRANSITIONS, (S.PRESENT, "finalize"))
    with pytest.raises(AssertionError, match="absent"):
        candidate._check_table()


def test_the_table_check_finds_a_dead_end(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("reconnect", "authorize_resume", "end_by_invigilator", "finalize"):
        monkeypatch.delitem(candidate.TRANSITIONS, (S.DISCONNECTED, name))
    monkeypatch.setitem(
        candidate.TRANSITIONS, (S.IN_PROGRESS, "authorize_resume"), S.RESUME_AUTHORIZED
    )
    with pytest.raises(AssertionError, match="disconnected"):
        candidate._check_table()


def test_the_table_check_finds_a_way_out_of_a_final_status(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(candidate.TRANSITIONS, (S.FINISHED, "start"), S.IN_PROGRESS)
    with pytest.raises(AssertionError, match="final"):
        candidate._check_table()
